/**
 * Celery's `xmap`, `xstarmap` and `chunks`: apply one task to many inputs inside ONE invocation
 * (map, starmap), or split the inputs into parts run in parallel (chunks).
 */
import { CanvasError } from './errors.js';
import { checkAt, formatPath } from './internal/values.js';
import { seal } from './internal/sealed.js';
import { signature } from './signature.js';
import type { TaskRef } from './signature.js';
import type { Group, Json, Signature } from './types.js';
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
 * @throws CanvasError when the task name is empty or an item is not JSON.
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
  return apply('celery.map', task, it);
}

/**
 * One immutable signature that calls `task(...args)` for each argument list in turn, in one
 * worker, and returns the list of results (Celery's `task.starmap(argLists)`, `celery.starmap`).
 *
 * @param task - A task reference, or a task name.
 * @param argLists - One argument list (a JSON array) per call.
 * @returns A frozen immutable signature `{ task: 'celery.starmap', kwargs: { task, it } }`.
 * @throws CanvasError when the task name is empty or an element is not a JSON array.
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
  return apply('celery.starmap', task, argumentLists(argLists));
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
  const tasks: Signature[] = [];
  for (let start = 0; start < lists.length; start += n) {
    tasks.push(apply('celery.starmap', task, lists.slice(start, start + n)));
  }
  return seal({ kind: 'group', tasks, options: {} });
}

function argumentLists(argLists: readonly unknown[]): readonly Json[] {
  return checkAt(['argLists'], (parser) => {
    if (!Array.isArray(argLists)) return parser.fail('expected an array of argument lists');
    return argLists.map((args, i) => parser.at(i, () => parser.jsonArray(args)));
  });
}

/** The `celery.map`/`celery.starmap` signature; the inner signature is stored as plain JSON. */
function apply(name: string, task: string | { readonly name: string }, it: readonly Json[]): Signature {
  const inner = signature(typeof task === 'object' && task !== null ? task.name : task);
  // A frozen canvas is plain JSON, so it can sit in kwargs as is.
  const kwargs = { task: inner as unknown as Json, it };
  return seal({ kind: 'signature', task: name, args: [], kwargs, options: {}, immutable: true });
}
