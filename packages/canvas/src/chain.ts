/**
 * `chain(...)`: steps run one after another, each receiving the previous result. The builder is
 * a left fold of one pure function, {@link join}, which holds Celery's composition rules
 * (CELERY-SEMANTICS §2.5), so every rule lives in one place and has one test.
 */
import { makeChord, unpack } from './chord.js';
import { adopt, pushDown } from './internal/values.js';
import { seal } from './internal/sealed.js';
import { immutable } from './signature.js';
import type { Canvas, Chain, Group, TaskOptions } from './types.js';
import type { AnyCanvas, ChainAccepts, CheckChain, Last, StepResult } from './typing.js';

/**
 * Builds a chain: each step runs after the previous one succeeded and receives its result as
 * the first argument (unless the step is immutable). Always returns a `chain` node, normalised by
 * Celery's rules (see {@link join}): nested chains are spliced in, a group followed by a step
 * becomes a chord, consecutive groups become nested chords, a step after a chord joins the chord's
 * body, a group of one member is unrolled, and empty groups after another step are skipped.
 *
 * Type check: each step must take the previous result as its one unbound parameter, or ignore it
 * (`.si()`); tsc reports a bad step with a `StepError` naming what came in and what was wanted.
 * A group built from an array of length one is unrolled too, which its type cannot show.
 *
 * @param steps - The steps, as arguments or as one array.
 * @returns A frozen chain typed `Chain<args of the first step, result of the last>`.
 * @throws CanvasError when a step is not a canvas.
 * @example
 * ```ts
 * chain(add.s(2, 2), add.s(4), add.s(8));         // Chain<[], number>: 16
 * chain(group(add.s(1, 1), add.s(2, 2)), tsum.s()); // one chord
 * ```
 */
export function chain(): Chain<[], null>;
export function chain<const S extends readonly [AnyCanvas, ...AnyCanvas[]]>(...steps: S & CheckChain<S>): Chain<ChainAccepts<S>, StepResult<Last<S>>>;
export function chain<const S extends readonly [AnyCanvas, ...AnyCanvas[]]>(steps: S & CheckChain<S>): Chain<ChainAccepts<S>, StepResult<Last<S>>>;
export function chain(steps: readonly AnyCanvas[]): Chain;
export function chain(...args: readonly unknown[]): Chain {
  const items = args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly unknown[]) : args;
  const steps: Canvas[] = [];
  items.forEach((item, i) => appendStep(steps, adopt(item, ['steps', i], 'chain()')));
  return seal({ kind: 'chain', tasks: steps, options: {} });
}

/** One fold step: replaces the last step with `join(last, next)`. Only mutates the caller's local list. */
function appendStep(steps: Canvas[], next: Canvas): void {
  const last = steps.pop();
  for (const step of join(last, next)) steps.push(step);
}

/**
 * Celery's `last | next` on chain steps: the steps that `last` (the chain so far ends with it;
 * `undefined` for an empty chain) followed by `next` become. Pure: builds new nodes and changes
 * nothing it is given. The rules, in order:
 * 1. a nested chain is spliced in step by step; its own options move to its steps as the
 *    compiler would apply them (first step; `taskId`/`link` last step; `linkError` every step);
 * 2. a group of one member is unrolled to that member (its options move onto the member, its
 *    `link` as immutable clones, as Celery does for a group's callbacks);
 * 3. an empty group after another step is skipped; first in a chain it stays (followed by a step
 *    it becomes a chord with an empty header, whose body receives `[]`);
 * 4. a group followed by anything becomes `chord(group, next)`; so group → group is
 *    `chord(g1, body = g2)`;
 * 5. a chord followed by anything but a chord takes it into its body (`body | next`, by these same
 *    rules), so consecutive groups nest into one chord; chords in a row stay a flat chain;
 * 6. otherwise `next` is appended.
 *
 * @param last - The step the chain so far ends with, or `undefined`.
 * @param next - The canvas to add.
 * @returns The steps replacing `last`: one or more.
 * @example
 * ```ts
 * join(group(a, b), c);          // [chord([a, b], c)]
 * join(chord([a], b), c);        // [chord([a], chain(b, c))]
 * join(x, chain(y, z));          // [x, y, z]
 * ```
 */
export function join(last: Canvas | undefined, next: Canvas): readonly Canvas[] {
  if (next.kind === 'chain') {
    const steps = last === undefined ? [] : [last];
    for (const step of unchain(next)) appendStep(steps, step);
    return steps;
  }
  if (next.kind === 'group' && next.tasks.length === 1) return join(last, unroll(next));
  if (next.kind === 'group' && next.tasks.length === 0) return last === undefined ? [next] : [last];
  if (last === undefined) return [next];
  if (last.kind === 'group') return [makeChord(unpack(last), next)];
  if (last.kind === 'chord' && next.kind !== 'chord') return [{ ...last, body: then(last.body, next) }];
  return [last, next];
}

/** `a | b` as one canvas (for a chord body): a chain if that takes several steps. */
function then(a: Canvas, b: Canvas): Canvas {
  if (a.kind === 'chain') {
    // Keep the body chain's own options; they still belong to it as a whole.
    const steps = [...a.tasks];
    appendStep(steps, b);
    return { ...a, tasks: steps };
  }
  const steps = join(a, b);
  return steps.length === 1 ? (steps[0] as Canvas) : { kind: 'chain', tasks: steps, options: {} };
}

/** A nested chain's steps, carrying the chain's own options where they apply. */
function unchain(inner: Chain): readonly Canvas[] {
  const { taskId, link, linkError, ...first } = inner.options;
  const lastIndex = inner.tasks.length - 1;
  return inner.tasks.map((step, i) => {
    const options: { -readonly [K in keyof TaskOptions]: TaskOptions[K] } = i === 0 ? { ...first } : {};
    if (i === lastIndex && taskId !== undefined) options.taskId = taskId;
    if (i === lastIndex && link !== undefined) options.link = link;
    if (linkError !== undefined) options.linkError = linkError;
    return pushDown(step, options);
  });
}

/** The only member of a group of one, with the group's options moved onto it. */
function unroll(one: Group): Canvas {
  const member = one.tasks[0] as Canvas;
  const { link, ...rest } = one.options;
  return pushDown(member, link === undefined ? rest : { ...rest, link: link.map((cb) => immutable(cb)) });
}
