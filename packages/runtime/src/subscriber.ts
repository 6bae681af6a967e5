/**
 * The app's one pub/sub connection, shared by every waiting `get()`, the control mailbox and the
 * workers' command tables; it keeps its subscriptions through anything Redis does. ioredis's
 * `autoResubscribe` restores the channels of a connection that was subscribed before it dropped,
 * but a SUBSCRIBE sent while Redis was down (a worker started before Redis) fails once and is never
 * retried. Here the wanted channels are the source of truth: every time the connection becomes
 * ready, all of them are subscribed again, and a channel added while it is down waits for that.
 *
 * Messages are hints, never state: whoever listens re-reads what a message points at, and is told
 * when its channel was subscribed again after a disconnect, since messages sent meanwhile are lost.
 *
 * A listener may name a pattern that covers its channel (`via`, e.g. every workflow's events
 * channel): then the channel costs no SUBSCRIBE of its own. The pattern is subscribed once
 * (PSUBSCRIBE) and kept for {@link PATTERN_LINGER_MS} after its last listener leaves, so waiting on
 * one workflow after another — a `get()` per lone task — costs no subscription round trip each.
 * A listener may also take every channel a pattern matches (`listenPattern`): the app's record of
 * what it heard about the workflows it applied (heard.ts) is one such listener, and its table of
 * waiting `get()`s (wait.ts) another, not one per workflow or per wait.
 */
import { isCluster, subscriberConnection, type RedisClient } from './connection.js';
import type { Redis } from 'ioredis';
import { ClosedError } from './errors.js';
import type { RateLimitedLog } from './logger.js';

/** Receives each message published on a channel. It must not throw (if it does, that is logged). */
export type MessageListener = (message: string) => void;

/** Receives each message on any channel a pattern matches. It must not throw (if it does, that is logged). */
export type PatternListener = (channel: string, message: string) => void;

/** A listener's hold on a channel. */
export interface Subscription {
  /**
   * Resolves once Redis has confirmed the subscription, which waits for Redis to be reachable.
   * Rejects with `ClosedError` only if the subscription or subscriber is closed first.
   */
  readonly ready: Promise<void>;
  /** Stops delivering to this listener; the channel is unsubscribed when it was the last one. */
  close(): void;
}

/** How long a pattern stays subscribed after its last channel's last listener left. */
export const PATTERN_LINGER_MS = 30_000;

/** One {@link ChannelSubscriber.listen}: what it is called with. */
interface ChannelListener {
  readonly message: MessageListener;
  /** Called when the channel is subscribed again after a disconnect: messages may have been lost. */
  readonly resubscribed: (() => void) | undefined;
}

/** A subscription that waits for Redis to confirm its channel (or the channel's pattern). */
interface ConfirmationWaiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A channel and its listeners. A `get()` that cannot ride the app's table of waits (wait.ts) holds
 * one until it ends, so it keeps one set, and a set of waiters only while one waits.
 */
interface Channel {
  /** The pattern that carries this channel's messages; undefined: its own SUBSCRIBE. */
  via: string | undefined;
  readonly listeners: Set<ChannelListener>;
  /** Whether Redis confirmed the subscription on the current connection. */
  confirmed: boolean;
  /** Whether Redis ever confirmed it: a later confirmation is a resubscription. */
  confirmedBefore: boolean;
  /** Subscriptions waiting for the confirmation (of the channel, or of its pattern), if any. */
  waiting: Set<ConfirmationWaiter> | undefined;
}

/** The `ready` of a subscription confirmed already: one promise for all of them. */
const CONFIRMED: Promise<void> = Promise.resolve();

/** A pattern subscription and the channels it carries (their own `confirmed` flags are not used). */
interface Pattern {
  readonly channels: Set<string>;
  /** Listeners of every channel the pattern matches ({@link ChannelSubscriber.listenPattern}). */
  readonly listeners: Set<PatternListener>;
  /** Called, for those listeners, when messages on the pattern may have been lost. */
  readonly lost: Set<() => void>;
  confirmed: boolean;
  confirmedBefore: boolean;
  /** Set while nothing uses the pattern (no channel, no listener): it is unsubscribed when this fires. */
  linger: NodeJS.Timeout | undefined;
}

/**
 * A dedicated subscriber connection shared by any number of channel listeners.
 *
 * @example
 * ```ts
 * const subscriber = new ChannelSubscriber(redis, log);
 * const subscription = subscriber.listen('celeriac:control', (message) => handle(message));
 * await subscription.ready;
 * // …
 * subscription.close();
 * await subscriber.close();
 * ```
 */
export class ChannelSubscriber {
  private connection: Redis | undefined;
  private readonly channels = new Map<string, Channel>();
  private readonly patterns = new Map<string, Pattern>();
  /** Patterns Redis refused (an ACL without that exact pattern): their channels subscribe one by one. */
  private readonly refused = new Set<string>();
  private closed = false;

  /**
   * @param base - a connection to copy the settings of; it is not used or closed
   * @param log - where connection and listener problems are reported
   */
  constructor(
    private readonly base: RedisClient,
    private readonly log: RateLimitedLog,
    /** Reports the connection's outages instead of the log (the app's ConnectionWatch). */
    private readonly watch?: { follow(client: RedisClient, stop: boolean): void },
  ) {}

  /**
   * Delivers every message published on `channel` to `listener`, and calls `resubscribed` each
   * time the channel is subscribed again after the connection dropped.
   */
  listen(channel: string, listener: MessageListener, resubscribed?: () => void, via?: string): Subscription {
    if (this.closed) throw new ClosedError('The subscriber');
    const connection = this.open();
    let state = this.channels.get(channel);
    if (via !== undefined && this.refused.has(via)) via = undefined;
    if (state === undefined) {
      state = { via, listeners: new Set(), confirmed: false, confirmedBefore: false, waiting: undefined };
      this.channels.set(channel, state);
      if (via !== undefined) this.holdPattern(via).channels.add(channel);
      else if (connection.status === 'ready') this.subscribe([channel]);
    }
    const entry: ChannelListener = { message: listener, resubscribed };
    state.listeners.add(entry);
    const held = state;
    // A channel riding on a pattern is confirmed with it.
    const confirmed = held.via === undefined ? held.confirmed : this.patterns.get(held.via)!.confirmed;
    let waiter: ConfirmationWaiter | undefined;
    let ready = CONFIRMED;
    if (!confirmed) {
      ready = new Promise<void>((resolve, reject) => {
        waiter = { resolve, reject };
        (held.waiting ??= new Set()).add(waiter);
      });
      // Nobody has to await `ready`; a rejection then must not be reported as unhandled.
      ready.catch(() => {});
    }
    let open = true;
    return {
      ready,
      close: () => {
        if (!open) return;
        open = false;
        held.listeners.delete(entry);
        if (waiter !== undefined && held.waiting?.delete(waiter) === true) waiter.reject(new ClosedError(`The subscription to ${channel}`));
        if (held.listeners.size > 0 || this.channels.get(channel) !== held) return;
        this.channels.delete(channel);
        if (held.via !== undefined) this.releasePattern(held.via, (state) => state.channels.delete(channel));
        else if (this.connection?.status === 'ready') this.connection.unsubscribe(channel).catch(() => {});
      },
    };
  }

  /**
   * Delivers every message on any channel `pattern` matches to `listener`, through the pattern's
   * one PSUBSCRIBE (held, like a channel's, while anyone listens), and calls `lost` whenever
   * messages on it may have been missed: the pattern subscribed again after a disconnect, or
   * refused by Redis. Confirmation is the caller's to check ({@link confirmed}).
   */
  listenPattern(pattern: string, listener: PatternListener, lost: () => void): { close(): void } {
    if (this.closed) throw new ClosedError('The subscriber');
    this.open();
    const state = this.holdPattern(pattern);
    state.listeners.add(listener);
    state.lost.add(lost);
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        this.releasePattern(pattern, (held) => {
          held.listeners.delete(listener);
          held.lost.delete(lost);
        });
      },
    };
  }

  /** Whether Redis has confirmed `pattern` on the current connection (messages on it are delivered). */
  confirmed(pattern: string): boolean {
    return this.patterns.get(pattern)?.confirmed === true && this.connection?.status === 'ready';
  }

  /** Closes the connection; pending `ready` promises reject with `ClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [channel, state] of this.channels) {
      for (const waiter of state.waiting ?? []) waiter.reject(new ClosedError(`The subscription to ${channel}`));
    }
    for (const state of this.patterns.values()) clearTimeout(state.linger);
    this.channels.clear();
    this.patterns.clear();
    const connection = this.connection;
    this.connection = undefined;
    if (connection === undefined) return;
    if (connection.status === 'ready') await connection.quit().catch(() => connection.disconnect());
    else connection.disconnect();
  }

  private open(): Redis {
    if (this.connection !== undefined) return this.connection;
    const connection = subscriberConnection(this.base, {
      // Resubscribing is ours (see the module comment); commands are only sent when ready.
      autoResubscribe: false,
      enableOfflineQueue: false,
      // INFO, which the ready check sends, is refused in subscriber mode.
      enableReadyCheck: false,
      maxRetriesPerRequest: null,
      lazyConnect: false,
    });
    connection.on('message', (channel: string, message: string) => this.deliver(channel, message, undefined));
    connection.on('pmessage', (pattern: string, channel: string, message: string) => this.deliver(channel, message, pattern));
    connection.on('ready', () => {
      // After ioredis's own ready handling (it may still SELECT the database).
      queueMicrotask(() => {
        if (this.connection !== connection) return;
        const own = [...this.channels].filter(([, state]) => state.via === undefined).map(([channel]) => channel);
        if (own.length > 0) this.subscribe(own);
        if (this.patterns.size > 0) this.psubscribe([...this.patterns.keys()]);
      });
    });
    connection.on('close', () => {
      for (const state of this.channels.values()) state.confirmed = false;
      for (const state of this.patterns.values()) state.confirmed = false;
    });
    // On a cluster the connection gives up on a node that stays down: take another node (after a
    // pause, so a refused password does not spin).
    if (isCluster(this.base)) {
      connection.on('end', () => {
        if (this.closed || this.connection !== connection) return;
        this.connection = undefined;
        setTimeout(() => {
          if (!this.closed && this.connection === undefined) this.open();
        }, 500).unref();
      });
    }
    if (this.watch !== undefined) this.watch.follow(connection, true);
    else {
      connection.on('error', (error: Error) =>
        this.log.warn('subscriber connection', `subscriber: Redis connection error (it reconnects on its own): ${error.message}`),
      );
    }
    this.connection = connection;
    return connection;
  }

  private subscribe(channels: string[]): void {
    const connection = this.connection;
    if (connection === undefined) return;
    connection.subscribe(...channels).then(
      () => {
        if (this.connection !== connection || connection.status !== 'ready') return;
        for (const channel of channels) {
          const state = this.channels.get(channel);
          if (state === undefined) continue;
          state.confirmed = true;
          this.confirm(channel, state, state.confirmedBefore);
          state.confirmedBefore = true;
        }
      },
      // The next 'ready' subscribes again.
      (error: Error) => this.log.warn('subscribe', `subscriber: SUBSCRIBE failed, retrying when Redis is back: ${error.message}`),
    );
  }

  /** The state of `pattern`, for a new user to add itself to; subscribes the pattern if it is new. */
  private holdPattern(pattern: string): Pattern {
    let state = this.patterns.get(pattern);
    if (state === undefined) {
      state = { channels: new Set(), listeners: new Set(), lost: new Set(), confirmed: false, confirmedBefore: false, linger: undefined };
      this.patterns.set(pattern, state);
      if (this.connection?.status === 'ready') this.psubscribe([pattern]);
    }
    clearTimeout(state.linger);
    state.linger = undefined;
    return state;
  }

  /** Takes a user off `pattern` (`leave`); the pattern is unsubscribed once unused for a while. */
  private releasePattern(pattern: string, leave: (state: Pattern) => void): void {
    const state = this.patterns.get(pattern);
    if (state === undefined) return;
    leave(state);
    if (inUse(state)) return;
    state.linger = setTimeout(() => {
      if (this.patterns.get(pattern) !== state || inUse(state)) return;
      this.patterns.delete(pattern);
      if (this.connection?.status === 'ready') this.connection.punsubscribe(pattern).catch(() => {});
    }, PATTERN_LINGER_MS);
    state.linger.unref();
  }

  private psubscribe(patterns: string[]): void {
    const connection = this.connection;
    if (connection === undefined) return;
    connection.psubscribe(...patterns).then(
      () => {
        if (this.connection !== connection || connection.status !== 'ready') return;
        for (const pattern of patterns) {
          const state = this.patterns.get(pattern);
          if (state === undefined) continue;
          state.confirmed = true;
          for (const channel of state.channels) {
            const carried = this.channels.get(channel);
            if (carried !== undefined) this.confirm(channel, carried, state.confirmedBefore);
          }
          if (state.confirmedBefore) for (const callback of state.lost) this.call(pattern, callback);
          state.confirmedBefore = true;
        }
      },
      (error: Error) => {
        if (/NOPERM/i.test(error.message)) return this.refuse(patterns, error);
        // The next 'ready' subscribes again.
        this.log.warn('subscribe', `subscriber: PSUBSCRIBE failed, retrying when Redis is back: ${error.message}`);
      },
    );
  }

  /** Redis refused these patterns: their channels fall back to subscriptions of their own. */
  private refuse(patterns: readonly string[], error: Error): void {
    this.log.warn(
      'psubscribe refused',
      `subscriber: Redis refused PSUBSCRIBE ${patterns.join(' ')} (${error.message}); each wait subscribes its own channel instead, ` +
        `which costs a round trip per wait. Grant the pattern literally (ACL: &${patterns[0]!}) to avoid it.`,
    );
    const moved: string[] = [];
    for (const pattern of patterns) {
      this.refused.add(pattern);
      const state = this.patterns.get(pattern);
      if (state === undefined) continue;
      this.patterns.delete(pattern);
      clearTimeout(state.linger);
      // Nothing reaches them through this pattern any more.
      for (const callback of state.lost) this.call(pattern, callback);
      for (const channel of state.channels) {
        const carried = this.channels.get(channel);
        if (carried === undefined || carried.via !== pattern) continue;
        carried.via = undefined;
        moved.push(channel);
      }
    }
    if (moved.length > 0 && this.connection?.status === 'ready') this.subscribe(moved);
  }

  /** Tells a channel's listeners Redis confirmed it; `again`: messages since the last time may be lost. */
  private confirm(channel: string, state: Channel, again: boolean): void {
    const { waiting } = state;
    state.waiting = undefined;
    for (const waiter of waiting ?? []) waiter.resolve();
    if (!again) return;
    for (const { resubscribed } of state.listeners) if (resubscribed !== undefined) this.call(channel, resubscribed);
  }

  /** Delivers a message to its channel's listeners, if it came the way the channel is subscribed. */
  private deliver(channel: string, message: string, pattern: string | undefined): void {
    if (pattern !== undefined) {
      const listeners = this.patterns.get(pattern)?.listeners;
      if (listeners !== undefined) for (const listener of listeners) this.call(channel, () => listener(channel, message));
    }
    const state = this.channels.get(channel);
    if (state === undefined || state.via !== pattern) return;
    for (const listener of state.listeners) this.call(channel, () => listener.message(message));
  }

  private call(channel: string, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.log.error('listener', `subscriber: a listener on ${channel} threw; the message was dropped`, error);
    }
  }
}

/** Whether anyone still uses a pattern: a channel it carries, or a listener of all of them. */
function inUse(state: Pattern): boolean {
  return state.channels.size > 0 || state.listeners.size > 0;
}
