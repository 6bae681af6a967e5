/**
 * `group(...)`: members run in parallel and the result is the list of their results in member
 * order (Celery's `group`).
 */
import { adopt, isEmpty } from './internal/values.js';
import { seal } from './internal/sealed.js';
import type { Canvas, Group } from './types.js';
import type { AnyCanvas, GroupAccepts, GroupResults, MemberLineages } from './typing.js';

/**
 * Builds a group: the members run in parallel and its result is the list of their results, in
 * member order. A nested group stays a member, as in Celery's own data (`group(a, group(b, c))`
 * has two members), and its results are spliced into the list when it runs: the result is
 * `[a, b, c]`, and `compile` gives `b` and `c` their places 1 and 2 in the group. Keeping it
 * costs O(1) per nesting, where splicing the members at build time would copy them at every level;
 * nesting counts toward `MAX_DEPTH` as it does for parsed canvases. Only a lone option-less group
 * is returned as it is (`group(g)` is `g`), as Celery unwraps it. A chain member contributes its
 * final result.
 *
 * @param members - The members, as arguments or as one array.
 * @returns A frozen group; typed members give a result tuple, an array gives an array.
 * @throws CanvasError when a member is not a canvas, or the group would nest deeper than `MAX_DEPTH`.
 * @example
 * ```ts
 * group(add.s(1, 1), upper.s('a'));      // Group<[], [number, string]>
 * group(items.map((i) => add.si(i, i))); // Group<readonly unknown[], number[]>
 * ```
 */
export function group<const T extends readonly AnyCanvas[]>(...members: T): Group<GroupAccepts<T>, GroupResults<T>, MemberLineages<T>>;
export function group<const T extends readonly AnyCanvas[]>(members: T): Group<GroupAccepts<T>, GroupResults<T>, MemberLineages<T>>;
export function group(...args: readonly unknown[]): Group {
  const items = args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly unknown[]) : args;
  const tasks: Canvas[] = items.map((item, i) => adopt(item, ['tasks', i], 'group()'));
  const only = tasks.length === 1 ? tasks[0] : undefined;
  if (only !== undefined && only.kind === 'group' && isEmpty(only.options)) return only;
  return seal({ kind: 'group', tasks, options: {} }, [], 'group()');
}
