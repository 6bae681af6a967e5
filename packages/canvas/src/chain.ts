/**
 * `chain(...)`: steps run one after another, each receiving the previous result. The builder is
 * a left fold of one pure function, {@link join}, which holds Celery's composition rules
 * (CELERY-SEMANTICS §2.5), so every rule lives in one place and has one test.
 */
import { makeChord, unpack } from './chord.js';
import { MAX_DEPTH } from './json.js';
import { NOTHING, combine, pushDown, toChainStep, toGroupMember } from './internal/placement.js';
import type { Path } from './internal/paths.js';
import { seal, tooDeep } from './internal/sealed.js';
import { adopt, isEmpty } from './internal/values.js';
import type { Canvas, Chain, Chord, Group } from './types.js';
import type { AnyCanvas, ChainAccepts, ChainLineage, CheckChain, Last, StepResult } from './typing.js';

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
 * @returns A frozen chain typed `Chain<args of the first step, result of the last, lineage>`: the
 *   lineage lists the results its steps create, each the `.parent` of the next (see `ChainLineage`).
 * @throws CanvasError when a step is not a canvas, or the chain would nest deeper than `MAX_DEPTH`
 *   (consecutive groups nest into chords).
 * @example
 * ```ts
 * chain(add.s(2, 2), add.s(4), add.s(8));         // Chain<[], number, [AsyncRes<number>, …]>: 16
 * chain(group(add.s(1, 1), add.s(2, 2)), tsum.s()); // one chord
 * ```
 */
export function chain(): Chain<[], null, []>;
export function chain<const S extends readonly [AnyCanvas, ...AnyCanvas[]]>(...steps: S & CheckChain<S>): Chain<ChainAccepts<S>, StepResult<Last<S>>, ChainLineage<S>>;
export function chain<const S extends readonly [AnyCanvas, ...AnyCanvas[]]>(steps: S & CheckChain<S>): Chain<ChainAccepts<S>, StepResult<Last<S>>, ChainLineage<S>>;
export function chain(steps: readonly AnyCanvas[]): Chain;
export function chain(...args: readonly unknown[]): Chain {
  const items = args.length === 1 && Array.isArray(args[0]) ? (args[0] as readonly unknown[]) : args;
  const fold = new Fold();
  const steps: Canvas[] = [];
  items.forEach((item, i) => {
    const path = ['steps', i];
    fold.appendStep(steps, adopt(item, path, 'chain()'), path);
  });
  return seal({ kind: 'chain', tasks: steps, options: {} }, [], 'chain()');
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
 * @throws CanvasError when rule 5 would nest chords deeper than `MAX_DEPTH`.
 * @example
 * ```ts
 * join(group(a, b), c);          // [chord([a, b], c)]
 * join(chord([a], b), c);        // [chord([a], chain(b, c))]
 * join(x, chain(y, z));          // [x, y, z]
 * ```
 */
export function join(last: Canvas | undefined, next: Canvas): readonly Canvas[] {
  return new Fold().join(last, next, 0, []);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One `chain()` call's fold. Rule 5 extends a chord's body at every later step; rebuilding the
 * body each time would copy its steps again and again (quadratic in the steps after a chord), so
 * the nodes this fold creates are extended in place until `chain()` seals them: they are new and
 * referenced only by the fold, so no caller can see them change. Everything it was given stays
 * untouched. The chords that rule 5 walks through are counted, and more than `MAX_DEPTH` of them
 * is refused before the walk could get deep, so each step costs at most `MAX_DEPTH` and the fold
 * is linear in its input.
 */
class Fold {
  /** Nodes this fold created and nobody else has seen yet: they may be extended in place. */
  private readonly owned = new WeakSet<object>();

  /** One fold step: replaces the last step with `join(last, next)`. Only mutates the caller's local list. */
  appendStep(steps: Canvas[], next: Canvas, path: Path, depth = 0): void {
    const end = steps[steps.length - 1];
    if (next.kind === 'signature' && end !== undefined && end.kind !== 'group' && end.kind !== 'chord') {
      steps.push(next); // rule 6, the common case, without the general path's allocations
      return;
    }
    const last = steps.pop();
    for (const step of this.join(last, next, depth, path)) steps.push(step);
  }

  /** {@link join}, where `depth` chords enclose `last` and `path` names the argument being added. */
  join(last: Canvas | undefined, next: Canvas, depth: number, path: Path): readonly Canvas[] {
    if (next.kind === 'chain') {
      const steps = last === undefined ? [] : [last];
      for (const step of unchain(next)) this.appendStep(steps, step, path, depth);
      return steps;
    }
    if (next.kind === 'group' && next.tasks.length === 1) return this.join(last, unroll(next), depth, path);
    if (next.kind === 'group' && next.tasks.length === 0) return last === undefined ? [next] : [last];
    if (last === undefined) return [next];
    if (last.kind === 'group') return [this.own(makeChord(unpack(last), next))];
    if (last.kind === 'chord' && next.kind !== 'chord') return [this.extend(last, next, depth + 1, path)];
    return [last, next];
  }

  /** Rule 5: the chord with `next` joined to its body. */
  private extend(chord: Chord, next: Canvas, depth: number, path: Path): Chord {
    if (depth > MAX_DEPTH) throw tooDeep(path, 'chain()', undefined);
    const body = this.then(chord.body, next, depth, path);
    if (!this.owned.has(chord)) return this.own({ ...chord, body });
    (chord as Mutable<Chord>).body = body;
    return chord;
  }

  /** `a | b` as one canvas (for a chord body): a chain if that takes several steps. */
  private then(a: Canvas, b: Canvas, depth: number, path: Path): Canvas {
    if (a.kind === 'chain') {
      // Keep the body chain's own options; they still belong to it as a whole.
      const body = this.owned.has(a) ? a : this.own({ ...a, tasks: [...a.tasks] });
      this.appendStep(body.tasks as Canvas[], b, path, depth);
      return body;
    }
    const steps = this.join(a, b, depth, path);
    return steps.length === 1 ? (steps[0] as Canvas) : this.own({ kind: 'chain', tasks: [...steps], options: {} });
  }

  private own<T extends Canvas>(node: T): T {
    this.owned.add(node);
    return node;
  }
}

/** A nested chain's steps, carrying the chain's own options where they apply. */
function unchain(inner: Chain): readonly Canvas[] {
  if (isEmpty(inner.options)) return inner.tasks;
  const placement = combine(inner.options, NOTHING);
  const count = inner.tasks.length;
  return inner.tasks.map((step, i) => pushDown(step, toChainStep(placement, i, count)));
}

/** The only member of a group of one, with the group's options moved onto it. */
function unroll(one: Group): Canvas {
  const placement = combine(one.options, NOTHING);
  // The group dissolves, so its member holds its result, and its id.
  return pushDown(one.tasks[0] as Canvas, { ...toGroupMember(placement, 0), taskId: placement.taskId });
}
