/**
 * One pub/sub connection per app, shared by every waiting `get()` and by the workers' control
 * subscription. Messages are hints, never trusted as state: whoever listens re-reads what a
 * message points at. A reconnect makes every listener re-read ({@link RECHECK}), since messages
 * published meanwhile are lost, and re-subscribes every channel — including one whose first
 * SUBSCRIBE was sent while Redis was down.
 */
import type { Redis } from 'ioredis';

/** Receives each message published on a channel, or {@link RECHECK} after a reconnect. */
export type Listener = (message: string) => void;

/** Sent to every listener when the subscriber reconnects: re-read state, messages may be lost. */
export const RECHECK = Symbol('recheck');

/** A listener as the hub calls it: a message, or {@link RECHECK}. */
type Delivery = (message: string | typeof RECHECK) => void;

export class PubSub {
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<Delivery>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();

  /** `connect` opens the subscriber connection; it must wait for Redis rather than fail commands. */
  constructor(private readonly connect: () => Redis) {}

  /**
   * Subscribes `listener` to `channel`; resolves once messages are guaranteed to arrive (which,
   * while Redis is down, is once it is back). Resolves to the function that unsubscribes.
   */
  async listen(channel: string, listener: Delivery): Promise<() => void> {
    const subscriber = this.open();
    let set = this.listeners.get(channel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(channel, set);
      this.subscribing.set(channel, subscriber.subscribe(channel));
    }
    set.add(listener);
    await this.subscribing.get(channel);
    const listeners = set;
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.listeners.get(channel) === listeners) {
        this.listeners.delete(channel);
        this.subscribing.delete(channel);
        subscriber.unsubscribe(channel).catch(() => {});
      }
    };
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    this.listeners.clear();
    this.subscribing.clear();
    if (subscriber !== undefined) await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private open(): Redis {
    if (this.subscriber !== undefined) return this.subscriber;
    const subscriber = this.connect();
    let connectedBefore = false;
    subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message);
    });
    subscriber.on('ready', () => {
      if (connectedBefore) {
        // ioredis re-subscribes what it had subscribed; SUBSCRIBE again covers any whose first
        // attempt failed. Subscribing twice to a channel is harmless.
        const channels = [...this.listeners.keys()];
        if (channels.length > 0) {
          const again = subscriber.subscribe(...channels);
          again.catch(() => {});
          for (const channel of channels) this.subscribing.set(channel, again);
        }
        for (const set of this.listeners.values()) for (const listener of set) listener(RECHECK);
      }
      connectedBefore = true;
    });
    // Errors surface as reconnects; a waiter's own timeout bounds how long it can be stuck.
    subscriber.on('error', () => {});
    this.subscriber = subscriber;
    return subscriber;
  }
}
