/**
 * Where a container's options land (CELERY-SEMANTICS §2.3 and §2.10), in one place: the compiler
 * uses it to give every node its effective options, and `chain()` uses it when normalisation
 * dissolves a container (a nested chain is spliced, a group of one unrolled) and its options must
 * move onto its parts exactly as the compiler would have applied them.
 *
 * A {@link Placement} is what a container hands one of its parts. Its plain options act as
 * call-time options there (they override the part's own, §2.3); `taskId` names the result of
 * whichever part holds the container's result; callbacks add up, the part's own first.
 */
import { EMPTY_ARRAY, EMPTY_OBJECT } from './empty.js';
import { immutable } from '../signature.js';
import type { Canvas, TaskOptions } from '../types.js';

/** The options of a node that are not callbacks or its result id. */
export type PlainOptions = Omit<TaskOptions, 'taskId' | 'link' | 'linkError'>;

/** What a container hands down to one of its parts. */
export interface Placement {
  /** Applied as call-time options: they override the part's own. */
  readonly plain: PlainOptions;
  /** The id of the container's result, for the part that holds it. */
  readonly taskId: string | undefined;
  /** Success callbacks, for the part that holds the container's result. */
  readonly link: readonly Canvas[];
  /** Error callbacks, for every part that can fail on the container's behalf. */
  readonly linkError: readonly Canvas[];
}

/** A placement that hands nothing down: what the root of a canvas (and every callback) starts from. */
export const NOTHING: Placement = Object.freeze({
  plain: EMPTY_OBJECT,
  taskId: undefined,
  link: EMPTY_ARRAY,
  linkError: EMPTY_ARRAY,
});

/**
 * A node's own options with what its container hands it: the container's plain options and
 * `taskId` win (§2.3), callback lists are joined, the node's own first.
 */
export function combine(own: TaskOptions, outer: Placement): Placement {
  const { taskId, link = EMPTY_ARRAY, linkError = EMPTY_ARRAY, ...plain } = own;
  return {
    plain: hasKeys(outer.plain) ? { ...plain, ...outer.plain } : plain,
    taskId: outer.taskId ?? taskId,
    link: concat(link, outer.link),
    linkError: concat(linkError, outer.linkError),
  };
}

/**
 * What a chain hands the step at `position` of its `count` steps: its plain options go to the
 * first step only; `taskId` and `link` to the last, which holds the chain's result; `linkError`
 * to every step (only the failing one fires).
 */
export function toChainStep(chain: Placement, position: number, count: number): Placement {
  const last = position === count - 1;
  return {
    plain: position === 0 ? chain.plain : EMPTY_OBJECT,
    taskId: last ? chain.taskId : undefined,
    link: last ? chain.link : EMPTY_ARRAY,
    linkError: chain.linkError,
  };
}

/**
 * What a group hands its member at `index`: its plain options to every member; its `link` to the
 * first member only, as immutable clones, so it fires once and receives nothing; its `linkError`
 * to every member. Its `taskId` is the group's own id and goes to no member.
 */
export function toGroupMember(group: Placement, index: number): Placement {
  return {
    plain: group.plain,
    taskId: undefined,
    link: index === 0 && group.link.length > 0 ? group.link.map((callback) => immutable(callback)) : EMPTY_ARRAY,
    linkError: group.linkError,
  };
}

/** What a chord hands each header member: its plain options only. */
export function toChordHeader(chord: Placement): Placement {
  return { plain: chord.plain, taskId: undefined, link: EMPTY_ARRAY, linkError: EMPTY_ARRAY };
}

/**
 * What a chord hands its body, which holds the chord's result: everything, so `taskId`, `link`
 * and `linkError` (once per chord failure) belong to the body.
 */
export function toChordBody(chord: Placement): Placement {
  return chord;
}

/**
 * A member with a dissolved container's placement applied to its own options, as the compiler
 * would have applied it. Returns the member itself when there is nothing to apply.
 */
export function pushDown(member: Canvas, placement: Placement): Canvas {
  const { plain, taskId, link, linkError } = placement;
  if (!hasKeys(plain) && taskId === undefined && link.length === 0 && linkError.length === 0) return member;
  // The same rule as `combine`, written onto the member's options so that its own keys stay as they were.
  const options: { -readonly [K in keyof TaskOptions]: TaskOptions[K] } = { ...member.options, ...plain };
  if (taskId !== undefined) options.taskId = taskId;
  if (link.length > 0) options.link = concat(member.options.link ?? EMPTY_ARRAY, link);
  if (linkError.length > 0) options.linkError = concat(member.options.linkError ?? EMPTY_ARRAY, linkError);
  return { ...member, options };
}

function concat(own: readonly Canvas[], outer: readonly Canvas[]): readonly Canvas[] {
  if (outer.length === 0) return own;
  return own.length === 0 ? outer : [...own, ...outer];
}

function hasKeys(object: object): boolean {
  return Object.keys(object).length > 0;
}
