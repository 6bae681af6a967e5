/**
 * Compile-time checking of canvases. Every canvas carries two phantom types (see `Typed` in
 * `types.ts`): `TAccepts`, the arguments it still takes when it runs, and `TResult`, what it
 * produces. Celery passes a step's result to the next step as its first positional argument, so a
 * step fits after another when it has exactly one unbound parameter and the previous result is
 * assignable to it, or when it ignores its input (an immutable `.si()` signature).
 *
 * Conventions the checker relies on:
 * - a tuple `TAccepts` is checked; a non-tuple one (`readonly unknown[]`, `number[]`) is unchecked
 *   and accepts anything. Untyped `signature('x')` is `Signature<readonly unknown[], unknown>`;
 * - an `unknown` previous result is unchecked: any next step accepts it;
 * - an immutable signature has `TAccepts = []` and the literal type `immutable: true`; containers
 *   have no immutable flag, so a container whose entry ignores its input (a chain starting with
 *   `.si()`, a group of `.si()` members) accepts `readonly unknown[]`, i.e. anything.
 *
 * Containers also carry the {@link Lineage} of the results they create (see `types.ts`), from
 * which the runtime types `apply`'s result and its `.parent` links: {@link LineageOf},
 * {@link ChainLineage}, {@link ChordLineage}.
 *
 * Everything here is a plain conditional type over tuples, tail-recursive where it walks one,
 * so a 20-step chain checks in a few thousand instantiations and errors stay readable.
 */
import type { AnyRes, AsyncRes, Canvas, Chain, Chord, Group, GroupRes, Lineage, Signature, Typed } from './types.js';

/**
 * Any signature, whatever its phantom types: use it as a constraint.
 *
 * @example
 * ```ts
 * function retry<S extends AnySignature>(sig: S): S { return withOptions(sig, { retries: 3 }); }
 * ```
 */
export type AnySignature = Signature<readonly unknown[], unknown>;

/**
 * Any canvas value, whatever its phantom types: use it as a constraint.
 *
 * @example
 * ```ts
 * function describe(canvas: AnyCanvas): string { return canvas.kind; }
 * ```
 */
export type AnyCanvas = Canvas;

/**
 * The arguments a canvas still takes when it runs (its `TAccepts`).
 *
 * @example
 * ```ts
 * const add = defineTask<[x: number, y: number], number>('add');
 * const addFour = add.s(4);
 * type A = InferArgs<typeof addFour>; // [x: number]
 * ```
 */
export type InferArgs<C> = C extends Typed<infer TAccepts, unknown> ? TAccepts : never;

/**
 * What a canvas produces when it runs (its `TResult`); for a group, the tuple of member results.
 *
 * @example
 * ```ts
 * type R = InferResult<typeof flow>; // number
 * ```
 */
export type InferResult<C> = C extends Typed<readonly unknown[], infer TResult> ? TResult : never;

/**
 * An immutable signature (`.si()`, `immutable(sig)`): it ignores the previous result and partial
 * arguments, so it fits anywhere in a chain. The literal `immutable: true` is what tells it apart
 * from a partial signature whose arguments are all bound.
 *
 * @example
 * ```ts
 * const s: ImmutableSignature<number> = add.si(2, 2);
 * ```
 */
export interface ImmutableSignature<TResult = unknown> extends Signature<[], TResult> {
  readonly immutable: true;
}

declare const stepError: unique symbol;

/**
 * Stands in for a canvas that does not fit where it was placed. No value has this type, so the
 * call fails to compile and tsc prints the message, the type that came in (`got`) and the type
 * the step wanted (`want`).
 *
 * @example
 * ```ts
 * // error: ... is not assignable to ... StepError<"the previous result is not assignable to
 * //        the first unbound parameter", number, string>
 * chain(add.s(2, 2), upper.s());
 * ```
 */
export interface StepError<TMessage extends string, TGot, TWant> {
  readonly [stepError]: TMessage;
  readonly got: TGot;
  readonly want: TWant;
}

/**
 * How a canvas's `TAccepts` uses an incoming value: `'unchecked'` (accepts anything), `'none'`
 * (no parameter left), `'many'` (more than one required parameter left) or `[P]` (exactly one
 * parameter to fill, of type `P`). Wrapped in `[...]` so a union `TAccepts` is not distributed.
 */
export type NeedOf<TAccepts extends readonly unknown[]> = number extends TAccepts['length']
  ? 'unchecked'
  : [TAccepts] extends [readonly []]
    ? 'none'
    : [TAccepts] extends [readonly [unknown, unknown, ...unknown[]]]
      ? 'many'
      : [TAccepts[0]];

/** {@link NeedOf} for a canvas; an immutable signature ignores its input (`'ignored'`). */
export type Need<C> = C extends { readonly kind: 'signature'; readonly immutable: true }
  ? 'ignored'
  : NeedOf<InferArgs<C>>;

/**
 * What a canvas accepts when something is prepended to all of it: `readonly unknown[]` (anything)
 * for an immutable signature, its `TAccepts` otherwise. Used for the `TAccepts` of containers.
 */
export type AcceptsOf<C> = C extends { readonly kind: 'signature'; readonly immutable: true }
  ? readonly unknown[]
  : InferArgs<C>;

/**
 * Whether a result is unchecked: `unknown`, or a list with an `unknown` element (a group or
 * chord header with an untyped member), so an untyped signature stays usable anywhere.
 */
export type IsUnchecked<T> = unknown extends T
  ? true
  : [T] extends [readonly unknown[]]
    ? unknown extends T[number]
      ? true
      : false
    : false;

/**
 * `C` if it can receive `TPrev` as its incoming value, else a {@link StepError} saying why.
 * `TSource` names the incoming value in the message.
 */
export type FitsAfter<C, TPrev, TSource extends string = 'the previous result'> =
  Need<C> extends 'ignored' | 'unchecked'
    ? C
    : IsUnchecked<TPrev> extends true
      ? C
      : Need<C> extends [infer P]
        ? [TPrev] extends [P]
          ? C
          : StepError<`${TSource} is not assignable to the first unbound parameter`, TPrev, P>
        : Need<C> extends 'none'
          ? StepError<
              `no parameter is left unbound for ${TSource}: bind one argument fewer, or use .si() to ignore it`,
              TPrev,
              InferArgs<C>
            >
          : StepError<
              `more than one parameter is unbound, but only ${TSource} is passed in: bind the others`,
              TPrev,
              InferArgs<C>
            >;

/**
 * What a chain step hands to the next step. A group of exactly one member is unrolled inside a
 * chain (Celery's "group unrolling"), so it hands on its member's result, not a 1-tuple.
 */
export type StepResult<C> = C extends { readonly kind: 'group' }
  ? InferResult<C> extends readonly [infer Only]
    ? Only
    : InferResult<C>
  : InferResult<C>;

/**
 * Checks chain steps pairwise: the result is `S` with every step that does not fit after its
 * predecessor replaced by a {@link StepError}. Tail-recursive, so long chains stay cheap. Used as `...steps: S & CheckChain<S>`, so a bad
 * step makes the call fail at that argument with the error's message.
 */
export type CheckChain<
  S extends readonly unknown[],
  TPrev = unknown,
  TOut extends readonly unknown[] = [],
> = S extends readonly [infer H, ...infer Rest]
  ? CheckChain<Rest, StepResult<H>, [...TOut, TOut extends readonly [] ? H : FitsAfter<H, TPrev>]>
  : number extends S['length']
    ? [...TOut, ...S] // the variadic tail of `[A, ...B[]]`: its length is unknown, so it is not checked
    : TOut;

/**
 * The {@link Lineage} of a canvas applied as it is (alone, as a chord body): a signature creates
 * one `AsyncResult`, a group one `GroupResult` (its members hang off no parent), a chain and a
 * chord carry theirs.
 *
 * @example
 * ```ts
 * type L = LineageOf<typeof flow>; // [AsyncRes<number>, AsyncRes<number>, AsyncRes<number>]
 * ```
 */
export type LineageOf<C> =
  // Values are bound with `infer`, not written `AsyncRes<InferResult<C>>`: tsc then builds the
  // very type a hand-written `AsyncRes<number>` is, so `toEqualTypeOf` can compare lineages.
  C extends Signature<readonly unknown[], infer TResult>
  ? [AsyncRes<TResult>]
  : C extends Group<readonly unknown[], infer TResult>
    ? [GroupRes<TResult>]
    : C extends Chain<readonly unknown[], unknown, infer TLineage>
      ? TLineage
      : C extends Chord<readonly unknown[], unknown, infer TLineage>
        ? TLineage
        : Lineage;

/**
 * The {@link Lineage} a canvas adds as a chain step: as applied, except that a group of one
 * member is that member (Celery unrolls it), and a group of unknown size may be either.
 */
export type StepLineage<C> =
  C extends Group<readonly unknown[], infer TResult, infer TMembers>
    ? number extends TMembers['length']
      ? [AnyRes<TResult>]
      : TMembers extends readonly [infer Only extends Lineage]
        ? Only
        : [GroupRes<TResult>]
    : LineageOf<C>;

/** What a group keeps of its members: the {@link StepLineage} of each (a tuple for a tuple). */
export type MemberLineages<T extends readonly unknown[]> = { -readonly [K in keyof T]: StepLineage<T[K]> };

/**
 * The {@link Lineage} of a chain of these steps: their lineages in order, as `chain()` normalises
 * them — a nested chain's are spliced in, a group followed by a step becomes a chord (whose header
 * group comes first, as a group step's result does), and a step that is an empty group is dropped
 * after another step. An untyped step makes the whole lineage unknown.
 */
export type ChainLineage<S extends readonly unknown[], TOut extends Lineage = []> =
  S extends readonly [infer H, ...infer Rest]
    ? StepLineage<H> extends infer TStep extends Lineage
      ? number extends TStep['length']
        ? Lineage
        : ChainLineage<Rest, TOut extends readonly [] ? TStep : [...TOut, ...WithoutEmptyGroup<TStep>]>
      : Lineage
    : number extends S['length']
      ? Lineage
      : TOut;

/** Celery skips an empty group after another chain step: it adds nothing. */
type WithoutEmptyGroup<TStep extends Lineage> = TStep extends readonly [GroupRes<readonly []>] ? [] : TStep;

/** The {@link Lineage} of a chord: the header's group result, then what the body creates. */
export type ChordLineage<H, B> = HeaderResult<H> extends infer THeader ? [GroupRes<THeader>, ...LineageOf<B>] : never;

/** The last element of a tuple. */
export type Last<S extends readonly unknown[]> = S extends readonly [...unknown[], infer L] ? L : never;

/** What `chain(...steps)` accepts: what its first step accepts (anything if that step is immutable). */
export type ChainAccepts<S extends readonly unknown[]> = S extends readonly [infer First, ...unknown[]]
  ? AcceptsOf<First>
  : [];

/** One member's contribution to a group's result list: a nested group's results are spliced flat. */
type Spread<C> = C extends { readonly kind: 'group' }
  ? InferResult<C> extends infer R extends readonly unknown[]
    ? R
    : unknown[]
  : [InferResult<C>];

/**
 * The result list of a group (or chord header) with these members: a tuple for a tuple of
 * members, an array for an array.
 */
export type GroupResults<T extends readonly unknown[], TOut extends readonly unknown[] = []> =
  number extends T['length']
    ? Spread<T[number]>[number][]
    : T extends readonly [infer H, ...infer Rest]
      ? GroupResults<Rest, [...TOut, ...Spread<H>]>
      : TOut;

/**
 * What a group (or chord header) accepts: every member receives the same incoming value, so it
 * must fit each member that uses it (an intersection). Members that ignore it do not count; if
 * all do, the group accepts anything. A member that cannot take exactly one value makes the group
 * inherit its `TAccepts`, so the checker reports that member's problem.
 */
export type GroupAccepts<
  T extends readonly unknown[],
  TAcc = unknown,
  TUsed extends boolean = false,
> = number extends T['length']
  ? AcceptsOf<T[number]>
  : T extends readonly [infer H, ...infer Rest]
    ? Need<H> extends 'ignored' | 'unchecked'
      ? GroupAccepts<Rest, TAcc, TUsed>
      : Need<H> extends [infer P]
        ? GroupAccepts<Rest, TAcc & P, true>
        : InferArgs<H>
    : TUsed extends true
      ? [TAcc]
      : readonly unknown[];

/** A chord header: an array of canvases or a group. */
export type Header = readonly AnyCanvas[] | Group<readonly unknown[], unknown>;

/** The list a chord body receives from this header. */
export type HeaderResult<H> = H extends { readonly kind: 'group' }
  ? InferResult<H>
  : H extends readonly unknown[]
    ? GroupResults<H>
    : never;

/** What a chord with this header accepts (partial arguments go to every header member). */
export type HeaderAccepts<H> = H extends { readonly kind: 'group' }
  ? InferArgs<H>
  : H extends readonly unknown[]
    ? GroupAccepts<H>
    : never;

/**
 * Every way to bind a suffix of `P` (Celery prepends the incoming value, so `.s()` binds the
 * trailing parameters): `[x, y]`, `[y]` and `[]` for `[x, y]`.
 */
export type Suffixes<P extends readonly unknown[]> = P extends readonly [unknown, ...infer R]
  ? P | Suffixes<R>
  : P;

/** Every way to bind a prefix of `P` (what `partial` prepends): `[x, y]`, `[x]` and `[]` for `[x, y]`. */
export type Prefixes<P extends readonly unknown[]> = P | RequiredPrefixes<Required<P>>;

type RequiredPrefixes<P extends readonly unknown[]> = P extends readonly [...infer H, unknown]
  ? P | RequiredPrefixes<H>
  : P;

/**
 * `P` without as many trailing items as `B` has, counted by length so that literal arguments do
 * not matter. Optional parameters become required once a later one is bound. A non-tuple `P` is
 * returned as is (unchecked).
 */
export type DropLast<P extends readonly unknown[], B extends readonly unknown[]> = number extends P['length']
  ? P
  : B extends readonly []
    ? P
    : DropLastN<Required<P>, B>;

type DropLastN<P extends readonly unknown[], B extends readonly unknown[]> = B extends readonly [
  unknown,
  ...infer BR,
]
  ? P extends readonly [...infer H, unknown]
    ? DropLastN<H, BR>
    : []
  : P;

/** `P` without as many leading items as `B` has (what remains after `partial` prepends `B`). */
export type DropFirst<P extends readonly unknown[], B extends readonly unknown[]> = number extends P['length']
  ? P
  : B extends readonly [unknown, ...infer BR]
    ? P extends readonly [unknown?, ...infer PR]
      ? DropFirst<PR, BR>
      : []
    : P;

/** The same kind of canvas with another `TAccepts`, the same result and the same lineage. */
export type WithAccepts<C, TAccepts extends readonly unknown[]> = C extends { readonly kind: 'signature' }
  ? Signature<TAccepts, InferResult<C>>
  : C extends Chain<readonly unknown[], infer TResult, infer TLineage>
    ? Chain<TAccepts, TResult, TLineage>
    : C extends Group<readonly unknown[], infer TResult, infer TMembers>
      ? Group<TAccepts, TResult, TMembers>
      : C extends Chord<readonly unknown[], infer TResult, infer TLineage>
        ? Chord<TAccepts, TResult, TLineage>
        : never;

/** The type of `immutable(c)`: a signature becomes an {@link ImmutableSignature}, a container accepts anything. */
export type ImmutableOf<C> = C extends { readonly kind: 'signature' }
  ? ImmutableSignature<InferResult<C>>
  : WithAccepts<C, readonly unknown[]>;

/** The type of `partial(c, args)`: the prepended arguments are no longer accepted. Immutable signatures are unchanged. */
export type PartialOf<C, B extends readonly unknown[]> = C extends {
  readonly kind: 'signature';
  readonly immutable: true;
}
  ? C
  : WithAccepts<C, DropFirst<InferArgs<C>, B>>;

/** The argument lists `partial(c, args)` may prepend: a prefix of what `c` accepts (anything for an immutable signature). */
export type PartialArgs<C> = C extends { readonly kind: 'signature'; readonly immutable: true }
  ? readonly unknown[]
  : Prefixes<InferArgs<C>>;
