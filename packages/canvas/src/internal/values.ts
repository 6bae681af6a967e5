/**
 * How the builders take ownership of their inputs and hand out frozen values.
 *
 * A value one of our builders returned is deeply frozen and valid, so it is reused as is:
 * `sealed.ts` remembers every node we sealed (with its height), and re-checking a 100 000-member group each time it is
 * put into a chain would make composition quadratic. Anything else (an object literal typed as a
 * `Canvas`, a parsed payload, a value frozen by someone else) goes through the same checks as
 * `parseCanvas`, which copy it, so a builder never freezes, keeps or changes an object it was given,
 * and never lets through a value that the runtime's parser would reject later.
 */
import { CanvasError } from '../errors.js';
import { CanvasParser } from '../parse.js';
import { describe } from './describe.js';
import { formatPath, type Path } from './paths.js';
import { isSealed } from './sealed.js';
import type { Canvas, TaskOptions } from '../types.js';

/** Runs a parser check with `path` as the current location, so its errors name that path. */
export function checkAt<T>(path: Path, check: (parser: CanvasParser) => T): T {
  const parser = new CanvasParser();
  const run = path.reduceRight<() => T>(
    (inner, segment) => () => parser.at(segment, inner),
    () => check(parser),
  );
  return run();
}

/**
 * Takes ownership of a builder argument that should be a canvas: returns it if we sealed it,
 * otherwise a checked, deeply frozen copy.
 *
 * @throws CanvasError naming `path` when the value is not a valid canvas.
 */
export function adopt(value: unknown, path: Path, builder: string): Canvas {
  if (isSealed(value)) return value;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('kind' in value)) {
    throw new CanvasError(
      formatPath(path),
      `${builder} expected a canvas, got ${describe(value)}: pass values made by signature(), a task's ` +
        `.s()/.si(), chain(), group(), chord(), map(), starmap() or chunks()`,
    );
  }
  return checkAt(path, (parser) => parser.canvas(value));
}

/**
 * Checks an options object and returns a frozen copy. Keys whose value is `undefined` are dropped
 * first: as in Celery, an option given as "none" does not override anything.
 */
export function checkOptions(value: unknown, path: Path): TaskOptions {
  const raw = value === undefined || value === null ? {} : value;
  return checkAt(path, (parser) => parser.options(withoutUndefined(raw)));
}

/** A copy of a plain object without its `undefined` values; anything else is returned for the parser to reject. */
export function withoutUndefined(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    // defineProperty, not assignment: a "__proto__" key must reach the parser as a key, to be rejected.
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Whether an options object sets nothing. */
export function isEmpty(options: TaskOptions): boolean {
  return Object.keys(options).length === 0;
}
