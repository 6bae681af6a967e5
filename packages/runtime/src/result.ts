/**
 * Result handles: `AsyncResult` for one task, `GroupResult` for a group or chord header. They are
 * built from a workflow's stored meta, so a result rebuilt from an id in another process has the
 * same `.parent` chain and children as the one `apply` returned. Waiting is event-driven
 * (see wait.ts) and bounded by an optional timeout.
 */
import type { RevokeOptions } from './control.js';
import { READY_STATES, type Envelope, type TaskState } from './envelope.js';
import { fromRemoteError } from './failure.js';
import { leavesOf, nodeId, type ResultIndex, type WorkflowMeta } from './plan.js';
import { READ_SLICE, type WorkflowStore } from './store.js';
import { Wait, type WaitBackend, type WaitSource } from './wait.js';

/** Options of `get()` / `join()`. */
export interface GetOptions {
  /** Milliseconds to wait before rejecting with `TimeoutError`. Default: wait forever. */
  readonly timeout?: number;
  /** Reject when the task failed (default). With `false`, the error is returned as the value. */
  readonly propagate?: boolean;
  /** Before raising a task's own error, raise the earliest failed ancestor's (Celery's default). */
  readonly followParents?: boolean;
}

/** Either kind of result handle, with an untyped `.parent`. */
export type AnyResult<T = unknown> = AsyncResult<T> | GroupResult<T>;

/** What result handles need from their app. */
export interface ResultBackend extends WaitBackend {
  readonly store: WorkflowStore;
  /** Revokes a result by its place in its workflow; resolves to the revoked task ids. */
  revoke(meta: WorkflowMeta, ref: ResultIndex, options: RevokeOptions): Promise<string[]>;
  /** Runs a Redis operation, turning a connection failure into the error a user can act on. */
  guard<T>(run: () => Promise<T>): Promise<T>;
}

/** A workflow's meta plus memoised handles, so `.parent` objects are shared, not rebuilt. */
export class WorkflowView implements WaitSource {
  // Made on first use: most views hand out one result (a lone task's), many never a group's.
  private nodes: Map<number, AsyncResult> | undefined;
  private groups: Map<number, GroupResult> | undefined;

  constructor(
    readonly backend: ResultBackend,
    readonly meta: WorkflowMeta,
  ) {}

  resolve(ref: ResultIndex): AnyResult {
    return 'n' in ref ? this.node(ref.n) : this.group(ref.g);
  }

  node(index: number): AsyncResult {
    const nodes = (this.nodes ??= new Map());
    let result = nodes.get(index);
    if (result === undefined) {
      result = new AsyncResult(this, index);
      nodes.set(index, result);
    }
    return result;
  }

  group(index: number): GroupResult {
    const groups = (this.groups ??= new Map());
    let result = groups.get(index);
    if (result === undefined) {
      result = new GroupResult(this, index);
      groups.set(index, result);
    }
    return result;
  }

  /**
   * Waits until every leaf of `target` (`leaves`) is ready, or (with `stopOnFailure`) one has
   * failed; a node's wait resolves to its outcome when it was read or handed over (see wait.ts).
   */
  wait(target: ResultIndex, leaves: readonly number[], timeout: number | undefined, stopOnFailure: boolean): Promise<Envelope | null | undefined> {
    return new Wait(this, target, leaves, timeout, stopOnFailure).run();
  }

  /** States of some of the workflow's nodes. */
  states(indices: readonly number[]): Promise<TaskState[]> {
    return this.backend.guard(() => this.backend.store.states(this.meta.id, indices));
  }

  /** One node's state and stored outcome, in one round trip. */
  outcome(index: number): Promise<[TaskState, Envelope | null]> {
    return this.backend.guard(() => this.backend.store.outcome(this.meta.id, index));
  }

  /** Stored outcomes of some of the workflow's nodes (null: none yet). */
  envelopes(indices: readonly number[]): Promise<(Envelope | null)[]> {
    return this.backend.guard(() => this.backend.store.envelopes(this.meta.id, indices));
  }

  revoke(ref: ResultIndex, options: RevokeOptions): Promise<string[]> {
    return this.backend.guard(() => this.backend.revoke(this.meta, ref, options));
  }

  /** The error of the first failed ancestor of `ref`, searched from the workflow's root down. */
  async firstFailedAncestor(ref: ResultIndex): Promise<Error | undefined> {
    const chain: ResultIndex[] = [];
    for (let at = this.parentOf(ref); at !== null; at = this.parentOf(at)) chain.unshift(at);
    if (chain.length === 0) return undefined;
    const leaves = chain.flatMap((r) => leavesOf(this.meta, r));
    const envelopes = await this.envelopes(leaves);
    const failed = envelopes.find((e) => e !== null && e.state !== 'SUCCESS' && e.state !== 'RETRY');
    return failed === undefined || failed === null ? undefined : errorOf(failed);
  }

  parentOf(ref: ResultIndex): ResultIndex | null {
    return 'n' in ref ? (this.meta.nodes[ref.n]!.parent ?? null) : this.meta.groups[ref.g]!.parent;
  }
}

function errorOf(envelope: Envelope): Error {
  if (envelope.state === 'SUCCESS') throw new TypeError('not a failure');
  return fromRemoteError(envelope.error);
}

/**
 * The result of one task (Celery's `AsyncResult`). `T` is its value; `TParent` the type of its
 * `.parent`, which `app.apply` computes from the canvas (`null` for a first step), and which stays
 * `AnyResult | null` where the canvas cannot tell (`app.result(id)`, untyped canvases).
 *
 * @example
 * ```ts
 * const res = await app.apply(chain(add.si(2, 2), add.si(4, 4)));
 * await res.get({ timeout: 10_000 }); // 8
 * await res.parent.get();             // 4: res.parent is an AsyncResult<number, null>
 * ```
 */
export class AsyncResult<T = unknown, TParent = AnyResult | null> {
  /** The task id. */
  readonly id: string;

  /** @internal built by the runtime; use `app.result(id)` to get one. */
  constructor(
    private readonly view: WorkflowView,
    private readonly index: number,
  ) {
    this.id = nodeId(view.meta, index);
  }

  /** Name of the task this result belongs to. */
  get task(): string {
    return this.view.meta.nodes[this.index]!.task;
  }

  /** The result this one follows from: the previous chain step, or the chord header's group. */
  get parent(): TParent {
    const parent = this.view.parentOf({ n: this.index });
    // The stored meta is what the canvas compiled to, so the handle has the shape `TParent` names.
    return (parent === null ? null : this.view.resolve(parent)) as TParent;
  }

  /** Results of the tasks this one released: the next chain step(s) and `link` callbacks. */
  get children(): AsyncResult[] {
    return (this.view.meta.nodes[this.index]!.children ?? []).map((child) => this.view.node(child));
  }

  /** The current state: PENDING, STARTED, RETRY, SUCCESS, FAILURE or REVOKED. */
  async state(): Promise<TaskState> {
    const [state] = await this.view.states([this.index]);
    return state!;
  }

  /** True once the task has succeeded, failed or been revoked. */
  async ready(): Promise<boolean> {
    return READY_STATES.has(await this.state());
  }

  /** True when the task succeeded. */
  async successful(): Promise<boolean> {
    return (await this.state()) === 'SUCCESS';
  }

  /** True when the task failed (a revoked task is not "failed", as in Celery). */
  async failed(): Promise<boolean> {
    return (await this.state()) === 'FAILURE';
  }

  /**
   * Waits for the task's value. Rejects with `TaskError` (or `ChordError`, `NotRegisteredError`)
   * when it failed — raising the earliest failed ancestor's error first, as Celery does — and with
   * `TimeoutError` when `timeout` ms pass first.
   */
  async get(options: GetOptions = {}): Promise<T> {
    const { propagate = true, followParents = true } = options;
    // Every read takes the envelope along with the state (outcome-n.lua, shared by the reads of the
    // same moment), so the value needs no read of its own: not after an announcement, and not when
    // the task had ended before this get() — one read, where a read of the state and then of the
    // value were two in a row.
    let envelope = await this.view.wait({ n: this.index }, [this.index], options.timeout, true);
    if (envelope === undefined) [envelope] = await this.view.envelopes([this.index]);
    if (envelope === null || envelope === undefined) return null as T;
    if (envelope.state === 'SUCCESS') return envelope.value as T;
    const own = errorOf(envelope);
    if (!propagate) return own as T;
    if (followParents) throw (await this.view.firstFailedAncestor({ n: this.index })) ?? own;
    throw own;
  }

  /**
   * Revokes the task so it never runs (state REVOKED, `get()` rejects with RevokedError), with
   * everything downstream of it. Revoking the result `apply` returned revokes every unfinished
   * task of the workflow. With `terminate`, a running task's AbortSignal fires.
   */
  async revoke(options: RevokeOptions = {}): Promise<string[]> {
    return this.view.revoke({ n: this.index }, options);
  }

  /** Plain-data form, e.g. for logging. */
  toJSON(): { id: string; task: string } {
    return { id: this.id, task: this.task };
  }
}

/**
 * The result of a group or a chord header (Celery's `GroupResult`): member results in order.
 * `T` is the list of values; `TParent` the type of its `.parent`, as for {@link AsyncResult}.
 *
 * @example
 * ```ts
 * const res = await app.apply(group(add.s(1, 1), add.s(2, 2)));
 * await res.get(); // [2, 4]
 * ```
 */
export class GroupResult<T = unknown[], TParent = AnyResult | null> {
  /** The group id. */
  readonly id: string;
  private members: AnyResult[] | undefined;

  /** @internal built by the runtime; use `app.result(id)` to get one. */
  constructor(
    private readonly view: WorkflowView,
    private readonly index: number,
  ) {
    this.id = view.meta.groups[index]!.id;
  }

  /** Member results in group order (a member that is a chain is represented by its last result). */
  get results(): readonly AnyResult[] {
    this.members ??= this.view.meta.groups[this.index]!.members.map((member) => this.view.resolve(member));
    return this.members;
  }

  /** Same as `results` (Celery: a group's children are its results). */
  get children(): readonly AnyResult[] {
    return this.results;
  }

  /** The result before this group in a chain, if any. */
  get parent(): TParent {
    const parent = this.view.meta.groups[this.index]!.parent;
    return (parent === null ? null : this.view.resolve(parent)) as TParent;
  }

  /**
   * An aggregate state (Celery's GroupResult has none; this makes `apply(chain)` results uniform):
   * FAILURE if any member failed, SUCCESS if all succeeded, PENDING if none has started, else STARTED.
   */
  async state(): Promise<TaskState> {
    const states = await this.memberStates();
    if (states.includes('FAILURE')) return 'FAILURE';
    if (states.every((state) => state === 'SUCCESS')) return 'SUCCESS';
    if (states.every((state) => state === 'PENDING')) return 'PENDING';
    return 'STARTED';
  }

  /** Number of members that succeeded (failed ones do not count, as in Celery). */
  async completedCount(): Promise<number> {
    return (await this.memberStates()).filter((state) => state === 'SUCCESS').length;
  }

  /** True when every member is ready. */
  async ready(): Promise<boolean> {
    return (await this.memberStates()).every((state) => READY_STATES.has(state));
  }

  /** True when every member succeeded. */
  async successful(): Promise<boolean> {
    return (await this.memberStates()).every((state) => state === 'SUCCESS');
  }

  /** True when any member failed. */
  async failed(): Promise<boolean> {
    return (await this.memberStates()).some((state) => state === 'FAILURE');
  }

  /**
   * Waits for every member and resolves to their values in group order (nested groups as nested
   * lists). With `propagate` (default) it rejects with the first failed member's error in group
   * order as soon as a failure is seen; otherwise errors stand in the failed positions.
   */
  async get(options: GetOptions = {}): Promise<T> {
    const { propagate = true } = options;
    const leaves = this.leaves();
    await this.view.wait({ g: this.index }, leaves, options.timeout, propagate);
    // Decoded a slice at a time into one value list (errors in failed places): a 100 000-member
    // group never holds all its raw envelopes at once.
    const values = new Array<unknown>(leaves.length);
    let firstError: Error | undefined;
    for (let from = 0; from < leaves.length; from += READ_SLICE) {
      const envelopes = await this.view.envelopes(leaves.slice(from, from + READ_SLICE));
      envelopes.forEach((envelope, k) => {
        if (envelope === null || envelope.state === 'RETRY') {
          values[from + k] = null; // not finished: only seen when a failure elsewhere ended the wait
        } else if (envelope.state === 'SUCCESS') {
          values[from + k] = envelope.value;
        } else {
          const error = errorOf(envelope);
          firstError ??= error;
          values[from + k] = error;
        }
      });
    }
    if (propagate && firstError !== undefined) throw firstError;
    // Leaves are in member order, depth first, so the nested result is rebuilt with a cursor.
    let cursor = 0;
    const build = (ref: ResultIndex): unknown =>
      'g' in ref ? this.view.meta.groups[ref.g]!.members.map(build) : values[cursor++];
    return build({ g: this.index }) as T;
  }

  /** Revokes every member (and what follows them); see `AsyncResult.revoke`. */
  async revoke(options: RevokeOptions = {}): Promise<string[]> {
    return this.view.revoke({ g: this.index }, options);
  }

  /** Alias of `get` (Celery's `join`). */
  join(options: GetOptions = {}): Promise<T> {
    return this.get(options);
  }

  /** Plain-data form, e.g. for logging. */
  toJSON(): { id: string; results: unknown[] } {
    return { id: this.id, results: this.results.map((result) => result.toJSON()) };
  }

  private leaves(): number[] {
    return leavesOf(this.view.meta, { g: this.index });
  }

  private memberStates(): Promise<TaskState[]> {
    return this.view.states(this.leaves());
  }
}
