/**
 * How a `get()` waits for nodes of one workflow to end. It is told by the workflow's announcements
 * (`<index>:<STATE>` on its events channel), by the app's own worker (local-outcomes.ts), or by a
 * timer, and reads the states from Redis on what it is told. An announcement is only a hint: each
 * names a node whose state is then read, so a message forged by anyone who can publish changes
 * nothing but a read.
 *
 * A burst of lone tasks holds thousands of waits at once, each until its task ends, and what they
 * hold is what V8's young-generation collector copies while they wait. So a wait is one object
 * whose methods are its callbacks, and the waits that ride the app's pattern subscription are
 * found through one table per app ({@link Waiters}) instead of holding a channel subscription each.
 */
import { READY_STATES, type Envelope, type TaskState } from './envelope.js';
import { TimeoutError } from './errors.js';
import type { LocalOutcomes, OutcomeWatcher } from './local-outcomes.js';
import type { RateLimitedLog } from './logger.js';
import { nodeId, type ResultIndex, type WorkflowMeta } from './plan.js';
import { truncatedRepr } from './repr.js';
import type { UnavailableWait } from './connection.js';
import type { ChannelSubscriber, Subscription } from './subscriber.js';
import { ValuesByKey } from './values-by-key.js';

/** What the app heard about a workflow since it applied it (see heard.ts). */
export interface Heard {
  /** False when an announcement may have been missed: a waiter must read every state. */
  readonly complete: boolean;
  /** Node indices announced so far. */
  readonly announced: ReadonlySet<number>;
}

/** What a wait needs from its app. */
export interface WaitBackend {
  /** What was heard about a workflow this app applied moments ago; undefined: nothing is known. */
  heard(workflowId: string): Heard | undefined;
  readonly store: { eventsChannel(workflowId: string): string };
  readonly subscriber: ChannelSubscriber;
  /** The pattern every workflow's announcements ride on (the app's `resultSubscription: 'app'`); undefined: a wait subscribes its own channel. */
  readonly eventsPattern: string | undefined;
  /** The waits riding `eventsPattern`; undefined when there is none. */
  readonly waiters: Waiters | undefined;
  /** Outcomes the app's own workers record, handed over in memory (see local-outcomes.ts). */
  readonly local?: LocalOutcomes | undefined;
  /** Where malformed channel messages are reported (at most once a minute). */
  readonly log: RateLimitedLog;
  /** Tells `wait` once Redis has been down for the app's `unavailableTimeout`, until {@link stopUnavailable}. */
  unavailable(wait: UnavailableWait): void;
  stopUnavailable(wait: UnavailableWait): void;
  /**
   * Milliseconds after which a waiter reads its states again though nothing was announced; set on
   * a cluster, where a message can be lost while the subscriber moves to another node unnoticed.
   */
  readonly recheckMs?: number | undefined;
}

/** The workflow a wait is in, and how it reads its nodes (result.ts's `WorkflowView`). */
export interface WaitSource {
  readonly meta: WorkflowMeta;
  readonly backend: WaitBackend;
  /** States of some of the workflow's nodes. */
  states(indices: readonly number[]): Promise<TaskState[]>;
  /** One node's state and stored outcome, in one round trip. */
  outcome(index: number): Promise<[TaskState, Envelope | null]>;
}

/**
 * Waits until every leaf of `target` is ready, or (with `stopOnFailure`) one has failed. The read
 * waits until every pending leaf was announced, or one announced a failure: a group of 10 000 is
 * then read in one go instead of once per burst of announcements (a forged announcement only makes
 * the read come early; the nodes it finds unfinished stay pending). A node's wait (`target` a
 * node) reads its outcome with its state, and takes its outcome from this app's worker in memory.
 */
export class Wait implements OutcomeWatcher, UnavailableWait {
  /** The node's outcome, for a node's wait: read with its state, or handed over; undefined: neither. */
  private envelope: Envelope | null | undefined;
  /** Leaves not ended yet. */
  private readonly pending: Set<number>;
  /** Pending leaves owed a read. All of them at first: announcements made before the wait are not delivered. */
  private toRead: Set<number>;
  /** Whether `toRead` is owed a read now (the start, a resubscription, an announced failure). */
  private due = true;
  private failed = false;
  /** Set once Redis has been down for too long: the wait fails with it. */
  private outage: Error | undefined;
  /** Ends the current sleep; undefined while awake. */
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Rejects the wait for an unconfirmed subscription when the outage error is set. */
  private interrupt: ((error: Error) => void) | undefined;
  /** The wait's own subscription to the workflow's channel; undefined while it rides the app's table. */
  private subscription: Subscription | undefined;
  /** The node waited for, for a node's wait (`target` a node); undefined for a group's. */
  private readonly node: number | undefined;
  /** Set when this app's worker runs in this process and this is a node's wait. */
  private readonly local: LocalOutcomes | undefined;

  /** @param leaves - the leaves of `target` (its one node, for a node) */
  constructor(
    private readonly source: WaitSource,
    private readonly target: ResultIndex,
    leaves: readonly number[],
    private readonly timeout: number | undefined,
    private readonly stopOnFailure: boolean,
  ) {
    this.pending = new Set(leaves);
    this.toRead = new Set(this.pending);
    // A node this app's worker is recording is handed over in memory, or told to be read: its
    // announcement, which may come first, asks for no read (local-outcomes.ts). Without a worker
    // of this app in this process when the wait begins, it watches for nothing: a worker started
    // later was not watched for, so its announcements are read like another process's.
    this.node = 'n' in target ? target.n : undefined;
    const { local } = source.backend;
    this.local = this.node !== undefined && local?.active === true ? local : undefined;
  }

  /** Waits; resolves to a node's outcome when it was read or handed over. */
  async run(): Promise<Envelope | null | undefined> {
    const { pending } = this;
    if (pending.size === 0) return undefined;
    const { backend, meta } = this.source;
    // Through the app's table when its pattern is confirmed: no subscription, and nothing to await.
    const riding = backend.waiters?.ride(meta.id, this) === true;
    if (!riding) this.subscribeOwn();
    // Applied by this app moments ago, with every announcement since heard: only the nodes
    // announced need reading (nothing else can have ended). Set before any message can arrive.
    const heard = backend.heard(meta.id);
    if (heard?.complete === true) {
      for (const index of pending) if (!heard.announced.has(index) || this.recordedHere(index)) this.toRead.delete(index);
      this.due = this.toRead.size === pending.size;
    }
    if (this.local !== undefined) this.local.watch(meta.id, this.node!, this);
    const deadline = this.timeout === undefined ? Infinity : Date.now() + this.timeout;
    // A wait outlives a short outage (the states are read again when Redis is back), but fails
    // with a ConnectionError once Redis has been down for the app's `unavailableTimeout`.
    backend.unavailable(this);
    try {
      if (!riding && !(await this.confirmedBefore(deadline))) throw new TimeoutError(this.what(), this.timeout!);
      for (;;) {
        if (this.outage !== undefined) throw this.outage;
        if (this.readNow()) await this.read();
        if (pending.size === 0 || (this.failed && this.stopOnFailure)) return this.envelope;
        if (this.readNow()) continue; // announced while the states were read
        if (this.outage !== undefined) throw this.outage;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new TimeoutError(this.what(), this.timeout!);
        await this.sleep(remaining);
      }
    } finally {
      backend.stopUnavailable(this);
      clearTimeout(this.timer);
      if (this.subscription !== undefined) this.subscription.close();
      else backend.waiters!.leave(meta.id, this);
      if (this.local !== undefined) this.local.unwatch(meta.id, this.node!, this);
    }
  }

  /** An announcement that `index` ended in `state`: a hint, which asks for a read. */
  announced(index: number, state: string): void {
    if (!this.pending.has(index) || this.recordedHere(index)) return;
    this.toRead.add(index);
    if (state !== 'SUCCESS') this.due = true;
    if (this.readNow()) this.wake();
  }

  /** Redis has been down for too long: the wait fails with `error`. */
  unavailable(error: Error): void {
    this.outage = error;
    this.interrupt?.(error);
    this.wake();
  }

  /** Announcements may have been lost (the subscription was made again after a disconnect): read every state. */
  lost(): void {
    this.toRead = new Set(this.pending);
    this.due = true;
    this.wake();
  }

  /**
   * The app's table can no longer carry this wait (Redis refused its pattern): it subscribes its
   * own channel, and reads every state once Redis confirms it, since messages were lost meanwhile.
   */
  leftByTable(): void {
    this.subscribeOwn();
    this.subscription!.ready.then(
      () => this.lost(),
      () => {},
    );
  }

  private subscribeOwn(): void {
    const { backend, meta } = this.source;
    this.subscription = backend.subscriber.listen(
      backend.store.eventsChannel(meta.id),
      (message) => {
        const announced = parseAnnouncement(message);
        if (announced === undefined) return dropped(backend.log, meta.id, message);
        this.announced(announced.index, announced.state);
      },
      () => this.lost(),
      backend.eventsPattern,
    );
  }

  /** This app's worker recorded the node's outcome (`envelope`), or recorded nothing after all (undefined: read it). */
  handed(envelope: Envelope | undefined): void {
    const index = this.node!;
    if (envelope === undefined) {
      if (!this.pending.has(index)) return;
      this.toRead.add(index);
      this.due = true;
      return this.wake();
    }
    this.envelope = envelope;
    // An outcome this app's worker records is final and trusted: it ends the leaf with no read.
    if (!this.pending.delete(index)) return;
    this.toRead.delete(index);
    if (envelope.state !== 'SUCCESS') this.failed = true;
    this.wake();
  }

  /** Read now, or wait: a partial set of announced leaves waits for the rest. */
  private readNow(): boolean {
    return this.toRead.size > 0 && (this.due || this.toRead.size === this.pending.size);
  }

  private recordedHere(index: number): boolean {
    return this.local !== undefined && this.local.isRecording(this.source.meta.id, index);
  }

  private async read(): Promise<void> {
    const { node } = this;
    const ids = [...this.toRead];
    this.toRead.clear();
    this.due = false;
    let states: TaskState[];
    if (node === undefined) states = await this.source.states(ids);
    else {
      // A node's outcome comes along with its state: its value needs no read of its own.
      const [state, envelope] = await this.source.outcome(node);
      this.envelope = envelope;
      states = [state];
    }
    for (let k = 0; k < ids.length; k++) {
      const state = states[k]!;
      if (!READY_STATES.has(state)) continue;
      this.pending.delete(ids[k]!);
      this.toRead.delete(ids[k]!); // announced again while it was read: `toRead` holds pending nodes only
      if (state !== 'SUCCESS') this.failed = true;
    }
  }

  /** Sleeps until woken (an announcement, a hand-over, a resubscription, an outage) or `remaining` ms pass. */
  private sleep(remaining: number): Promise<void> {
    const recheck = this.source.backend.recheckMs;
    const ms = recheck === undefined ? remaining : Math.min(remaining, recheck);
    return new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      if (Number.isFinite(ms)) this.timer = setTimeout(() => (ms < remaining ? this.lost() : this.wake()), ms);
    });
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    if (wakeUp === undefined) return;
    this.wakeUp = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    wakeUp();
  }

  /**
   * Waits for Redis to confirm the wait's own subscription: until then, announcements may be missed.
   * False when `deadline` passed first; throws the outage error.
   */
  private async confirmedBefore(deadline: number): Promise<boolean> {
    const interrupted = new Promise<never>((_, reject) => (this.interrupt = reject));
    interrupted.catch(() => {});
    if (this.outage !== undefined) throw this.outage;
    try {
      return await beforeDeadline(Promise.race([this.subscription!.ready, interrupted]), deadline);
    } finally {
      this.interrupt = undefined;
    }
  }

  /** What is waited for, as a timeout names it. */
  private what(): string {
    const { meta } = this.source;
    const { target } = this;
    return 'n' in target ? `Task ${meta.nodes[target.n]!.task}[${nodeId(meta, target.n)}]` : `Group ${meta.groups[target.g]!.id}`;
  }
}

/**
 * The app's waits that ride its pattern subscription, by workflow: one pattern listener hands each
 * announcement to the waits of its workflow. A wait costs an entry here, not a channel
 * subscription with its listener records (about 0.6 KB each, held until its task ends).
 */
export class Waiters {
  /** Mostly one wait per workflow; several when a chain's result and its parent are waited on at once. */
  private readonly byWorkflow = new ValuesByKey<string, Wait>();
  private listening: { close(): void } | undefined;

  constructor(
    private readonly subscriber: ChannelSubscriber,
    private readonly pattern: string,
    /** The workflow whose announcements a channel carries, if it is a workflow's (keys.ts). */
    private readonly workflowOf: (channel: string) => string | undefined,
    private readonly log: RateLimitedLog,
  ) {}

  /**
   * Takes `wait` in when Redis has confirmed the pattern, so that every announcement from now on
   * reaches it. False: it must subscribe its workflow's channel itself.
   */
  ride(workflowId: string, wait: Wait): boolean {
    if (!this.subscriber.confirmed(this.pattern)) return false;
    this.listening ??= this.subscriber.listenPattern(
      this.pattern,
      (channel, message) => this.deliver(channel, message),
      () => this.lost(),
    );
    this.byWorkflow.add(workflowId, wait);
    return true;
  }

  leave(workflowId: string, wait: Wait): void {
    this.byWorkflow.delete(workflowId, wait);
    if (this.byWorkflow.size === 0) this.close();
  }

  close(): void {
    this.byWorkflow.clear();
    this.listening?.close();
    this.listening = undefined;
  }

  private deliver(channel: string, message: string): void {
    const workflowId = this.workflowOf(channel);
    if (workflowId === undefined || !this.byWorkflow.has(workflowId)) return;
    const announced = parseAnnouncement(message);
    if (announced === undefined) return dropped(this.log, workflowId, message);
    for (const wait of this.byWorkflow.get(workflowId)) wait.announced(announced.index, announced.state);
  }

  /**
   * Messages on the pattern may have been missed: it was subscribed again after a disconnect, and
   * every wait reads its states; or Redis refused it, and every wait subscribes its own channel.
   */
  private lost(): void {
    const refused = !this.subscriber.confirmed(this.pattern);
    const waits = this.byWorkflow.all();
    if (refused) this.close();
    for (const wait of waits) {
      if (refused) wait.leftByTable();
      else wait.lost();
    }
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

/** The node index and state a `<index>:<STATE>` message announces, if it is one (a hint: see {@link Wait}). */
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
