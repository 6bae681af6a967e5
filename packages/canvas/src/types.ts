/**
 * The canvas data model. Every value here is plain, deeply frozen JSON: it is its own wire format,
 * so a canvas built in one process can be stored in Redis, sent to another and rebuilt by
 * `parseCanvas` unchanged. The generic parameters are phantom types used only at compile time, to
 * check chains and to type the results `apply` returns; they never exist at runtime.
 */

/** Any JSON value. Task arguments, keyword arguments and results must be JSON. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** Keyword arguments of a signature. */
export type Kwargs = { readonly [key: string]: Json };

/** Retry delay policy: a fixed delay, or `delay * 2^retries` capped at `maxDelay` (seconds). */
export interface Backoff {
  readonly type: 'fixed' | 'exponential';
  /** Base delay in seconds. */
  readonly delay: number;
  /** Cap for exponential backoff in seconds (Celery's `retry_backoff_max`, default 600). */
  readonly maxDelay?: number;
  /** Randomise each delay uniformly in `[0, delay]` (Celery's `retry_jitter`). */
  readonly jitter?: boolean;
}

/**
 * Execution options of a canvas node (Celery's `options`). On a container they are distributed to
 * its members when the canvas is compiled, following Celery's rules:
 * - chain: the first step, except `taskId` and `link` (last step) and `linkError` (every step);
 * - group: every member, overriding the members' own options; `linkError` to every member;
 * - chord: the body (overriding its options) and every header member; `taskId`, `link` and
 *   `linkError` go to the body only.
 */
export interface TaskOptions {
  /** Queue the task is sent to (default `"default"`). */
  readonly queue?: string;
  /** Priority 1 (highest) to 2 097 152 (lowest), as in BullMQ. Unset runs before any priority. */
  readonly priority?: number;
  /** Delay in seconds before the task may run. */
  readonly countdown?: number;
  /** Earliest time the task may run, ISO-8601. */
  readonly eta?: string;
  /** Seconds after sending, or an ISO-8601 time, after which the task is revoked instead of run. */
  readonly expires?: number | string;
  /**
   * How many times a failing task is retried before it fails for good (Celery's `max_retries`);
   * `null` retries without limit. The current attempt count is the handler's `ctx.retries`.
   */
  readonly maxRetries?: number | null;
  /** Delay between retries. */
  readonly backoff?: Backoff;
  /** The result id (Celery's `task_id`). On a group it is the group id. */
  readonly taskId?: string;
  /** Hard time limit in seconds. */
  readonly timeLimit?: number;
  /** Soft time limit in seconds: the handler's AbortSignal fires. */
  readonly softTimeLimit?: number;
  /** Do not store the result; waiters get `null`. */
  readonly ignoreResult?: boolean;
  /** Success callbacks: each receives this node's result as its first argument (unless immutable). */
  readonly link?: readonly Canvas[];
  /** Error callbacks: each receives the failed task's id as its first argument (unless immutable). */
  readonly linkError?: readonly Canvas[];
}

declare const acceptsBrand: unique symbol;
declare const resultBrand: unique symbol;

/**
 * Phantom type carriers. `TAccepts` is the tuple of arguments a node still takes when it runs
 * (the parent's result is prepended to a partial signature), `TResult` what it produces.
 * The fields are optional and never set, so they cost nothing at runtime and survive immer.
 */
export interface Typed<TAccepts extends readonly unknown[], TResult> {
  readonly [acceptsBrand]?: TAccepts;
  readonly [resultBrand]?: TResult;
}

declare const lineageBrand: unique symbol;
declare const membersBrand: unique symbol;

/** In a {@link Lineage}: a task's result, an `AsyncResult` of `TValue` once applied. */
export interface AsyncRes<TValue> {
  readonly kind: 'task';
  readonly value: TValue;
}

/** In a {@link Lineage}: a group's result (a group, a chord header), a `GroupResult` of `TValue` once applied. */
export interface GroupRes<TValue> {
  readonly kind: 'group';
  readonly value: TValue;
}

/**
 * In a {@link Lineage}: a result the types cannot tell the kind of, an `AnyResult` of `TValue` —
 * a group of unknown size in a chain, which Celery unrolls when it has one member.
 */
export interface AnyRes<TValue> {
  readonly kind: 'either';
  readonly value: TValue;
}

/**
 * Phantom description of the results applying a canvas creates, from the first to the one
 * `apply` returns, each the `.parent` of the next (the first one's parent is null). A tuple is
 * exact; a non-tuple (the default, `readonly (AsyncRes | GroupRes | AnyRes)[]`) means unknown.
 * Chains and chords carry theirs; a signature's and a group's follow from their kind.
 *
 * @example
 * ```ts
 * // chain(add.s(2, 2), add.s(4), add.s(8)): 16, whose parent is 8, whose parent is 4
 * type L = [AsyncRes<number>, AsyncRes<number>, AsyncRes<number>];
 * ```
 */
export type Lineage = readonly (AsyncRes<unknown> | GroupRes<unknown> | AnyRes<unknown>)[];

/** One task invocation: Celery's `Signature`. */
export interface Signature<TAccepts extends readonly unknown[] = readonly unknown[], TResult = unknown>
  extends Typed<TAccepts, TResult> {
  readonly kind: 'signature';
  readonly task: string;
  readonly args: readonly Json[];
  readonly kwargs: Kwargs;
  readonly options: TaskOptions;
  /** Immutable signatures ignore the parent's result and partial args/kwargs. */
  readonly immutable: boolean;
}

/** Steps run one after another; each receives the previous step's result. */
export interface Chain<
  TAccepts extends readonly unknown[] = readonly unknown[],
  TResult = unknown,
  TLineage extends Lineage = Lineage,
> extends Typed<TAccepts, TResult> {
  /** Phantom: the results its steps create, in order (see {@link Lineage}). */
  readonly [lineageBrand]?: TLineage;
  readonly kind: 'chain';
  readonly tasks: readonly Canvas[];
  readonly options: TaskOptions;
}

/** Members run in parallel; the result is the list of their results in member order. */
export interface Group<
  TAccepts extends readonly unknown[] = readonly unknown[],
  TResult = unknown,
  TMembers extends readonly Lineage[] = readonly Lineage[],
> extends Typed<TAccepts, TResult> {
  /**
   * Phantom: each member's {@link Lineage} as a chain step; a tuple when the members are. A
   * chain unrolls a group of one member into that member (Celery), so this is what it needs.
   */
  readonly [membersBrand]?: TMembers;
  readonly kind: 'group';
  readonly tasks: readonly Canvas[];
  readonly options: TaskOptions;
}

/** A header group whose ordered results are handed to the body as one list. */
export interface Chord<
  TAccepts extends readonly unknown[] = readonly unknown[],
  TResult = unknown,
  TLineage extends Lineage = Lineage,
> extends Typed<TAccepts, TResult> {
  /** Phantom: the header's group result, then the results the body creates (see {@link Lineage}). */
  readonly [lineageBrand]?: TLineage;
  readonly kind: 'chord';
  readonly header: readonly Canvas[];
  readonly body: Canvas;
  readonly options: TaskOptions;
}

/** Any canvas value. */
export type Canvas = Signature | Chain | Group | Chord;

/** The kinds of canvas node, as found in the `kind` field. */
export type CanvasKind = Canvas['kind'];

// ---------------------------------------------------------------------------------------------
// Compiled form: what `compile(canvas)` returns and the runtime executes.
// ---------------------------------------------------------------------------------------------

/**
 * Where a node's incoming value comes from, prepended as its first argument.
 * - `{ node }`: another node's result;
 * - `{ list }`: an ordered list assembled from other refs (a group or chord header result);
 * - `{ failureOf }`: the id of a failed node (error callbacks, Celery's old-style errback).
 */
export type InputRef =
  | { readonly node: string }
  | { readonly list: readonly InputRef[] }
  | { readonly failureOf: string };

/** A result-level reference: what `AsyncResult` / `GroupResult` objects are built from. */
export type ResultRef = { readonly node: string } | { readonly group: string };

/** The role a node plays: a workflow step, a success callback (`link`) or an error callback. */
export type NodeRole = 'task' | 'callback' | 'errback';

/** One task invocation in the compiled graph. */
export interface GraphNode {
  /** Stable, path-derived key, unique in the graph: `$`, `$.1`, `$.1.h0`, `$.b`, `$.0.l0`, `$.0.e0`. */
  readonly key: string;
  readonly task: string;
  /** Final arguments except the incoming value: partial args are already merged. */
  readonly args: readonly Json[];
  readonly kwargs: Kwargs;
  /** Effective options after container distribution, without `link`/`linkError` (compiled into nodes). */
  readonly options: TaskOptions;
  readonly immutable: boolean;
  readonly role: NodeRole;
  /** The value prepended to `args` when the node runs; `null` for immutable and first nodes. */
  readonly input: InputRef | null;
  /** Keys of nodes that must succeed before this one is released (empty for entry nodes and errbacks). */
  readonly after: readonly string[];
  /** Keys of error-callback entry nodes released when this node fails. */
  readonly errbacks: readonly string[];
  /** The enclosing group (Celery's `group_id`/`group_index`), if any. */
  readonly group: { readonly key: string; readonly index: number } | null;
  /** The result this node's `AsyncResult.parent` points to. */
  readonly parent: ResultRef | null;
}

/** A group of results in the compiled graph: a `group(...)` or a chord header. */
export interface GraphGroup {
  /** Stable key, like node keys (`$.1`, `$.h` for a chord header). */
  readonly key: string;
  /** Member results in order (nested groups are flattened; a chain contributes its last result). */
  readonly members: readonly ResultRef[];
  readonly parent: ResultRef | null;
  /** User-chosen group id (`options.taskId` on the group), if any. */
  readonly taskId?: string;
}

/** A directed edge: `from` must finish before `to`; `carries` says whether its result flows into `to`. */
export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly carries: 'result' | 'order' | 'failure';
}

/** A canvas compiled to a DAG: what runs after what and which result flows where. */
export interface CompiledGraph {
  readonly nodes: readonly GraphNode[];
  readonly groups: readonly GraphGroup[];
  readonly edges: readonly GraphEdge[];
  /** Keys of the nodes that run first (no predecessors, not error callbacks). */
  readonly entries: readonly string[];
  /** What applying the canvas returns: a node (`AsyncResult`) or a group (`GroupResult`); null for an empty chain. */
  readonly result: ResultRef | null;
}
