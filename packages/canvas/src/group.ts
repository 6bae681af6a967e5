/**
 * `group(...)`: members run in parallel and the result is the list of their results in member
 * order (Celery's `group`).
 */
import { adopt, isEmpty } from './internal/values.js';
import { seal } from './internal/sealed.js';
import type { Canvas, Group } from './types.js';
import type { AnyCanvas, GroupAccepts, GroupResults } from './typing.js';

/**
 * Builds a group: the members run in parallel and its result is the list of their results, in
 * member order. Nested groups are flattened (their results are spliced into the list, as in
 * Celery); a nested group that carries options of its own is kept whole so those options still
 * apply to exactly its members (its results are spliced all the same). A chain member is not
 * flattened: it contributes its final result.
 *
 * @param members - The members, as arguments or as one array.
 * @returns A frozen group; typed members give a result tuple, an array gives an array.
 * @throws CanvasError when a member is not a canvas.
 * @example
 * ```ts
 * group(add.s(1, 1), upper.s('a'));      // Group<[], [number, string]>
 * group(items.map((i) => add.si(i, i))); // Group<readonly unknown[], number[]>
 * ```
 */
export function group<const T extends readonly AnyCanvas[]>(...members: T): Group<GroupAccepts<T>, GroupResults<T>>;
export function group<const T extends readonly AnyCanvas[]>(members: T): Group<GroupAccepts<T>, GroupResults<T>>;
export function group(...args: readonly unknown[]): Group {
  const items = args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly unknown[]) : args;
  const tasks = flatten(items.map((item, i) => adopt(item, ['tasks', i], 'group()')));
  return seal({ kind: 'group', tasks, options: {} });
}

/** Splices the members of option-less nested groups into the list, recursively. */
export function flatten(items: readonly Canvas[]): Canvas[] {
  const out: Canvas[] = [];
  const visit = (list: readonly Canvas[]): void => {
    // A loop, not push(...list): a group can have 100 000 members, more than a call takes arguments.
    for (const item of list) {
      if (item.kind === 'group' && isEmpty(item.options)) visit(item.tasks);
      else out.push(item);
    }
  };
  visit(items);
  return out;
}
