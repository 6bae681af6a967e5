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
 */
import { isCluster, subscriberConnection, type RedisClient } from './connection.js';
import type { Redis } from 'ioredis';
import { ClosedError } from './errors.js';
import type { RateLimitedLog } from './logger.js';

/** Receives each message published on a channel. It must not throw (if it does, that is logged). */
export type MessageListener = (message: string) => void;

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

interface Channel {
  readonly listeners: Set<MessageListener>;
  /** Called when the channel is subscribed again after a disconnect: messages may have been lost. */
  readonly resubscribed: Set<() => void>;
  /** Whether Redis confirmed the subscription on the current connection. */
  confirmed: boolean;
  /** Whether Redis ever confirmed it: a later confirmation is a resubscription. */
  confirmedBefore: boolean;
  /** Subscriptions waiting for the confirmation. */
  readonly waiting: Set<{ resolve(): void; reject(error: Error): void }>;
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
  listen(channel: string, listener: MessageListener, resubscribed?: () => void): Subscription {
    if (this.closed) throw new ClosedError('The subscriber');
    const connection = this.open();
    let state = this.channels.get(channel);
    if (state === undefined) {
      state = { listeners: new Set(), resubscribed: new Set(), confirmed: false, confirmedBefore: false, waiting: new Set() };
      this.channels.set(channel, state);
      if (connection.status === 'ready') this.subscribe([channel]);
    }
    state.listeners.add(listener);
    if (resubscribed !== undefined) state.resubscribed.add(resubscribed);
    const held = state;
    let waiter: { resolve(): void; reject(error: Error): void } | undefined;
    const ready = held.confirmed
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
          waiter = { resolve, reject };
          held.waiting.add(waiter);
        });
    // Nobody has to await `ready`; a rejection then must not be reported as unhandled.
    ready.catch(() => {});
    let open = true;
    return {
      ready,
      close: () => {
        if (!open) return;
        open = false;
        held.listeners.delete(listener);
        if (resubscribed !== undefined) held.resubscribed.delete(resubscribed);
        if (waiter !== undefined && held.waiting.delete(waiter)) waiter.reject(new ClosedError(`The subscription to ${channel}`));
        if (held.listeners.size > 0 || this.channels.get(channel) !== held) return;
        this.channels.delete(channel);
        if (this.connection?.status === 'ready') this.connection.unsubscribe(channel).catch(() => {});
      },
    };
  }

  /** Closes the connection; pending `ready` promises reject with `ClosedError`. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [channel, state] of this.channels) {
      for (const waiter of state.waiting) waiter.reject(new ClosedError(`The subscription to ${channel}`));
    }
    this.channels.clear();
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
    connection.on('message', (channel: string, message: string) => this.deliver(channel, message));
    connection.on('ready', () => {
      // After ioredis's own ready handling (it may still SELECT the database).
      queueMicrotask(() => {
        if (this.connection === connection && this.channels.size > 0) this.subscribe([...this.channels.keys()]);
      });
    });
    connection.on('close', () => {
      for (const state of this.channels.values()) state.confirmed = false;
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
          for (const waiter of state.waiting) waiter.resolve();
          state.waiting.clear();
          if (state.confirmedBefore) for (const callback of state.resubscribed) this.call(channel, callback);
          state.confirmedBefore = true;
        }
      },
      // The next 'ready' subscribes again.
      (error: Error) => this.log.warn('subscribe', `subscriber: SUBSCRIBE failed, retrying when Redis is back: ${error.message}`),
    );
  }

  private deliver(channel: string, message: string): void {
    const state = this.channels.get(channel);
    if (state === undefined) return;
    for (const listener of state.listeners) this.call(channel, () => listener(message));
  }

  private call(channel: string, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.log.error('listener', `subscriber: a listener on ${channel} threw; the message was dropped`, error);
    }
  }
}
