/**
 * One pub/sub connection per app, shared by every waiting `get()`: a waiter subscribes to its
 * workflow's channel, and the Lua scripts PUBLISH each terminal state there. Waiting costs no
 * polling; a reconnect makes every waiter re-read state, since messages sent meanwhile are lost.
 */
import type { Redis } from 'ioredis';

/** `"<index>:<STATE>"` from a script, or {@link RECHECK} after a reconnect. */
export type Listener = (message: string) => void;

/** Sent to every listener when the subscriber reconnects: re-read state, events may be lost. */
export const RECHECK = '*';

export class EventHub {
  private subscriber: Redis | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();

  constructor(private readonly connect: () => Redis) {}

  /** Subscribes `listener` to `channel`; resolves once messages are guaranteed to arrive. */
  async listen(channel: string, listener: Listener): Promise<() => void> {
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
      if (connectedBefore) for (const set of this.listeners.values()) for (const listener of set) listener(RECHECK);
      connectedBefore = true;
    });
    // Errors surface as reconnects; a waiter's own timeout bounds how long it can be stuck.
    subscriber.on('error', () => {});
    this.subscriber = subscriber;
    return subscriber;
  }
}
