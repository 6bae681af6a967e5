/**
 * What the app heard about the workflows it applied moments ago, so that a `get()` right after
 * `apply` needs no first read of the states: a lone `delay` + `get` then costs the producer two
 * requests in a row (the apply, and one read once the result is announced), as BullMQ's `add` +
 * `waitUntilFinished` does.
 *
 * A waiter normally starts by reading every state, because announcements made before it
 * subscribed are not delivered. But when the app's pattern subscription (subscriber.ts) was
 * already confirmed before the plan was written, every announcement of that workflow reaches this
 * process: then "nothing heard" proves that nothing ended, and the waiter reads only the nodes
 * announced — and everything if the connection dropped meanwhile, since messages are lost then.
 * Only the absence of announcements is relied on, never their content: an announced node is read
 * like any other, so a forged message still changes nothing but a read.
 */
import { announcedIndex, type Heard } from './wait.js';
import type { ChannelSubscriber } from './subscriber.js';

/** How long what was heard about a workflow is kept for a `get()` to come. */
const KEEP_MS = 60_000;
/** Workflows followed at most; beyond, the oldest are dropped (their waiters read as usual). */
const MAX_FOLLOWED = 10_000;
/**
 * Announcements kept per workflow. A bigger one (a large group) stops being followed: its waiters
 * read every state first, as without this module, and no set grows with the workflow.
 */
const MAX_ANNOUNCED = 1_000;

/** What a workflow followed has no announcement yet: shared, replaced by a set of its own on the first. */
const NOTHING: ReadonlySet<number> = new Set();

interface Followed {
  readonly since: number;
  announced: ReadonlySet<number>;
  complete: boolean;
}

/** How long, and how many, workflows are followed (tests shrink them). */
export interface FollowLimits {
  readonly keepMs: number;
  readonly maxFollowed: number;
}

/**
 * One per app: follows each workflow it applies for {@link KEEP_MS}. One listener on the app's
 * pattern hears every workflow's announcements, held while anything is followed, so following a
 * workflow costs an entry in a map and no subscription of its own (an apply in a burst of 1 000
 * cost about 7 µs and kept 1.5 KB for a minute with one each).
 */
export class HeardSinceApply {
  private readonly followed = new Map<string, Followed>();
  /**
   * The ids of `followed` in the order they were followed, from `oldest` on. Dropping from the
   * front of a Map and then walking it from the front again costs a step per entry dropped since
   * V8 last rehashed the Map: at 10 000 workflows, about 7 µs per `apply`. This queue costs none.
   */
  private order: string[] = [];
  private oldest = 0;
  private listening: { close(): void } | undefined;

  constructor(
    private readonly subscriber: ChannelSubscriber,
    /** The app's pattern subscription; undefined (the app's `resultSubscription: 'result'`): nothing is followed. */
    private readonly pattern: string | undefined,
    /** The workflow whose announcements a channel carries, if it is a workflow's (keys.ts). */
    private readonly workflowOf: (channel: string) => string | undefined,
    private readonly limits: FollowLimits = { keepMs: KEEP_MS, maxFollowed: MAX_FOLLOWED },
  ) {}

  /**
   * Starts following a workflow that does not exist yet (a generated id) — call before its plan
   * is written. Does nothing unless the app has a pattern subscription and Redis has confirmed it.
   */
  follow(workflowId: string): void {
    this.sweep();
    const { pattern } = this;
    if (pattern === undefined || !this.subscriber.confirmed(pattern) || this.followed.has(workflowId)) return;
    this.listening ??= this.subscriber.listenPattern(
      pattern,
      (channel, message) => this.record(channel, message),
      // Messages may have been missed: nothing followed can be vouched for any more.
      () => {
        for (const entry of this.followed.values()) entry.complete = false;
      },
    );
    this.followed.set(workflowId, { since: Date.now(), announced: NOTHING, complete: true });
    this.order.push(workflowId);
  }

  /** What was heard about `workflowId`, or undefined when it is not followed (read everything). */
  heard(workflowId: string): Heard | undefined {
    const entry = this.followed.get(workflowId);
    if (entry === undefined || Date.now() - entry.since > this.limits.keepMs) return undefined;
    return entry;
  }

  close(): void {
    this.listening?.close();
    this.listening = undefined;
    this.followed.clear();
    this.order = [];
    this.oldest = 0;
  }

  private record(channel: string, message: string): void {
    const workflowId = this.workflowOf(channel);
    const entry = workflowId === undefined ? undefined : this.followed.get(workflowId);
    if (entry === undefined || !entry.complete) return;
    const index = announcedIndex(message);
    if (index === undefined) return;
    if (entry.announced === NOTHING) entry.announced = new Set();
    const announced = entry.announced as Set<number>;
    announced.add(index);
    if (announced.size > MAX_ANNOUNCED) {
      entry.complete = false;
      entry.announced = NOTHING;
    }
  }

  /**
   * Drops the workflows followed for too long, or the oldest beyond {@link MAX_FOLLOWED}; once
   * none is left, the pattern is no longer held for them.
   */
  private sweep(): void {
    const now = Date.now();
    const { keepMs, maxFollowed } = this.limits;
    while (this.oldest < this.order.length) {
      const id = this.order[this.oldest]!;
      const entry = this.followed.get(id)!;
      if (now - entry.since <= keepMs && this.followed.size < maxFollowed) break;
      this.followed.delete(id);
      this.oldest++;
    }
    // Now and then, forget the dropped ids, so the queue stays about as long as the Map.
    if (this.oldest >= 1_024 && this.oldest * 2 >= this.order.length) {
      this.order = this.order.slice(this.oldest);
      this.oldest = 0;
    }
    if (this.followed.size === 0 && this.listening !== undefined) {
      this.listening.close();
      this.listening = undefined;
    }
  }
}
