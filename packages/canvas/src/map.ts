/**
 * Celery's `xmap`, `xstarmap` and `chunks`: apply one task to many inputs inside ONE invocation
 * (map, starmap), or split the inputs into parts run in parallel (chunks).
 */
import { freeze } from 'immer';
import { CanvasError } from './errors.js';
import { EMPTY_ARRAY, EMPTY_OBJECT } from './internal/empty.js';
import { formatPath } from './internal/paths.js';
import { seal } from './internal/sealed.js';
import { checkAt } from './internal/values.js';
import { signature } from './signature.js';
import type { TaskRef } from './signature.js';
import { MAP_TASK, STARMAP_TASK } from './task-name.js';
import type { Canvas, Group, Json, Signature, TaskOptions } from './types.js';
import type { ImmutableSignature, NeedOf } from './typing.js';

/** What `map` passes to each call: the task's one parameter (anything for an untyped task). */
type MapItem<TArgs extends readonly unknown[]> =
  NeedOf<TArgs> extends [infer P] ? P : NeedOf<TArgs> extends 'unchecked' ? unknown : never;

/**
 * One immutable signature that calls `task(item)` for each item in turn, in one worker, and
 * returns the list of results (Celery's `task.map(items)`, task `celery.map`).
 *
 * @param task - A task reference taking one argument, or a task name.
 * @param items - The inputs (JSON), one call each.
 * @returns A frozen immutable signature `{ task: 'celery.map', kwargs: { task, it } }`.
 * @throws CanvasError when the task name is empty or reserved (`celeriac.`), or an item is not JSON.
 * @example
 * ```ts
 * map(tsum, [[1, 2], [3, 4]]); // [3, 7] when run
 * map<number>('tasks.tsum', [[1, 2]]);
 * ```
 */
export function map<TArgs extends readonly unknown[], TResult>(
  task: TaskRef<TArgs, TResult>,
  items: readonly MapItem<TArgs>[],
): ImmutableSignature<TResult[]>;
export function map<TResult = unknown>(task: string, items: readonly Json[]): ImmutableSignature<TResult[]>;
export function map(task: string | { readonly name: string }, items: readonly unknown[]): Signature {
  const it = checkAt(['items'], (parser) => parser.jsonArray(items));
  return seal(mapSignature(MAP_TASK, mappedTask(task), it), [], 'map()');
}

/**
 * One immutable signature that calls `task(...args)` for each argument list in turn, in one
 * worker, and returns the list of results (Celery's `task.starmap(argLists)`, `celery.starmap`).
 *
 * @param task - A task reference, or a task name.
 * @param argLists - One argument list (a JSON array) per call.
 * @returns A frozen immutable signature `{ task: 'celery.starmap', kwargs: { task, it } }`.
 * @throws CanvasError when the task name is empty or reserved (`celeriac.`), or an element is not a
 *   JSON array.
 * @example
 * ```ts
 * starmap(add, [[1, 1], [2, 2]]); // [2, 4] when run
 * ```
 */
export function starmap<TArgs extends readonly unknown[], TResult>(
  task: TaskRef<TArgs, TResult>,
  argLists: readonly Readonly<TArgs>[],
): ImmutableSignature<TResult[]>;
export function starmap<TResult = unknown>(task: string, argLists: readonly (readonly Json[])[]): ImmutableSignature<TResult[]>;
export function starmap(task: string | { readonly name: string }, argLists: readonly unknown[]): Signature {
  const it = argumentLists(argLists);
  return seal(mapSignature(STARMAP_TASK, mappedTask(task), it), [], 'starmap()');
}

/**
 * Splits `argLists` into consecutive parts of at most `n` and runs them in parallel, each part as
 * one {@link starmap} (Celery's `task.chunks(it, n)`): the result is a list of lists.
 *
 * @param task - A task reference, or a task name.
 * @param argLists - One argument list (a JSON array) per call.
 * @param n - The largest part size: a positive integer.
 * @returns A frozen group of `celery.starmap` signatures (empty when `argLists` is).
 * @throws CanvasError when `n` is not a positive integer, or as {@link starmap}.
 * @example
 * ```ts
 * chunks(add, [[1, 1], [2, 2], [3, 3]], 2); // [[2, 4], [6]] when run
 * ```
 */
export function chunks<TArgs extends readonly unknown[], TResult>(
  task: TaskRef<TArgs, TResult>,
  argLists: readonly Readonly<TArgs>[],
  n: number,
): Group<readonly unknown[], TResult[][]>;
export function chunks<TResult = unknown>(
  task: string,
  argLists: readonly (readonly Json[])[],
  n: number,
): Group<readonly unknown[], TResult[][]>;
export function chunks(task: string | { readonly name: string }, argLists: readonly unknown[], n: number): Group {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new CanvasError(
      formatPath(['n']),
      `chunks() expected a positive integer part size, got ${String(n)}: pass how many calls each part may hold`,
    );
  }
  const lists = argumentLists(argLists);
  const parts = chunkParts(mappedTask(task), lists, n);
  return seal({ kind: 'group', tasks: parts, options: {} }, [], 'chunks()');
}

function argumentLists(argLists: readonly unknown[]): readonly Json[] {
  return checkAt(['argLists'], (parser) => {
    if (!Array.isArray(argLists)) return parser.fail('expected an array of argument lists');
    return argLists.map((args, i) => parser.at(i, () => parser.jsonArray(args)));
  });
}

/** The signature of the task being mapped, checked like any other (a reserved name is refused). */
function mappedTask(task: string | { readonly name: string }): Signature {
  return signature(typeof task === 'object' && task !== null ? task.name : task);
}

/**
 * A `celery.map`/`celery.starmap` signature over `inner` and the items `it`, frozen (not sealed):
 * the one place this shape is built, for the builders here and for `fromCelery`.
 *
 * @internal Not exported from the package.
 */
export function mapSignature(
  name: typeof MAP_TASK | typeof STARMAP_TASK,
  inner: Canvas,
  it: readonly Json[],
  options: TaskOptions = EMPTY_OBJECT,
): Signature {
  // A frozen canvas is plain JSON, so the mapped task can sit in kwargs as is.
  const kwargs = freeze({ task: inner as unknown as Json, it: freeze(it) });
  return freeze({ kind: 'signature', task: name, args: EMPTY_ARRAY, kwargs, options, immutable: true });
}

/**
 * Celery's `chunks`: the argument lists cut into consecutive parts of at most `n`, one
 * `celery.starmap` each (none when there are no argument lists), for {@link chunks} and
 * `fromCelery`.
 *
 * @internal Not exported from the package.
 */
export function chunkParts(inner: Canvas, argLists: readonly Json[], n: number): Signature[] {
  const parts: Signature[] = [];
  for (let start = 0; start < argLists.length; start += n) {
    parts.push(mapSignature(STARMAP_TASK, inner, freeze(argLists.slice(start, start + n))));
  }
  return parts;
}
