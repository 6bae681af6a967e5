/**
 * Result handles: `AsyncResult` for one task, `GroupResult` for a group or chord header. They are
 * built from a workflow's stored meta, so a result rebuilt from an id in another process has the
 * same `.parent` chain and children as the one `apply` returned. Waiting is event-driven
 * (see events.ts) and bounded by an optional timeout.
 */
import type { RevokeOptions } from './control.js';
import { READY_STATES, type Envelope, type TaskState } from './envelope.js';
import { TimeoutError } from './errors.js';
import { fromRemoteError } from './failure.js';
import type { RateLimitedLog } from './logger.js';
import type { LocalOutcomes } from './local-outcomes.js';
import { truncatedRepr } from './repr.js';
import type { ChannelSubscriber } from './subscriber.js';
import { leavesOf, nodeId, type ResultIndex, type WorkflowMeta } from './plan.js';
import { READ_SLICE, type WorkflowStore } from './store.js';

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

/** What the app heard about a workflow since it applied it (see heard.ts). */
export interface Heard {
  /** False when an announcement may have been missed: a waiter must read every state. */
  readonly complete: boolean;
  /** Node indices announced so far. */
  readonly announced: ReadonlySet<number>;
}

/** What result handles need from their app. */
export interface ResultBackend {
  /** What was heard about a workflow this app applied moments ago; undefined: nothing is known. */
  heard(workflowId: string): Heard | undefined;
  readonly store: WorkflowStore;
  readonly subscriber: ChannelSubscriber;
  /** The pattern every workflow's announcements ride on (the app's `resultSubscription: 'app'`); undefined: a wait subscribes its own channel. */
  readonly eventsPattern: string | undefined;
  /** Outcomes the app's own workers record, handed over in memory (see local-outcomes.ts). */
  readonly local?: LocalOutcomes | undefined;
  /** Revokes a result by its place in its workflow; resolves to the revoked task ids. */
  revoke(meta: WorkflowMeta, ref: ResultIndex, options: RevokeOptions): Promise<string[]>;
  /** Runs a Redis operation, turning a connection failure into the error a user can act on. */
  guard<T>(run: () => Promise<T>): Promise<T>;
  /** Where malformed channel messages are reported (at most once a minute). */
  readonly log: RateLimitedLog;
  /** Calls `fail` with a `ConnectionError` once Redis has been down for the app's `unavailableTimeout`; returns the way to stop. */
  unavailable(fail: (error: Error) => void): () => void;
  /**
   * Milliseconds after which a waiter reads its states again though nothing was announced; set on
   * a cluster, where a message can be lost while the subscriber moves to another node unnoticed.
   */
  readonly recheckMs?: number | undefined;
}

/** A workflow's meta plus memoised handles, so `.parent` objects are shared, not rebuilt. */
export class WorkflowView {
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
   * Waits until every leaf is ready, or (with `stopOnFailure`) one has failed. Messages on the
   * workflow's channel are only hints: each names a node whose state is then read from Redis, so a
   * message forged by anyone who can publish changes nothing but a read. The read waits until every
   * pending leaf was announced, or one announced a failure: a group of 10 000 is then read in
   * one go instead of once per burst of announcements (a forged announcement only makes the read
   * come early; the nodes it finds unfinished stay pending).
   */
  async wait(
    leaves: readonly number[],
    options: {
      timeout?: number | undefined;
      stopOnFailure: boolean;
      /** What is waited for, as a timeout names it (built only then). */
      what: () => string;
      /** How the states are read (default: {@link states}); a single node's `get()` reads its envelope along. */
      read?: (indices: readonly number[]) => Promise<TaskState[]>;
      /**
       * Outcomes handed over in memory (local-outcomes.ts): called with `done`, which marks a leaf
       * ended in `state` with no read, or, with no state, tells it to read what this app's worker
       * did not record after all; returns the way to stop.
       */
      local?: (done: (index: number, state: TaskState | undefined) => void) => () => void;
    },
  ): Promise<void> {
    // A burst of lone tasks holds thousands of waits at once, each until its task ends: what one
    // holds is what the collector copies while they wait, so it holds no promise it can do without.
    const { store, subscriber } = this.backend;
    // A node this app's worker is recording is handed over in memory, or told to be read: its
    // announcement, which may come first, asks for no read (local-outcomes.ts). Without a worker
    // of this app in this process when the wait begins, it watches for nothing: a worker started
    // later was not watched for, so its announcements are read like another process's.
    const local = options.local !== undefined && this.backend.local?.active === true ? this.backend.local : undefined;
    const recordedHere = (index: number): boolean => local?.isRecording(this.meta.id, index) === true;
    const pending = new Set(leaves);
    if (pending.size === 0) return;
    let wake: () => void = () => {};
    let failed = false;
    // Start by reading every state: messages published before the subscription are not delivered.
    let toRead = new Set(pending);
    /** Whether `toRead` is owed a read now (the start, a resubscription, an announced failure). */
    let due = true;
    /** Read now, or wait: a partial set of announced leaves waits for the rest. */
    const readNow = (): boolean => toRead.size > 0 && (due || toRead.size === pending.size);
    const read = options.read ?? ((indices: readonly number[]) => this.states(indices));
    // Through the app's one pattern subscription, when it has one: no SUBSCRIBE round trip per wait.
    const { eventsPattern } = this.backend;
    const subscription = subscriber.listen(
      store.keys(this.meta.id).events,
      (message) => {
        const announced = parseAnnouncement(message);
        if (announced === undefined) return dropped(this.backend.log, this.meta.id, message);
        if (!pending.has(announced.index) || recordedHere(announced.index)) return;
        toRead.add(announced.index);
        if (announced.state !== 'SUCCESS') due = true;
        if (readNow()) wake();
      },
      // Messages published while the connection was down are lost: read every state again.
      () => {
        toRead = new Set(pending);
        due = true;
        wake();
      },
      eventsPattern,
    );
    // Applied by this app moments ago, with every announcement since heard: only the nodes
    // announced need reading (nothing else can have ended). Set before any message can arrive.
    const heard = this.backend.heard(this.meta.id);
    if (heard?.complete === true) {
      toRead = new Set([...pending].filter((index) => heard.announced.has(index) && !recordedHere(index)));
      due = toRead.size === pending.size;
    }
    // An outcome this app's worker records is final and trusted: it ends the leaf with no read.
    const stopLocal = local === undefined ? undefined : options.local?.((index, state) => {
      if (state === undefined) {
        if (!pending.has(index)) return;
        toRead.add(index);
        due = true;
        return wake();
      }
      if (!pending.delete(index)) return;
      toRead.delete(index);
      if (state !== 'SUCCESS') failed = true;
      wake();
    });
    const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
    // A wait outlives a short outage (the states are read again when Redis is back), but fails
    // with a ConnectionError once Redis has been down for the app's `unavailableTimeout`.
    let outage: Error | undefined;
    const stopWatching = this.backend.unavailable((error) => {
      outage = error;
      wake();
    });
    try {
      // Riding the app's confirmed pattern, the subscription is ready now: no race, no timer.
      if (eventsPattern === undefined || !subscriber.confirmed(eventsPattern)) {
        const interrupted = new Promise<never>((_, reject) => {
          wake = () => {
            if (outage !== undefined) reject(outage);
          };
        });
        interrupted.catch(() => {});
        const ready = await beforeDeadline(Promise.race([subscription.ready, interrupted]), deadline);
        wake = () => {};
        if (!ready) throw new TimeoutError(options.what(), options.timeout!);
      }
      for (;;) {
        if (outage !== undefined) throw outage;
        if (readNow()) {
          const ids = [...toRead];
          toRead = new Set();
          due = false;
          const states = await read(ids);
          states.forEach((state, k) => {
            if (!READY_STATES.has(state)) return;
            pending.delete(ids[k]!);
            toRead.delete(ids[k]!); // announced again while it was read: `toRead` holds pending nodes only
            if (state !== 'SUCCESS') failed = true;
          });
        }
        if (pending.size === 0 || (failed && options.stopOnFailure)) return;
        if (readNow()) continue; // announced while the states were read
        if (outage !== undefined) throw outage;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new TimeoutError(options.what(), options.timeout!);
        const recheck = this.backend.recheckMs;
        const sleep = recheck === undefined ? remaining : Math.min(remaining, recheck);
        // Woken by an announcement, a handed-over outcome, a resubscription, an outage, or the timer.
        await new Promise<void>((resolve) => {
          const timer = Number.isFinite(sleep)
            ? setTimeout(() => {
                if (sleep < remaining) {
                  toRead = new Set(pending);
                  due = true;
                }
                resolve();
              }, sleep)
            : undefined;
          wake = () => {
            if (timer !== undefined) clearTimeout(timer);
            resolve();
          };
        });
        wake = () => {};
      }
    } finally {
      stopWatching();
      subscription.close();
      stopLocal?.();
    }
  }

  /** States of some of the workflow's nodes. */
  states(indices: readonly number[]): Promise<TaskState[]> {
    return this.backend.guard(() => this.backend.store.states(this.meta.id, indices));
  }

  /** One node's state and stored outcome, in one round trip. */
  outcome(index: number): Promise<[TaskState, Envelope | null]> {
    return this.backend.guard(() => this.backend.store.outcome(this.meta.id, index));
  }

  /** Calls `listener` when a worker of this app records the node's final outcome (local-outcomes.ts); returns the way to stop. */
  watchLocal(index: number, listener: (envelope: Envelope | undefined) => void): () => void {
    return this.backend.local?.watch(this.meta.id, index, listener) ?? (() => {});
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

/** Whether `promise` settled before `deadline` (epoch ms; Infinity: wait as long as it takes). */
async function beforeDeadline(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  if (!Number.isFinite(deadline)) return promise.then(() => true);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()), false)));
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The node index and state a `<index>:<STATE>` message announces, if it is one (a hint: see {@link WorkflowView.wait}). */
export function parseAnnouncement(message: string): { readonly index: number; readonly state: string } | undefined {
  const match = /^(\d{1,9}):([A-Z]{1,10})$/.exec(message);
  return match === null ? undefined : { index: Number(match[1]), state: match[2]! };
}

/** The node index a `<index>:<STATE>` message announces, if it is one. */
export function announcedIndex(message: string): number | undefined {
  return parseAnnouncement(message)?.index;
}

/** Reports a message on a workflow's channel that no Celeriac script sent. */
export function dropped(log: RateLimitedLog, workflowId: string, message: string): void {
  log.warn('workflow message', `dropped a malformed message on the channel of workflow ${workflowId}: ${truncatedRepr(message, 100)}`);
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
    let envelope: Envelope | null | undefined;
    await this.view.wait([this.index], {
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      stopOnFailure: true,
      what: () => `Task ${this.task}[${this.id}]`,
      read: async () => {
        const [state, stored] = await this.view.outcome(this.index);
        envelope = stored;
        return [state];
      },
      local: (done) => this.view.watchLocal(this.index, (recorded) => {
        if (recorded !== undefined) envelope = recorded;
        done(this.index, recorded?.state);
      }),
    });
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
    await this.view.wait(leaves, {
      ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
      stopOnFailure: propagate,
      what: () => `Group ${this.id}`,
    });
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
