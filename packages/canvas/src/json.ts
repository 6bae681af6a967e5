/**
 * What counts as JSON in Celeriac: the one definition behind `parseCanvas`'s checks of args and
 * kwargs and behind {@link findJsonProblem}, which the runtime runs on task results. A value is
 * JSON when `JSON.parse(JSON.stringify(value))` gives it back unchanged, so everything that
 * `JSON.stringify` would silently drop, change or replace is refused, with the path to it.
 *
 * Keys and prototypes. A payload key can reach a prototype in two ways, and only those keys are
 * refused: `__proto__` (the accessor on `Object.prototype`; assigning to it replaces a prototype)
 * anywhere, and `constructor` when it holds an object or array — a naive deep merge follows
 * `target.constructor` to the `Object` (or `Array`) function, and from there `prototype` reaches
 * `Object.prototype` and any other key overwrites one of the constructor's statics. A
 * `constructor` holding a string, number, boolean or null cannot be walked into, and `prototype`
 * can only reach a prototype through such a `constructor` (plain data has no functions to hang
 * it on), so both are ordinary data keys.
 */
import { describe } from './internal/describe.js';
import { appendSegment } from './internal/paths.js';

/**
 * Deepest nesting Celeriac accepts: `parseCanvas` counts every canvas node and every non-empty
 * JSON array or object on the way down (the `tasks`/`header`/`link` lists and `options` objects
 * themselves do not count); the builders count the same way, and {@link findJsonProblem} counts
 * the arrays and objects of a result. Deeper values are refused before they can exhaust the stack
 * of this or any later consumer.
 *
 * @example
 * ```ts
 * let deep: unknown = 1;
 * for (let i = 0; i < MAX_DEPTH; i++) deep = [deep];
 * parseCanvas({ kind: 'signature', task: 'add', args: [deep] }); // throws CanvasError
 * findJsonProblem(deep); // { path: 'result[0][0]…', message: 'nested deeper than 200 levels' }
 * ```
 */
export const MAX_DEPTH = 200;

/**
 * The first reason a value is not JSON, from {@link findJsonProblem}.
 *
 * @example
 * ```ts
 * const problem: JsonProblem = { path: 'result.a[2]', message: 'expected JSON, got NaN' };
 * ```
 */
export interface JsonProblem {
  /** Where the offending value is, written as `CanvasError` paths are: `result.a[2]`, `result["my key"]`. */
  readonly path: string;
  /** What is wrong there, e.g. `expected JSON, got NaN`. */
  readonly message: string;
}

/**
 * Finds the first part of `value` that JSON cannot carry faithfully, without copying it: the check
 * to run before `JSON.stringify` on anything a user's code produced, such as a task's result.
 *
 * Refused, as `JSON.stringify` would silently drop or change them: `undefined` inside an array or
 * object, functions, symbols, `NaN` and `±Infinity`, bigints, anything but plain objects and arrays
 * (`Map`, `Set`, `Date`, `RegExp`, boxed primitives, typed arrays, class instances), objects and
 * arrays with a `toJSON` method or symbol keys, empty slots of sparse arrays, cycles, nesting
 * deeper than {@link MAX_DEPTH}, and the keys that can reach a prototype (see the module comment:
 * `__proto__`, and `constructor` holding an object or array). A top-level `undefined` is accepted:
 * what it means (Celery stores `None`) is the caller's business. `-0` is accepted and arrives as
 * `0`, as `parseCanvas` makes it. Properties `JSON.stringify` never reads (non-enumerable ones,
 * named properties of arrays) are not looked at.
 *
 * The walk is iterative, so no input can overflow the stack, and reads each property once (a
 * getter runs once here and again in `JSON.stringify`). It allocates nothing per scalar: checking a
 * 100 000-element array of numbers costs about as much as one pass over it.
 *
 * @param value - Anything.
 * @param root - What the path of a problem starts with: `result` gives `result.a[2]`; `''` gives `a[2]`.
 * @returns The first problem in depth-first order, or `undefined` when `value` is JSON.
 * @example
 * ```ts
 * findJsonProblem({ a: [1, 2, NaN] });        // { path: 'result.a[2]', message: 'expected JSON, got NaN' }
 * findJsonProblem(new Map(), 'value');        // { path: 'value', message: 'expected JSON, got a Map' }
 * findJsonProblem({ constructor: 'Point' });  // undefined: an ordinary key
 * ```
 */
export function findJsonProblem(value: unknown, root = 'result'): JsonProblem | undefined {
  switch (jsonShape(value)) {
    case 'leaf':
      return undefined;
    case 'invalid':
      return value === undefined ? undefined : { path: root, message: notJson(value) };
    case 'array':
    case 'object':
      return walk(value as object, root);
  }
}

/** Depth-first over containers with explicit stacks (one entry per open container), never recursion. */
function walk(top: object, root: string): JsonProblem | undefined {
  const containers: object[] = [];
  /** Keys of each open object, in `Object.keys` order; `undefined` for an array. */
  const keyLists: (readonly string[] | undefined)[] = [];
  /** Values of each open object, in the same order (one native pass, not a lookup per key); the array itself for an array. */
  const valueLists: (readonly unknown[])[] = [];
  /** Index of the child being looked at in each open container. */
  const positions: number[] = [];
  const problem = (message: string, depth = containers.length): JsonProblem => {
    let path = root;
    for (let d = 0; d < depth; d++) {
      const keys = keyLists[d];
      const i = positions[d]!;
      path = appendSegment(path, keys === undefined ? i : keys[i]!);
    }
    return { path, message };
  };

  let opening: object | undefined = top;
  while (opening !== undefined || containers.length > 0) {
    if (opening !== undefined) {
      if (containers.length >= MAX_DEPTH) {
        // Cycles are only looked for here, where they end up: the happy path pays nothing for them.
        const repeated = firstRepeat(containers, opening);
        return repeated === -1 ? problem(`nested deeper than ${MAX_DEPTH} levels`) : problem('circular reference', repeated);
      }
      const wrong = containerProblem(opening);
      if (wrong !== undefined) return problem(wrong);
      if (Array.isArray(opening)) {
        keyLists.push(undefined);
        valueLists.push(opening as readonly unknown[]);
      } else {
        const keys = Object.keys(opening);
        const values = Object.values(opening);
        // Only a getter that adds or removes properties while it is read can make these differ.
        if (values.length !== keys.length) return problem('expected JSON, got an object that changed while it was read');
        keyLists.push(keys);
        valueLists.push(values);
      }
      containers.push(opening);
      positions.push(-1);
      opening = undefined;
    }
    const depth = containers.length - 1;
    const container = containers[depth]!;
    const keys = keyLists[depth];
    const values = valueLists[depth]!;
    const length = values.length;
    // The children of one container in a tight loop, until one of them is a container to open.
    let i = positions[depth]! + 1;
    for (; i < length; i++) {
      const child = values[i];
      if (keys !== undefined) {
        const wrongKey = keyProblem(keys[i]!, child);
        if (wrongKey !== undefined) {
          positions[depth] = i;
          return problem(wrongKey);
        }
      }
      const shape = jsonShape(child);
      if (shape === 'leaf') continue;
      positions[depth] = i;
      if (shape === 'invalid') {
        return problem(keys === undefined && !(i in container) ? SPARSE_SLOT : notJson(child));
      }
      opening = child as object;
      break;
    }
    if (opening === undefined) {
      containers.pop();
      keyLists.pop();
      valueLists.pop();
      positions.pop();
    }
  }
  return undefined;
}

/** The depth at which the open containers (then `next`) first repeat one of their own: where a cycle closes; -1 for none. */
function firstRepeat(containers: readonly object[], next: object): number {
  const seen = new Set<object>();
  for (let d = 0; d < containers.length; d++) {
    if (seen.has(containers[d]!)) return d;
    seen.add(containers[d]!);
  }
  return seen.has(next) ? containers.length : -1;
}

/**
 * What a value is as JSON: a `leaf` (string, boolean, finite number, null), a plain `array`, a
 * plain `object` (literal, `JSON.parse` output or `Object.create(null)`), or `invalid`.
 *
 * @internal Shared by the parser and {@link findJsonProblem}; not exported from the package.
 */
export function jsonShape(value: unknown): 'leaf' | 'array' | 'object' | 'invalid' {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return 'leaf';
    case 'number':
      return Number.isFinite(value) ? 'leaf' : 'invalid';
    case 'object': {
      if (value === null) return 'leaf';
      const proto: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) return proto === Array.prototype ? 'array' : 'invalid';
      return proto === Object.prototype || proto === null ? 'object' : 'invalid';
    }
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      return 'invalid';
  }
}

/** @internal The message for a value whose {@link jsonShape} is `invalid`. */
export function notJson(value: unknown): string {
  return `expected JSON, got ${describe(value)}`;
}

/** @internal The message for a hole in a sparse array, which `JSON.stringify` turns into `null`. */
export const SPARSE_SLOT = 'expected JSON, got an empty slot (sparse array)';

/** @internal The message for a `__proto__` key, in payloads and in every structural object. */
export const PROTO_KEY = 'the key "__proto__" is not allowed (it could pollute prototypes)';

/**
 * Why `key` may not hold `value` in a JSON object: only the keys that can reach a prototype
 * (see the module comment).
 *
 * @internal Shared by the parser and {@link findJsonProblem}.
 */
export function keyProblem(key: string, value: unknown): string | undefined {
  if (key === '__proto__') return PROTO_KEY;
  if (key === 'constructor' && typeof value === 'object' && value !== null) {
    return 'the key "constructor" cannot hold an object or array (a naive deep merge would follow it to Object.prototype); rename the key';
  }
  return undefined;
}

/**
 * What is wrong with a plain array or object as a whole, though each of its values may be JSON:
 * `JSON.stringify` would drop its symbol keys, or call its `toJSON` method and send whatever
 * that returns.
 *
 * @internal Shared by the parser and {@link findJsonProblem}.
 */
export function containerProblem(container: object): string | undefined {
  const symbols = Object.getOwnPropertySymbols(container);
  const what = Array.isArray(container) ? 'an array' : 'an object';
  if (symbols.length > 0) return `expected JSON, got ${what} with a symbol key (${String(symbols[0])})`;
  if (typeof (container as { readonly toJSON?: unknown }).toJSON === 'function') {
    return `expected JSON, got ${what} with a toJSON method (JSON.stringify would send what it returns instead)`;
  }
  return undefined;
}

/**
 * How many levels `parseCanvas` counts for a JSON value: one for each non-empty array or object on
 * the deepest way down, none for scalars and empty containers (the parser shares one frozen
 * `[]`/`{}` for those and does not walk them).
 *
 * @internal For values already checked (so at most {@link MAX_DEPTH} deep): recursion is safe.
 */
export function jsonHeight(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let below = 0;
  let any = false;
  if (Array.isArray(value)) {
    for (const item of value as readonly unknown[]) {
      any = true;
      if (typeof item === 'object' && item !== null) below = Math.max(below, jsonHeight(item));
    }
  } else {
    for (const key of Object.keys(value)) {
      any = true;
      const item = (value as Readonly<Record<string, unknown>>)[key];
      if (typeof item === 'object' && item !== null) below = Math.max(below, jsonHeight(item));
    }
  }
  return any ? 1 + below : 0;
}
