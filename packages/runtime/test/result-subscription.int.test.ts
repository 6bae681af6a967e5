/**
 * `resultSubscription`: how a waiting `get()` hears of its result. With `'app'` (the default) one
 * pattern subscription carries every workflow's announcements; with `'result'` each wait
 * subscribes its own workflow's channel, so a process hears only what it waits for.
 */
import { chain, group } from '@celeriac/canvas';
import { InvalidArgumentError, createApp, type App, type ResultSubscription } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';

const T = { timeout: 15_000 };

let admin: Redis;
beforeEach(() => {
  admin = new Redis(redisUrl());
});
afterEach(() => admin.quit());

/** Patterns subscribed on the whole server (integration files run one at a time). */
async function patternCount(): Promise<number> {
  return Number(await admin.call('PUBSUB', 'NUMPAT'));
}

/** Workflows' events channels under `prefix` that someone subscribed to by name. */
async function channelsOf(prefix: string): Promise<string[]> {
  return (await admin.call('PUBSUB', 'CHANNELS', `${prefix}:*:events`)) as string[];
}

/**
 * Starts a `get()` on a task that runs until released, and returns what Redis's pub/sub looked
 * like while it waited: the patterns added, and the channels under the app's prefix.
 */
async function whileWaiting(resultSubscription: ResultSubscription): Promise<{ app: App; patternsAdded: number; channels: string[] }> {
  const before = await patternCount();
  const app = testApp({ resultSubscription });
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const hold = app.task('hold', async () => {
    await released;
    return 'done';
  });
  const res = await hold.delay();
  const waiting = res.get(T);
  // The wait subscribes before it first reads; give it a moment, then look.
  let channels: string[] = [];
  for (let tries = 0; tries < 100; tries++) {
    channels = await channelsOf(app.prefix);
    if (channels.some((channel) => channel.includes(res.id)) || (await patternCount()) > before) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const patternsAdded = (await patternCount()) - before;
  app.worker();
  release();
  expect(await waiting).toBe('done');
  return { app, patternsAdded, channels: channels.filter((channel) => channel.includes(res.id)) };
}

describe('resultSubscription', () => {
  it("'app' (the default): waits ride one pattern subscription, with no channel of their own", async () => {
    const { patternsAdded, channels } = await whileWaiting('app');
    expect(patternsAdded).toBe(1);
    expect(channels).toEqual([]);
  });

  it("'result': a wait subscribes its own workflow's channel, and the app subscribes no pattern", async () => {
    const { patternsAdded, channels } = await whileWaiting('result');
    expect(patternsAdded).toBe(0);
    expect(channels).toHaveLength(1);
  });

  it("'result': lone tasks one after another, chains with their .parent, groups and failures all reach their waiters", async () => {
    const app = testApp({ resultSubscription: 'result' });
    const add = app.task('add', (x: number, y: number) => x + y);
    const boom = app.task('boom', () => {
      throw new Error('boom');
    });
    app.worker({ concurrency: 4 });
    for (let i = 0; i < 20; i++) expect(await (await add.delay(i, i)).get(T)).toBe(2 * i);
    const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
    expect(await res.get(T)).toBe(16);
    expect(await res.parent!.get(T)).toBe(8);
    expect(await (await app.apply(group(add.s(1, 1), add.s(2, 2), add.s(3, 3)))).get(T)).toEqual([2, 4, 6]);
    await expect((await boom.delay()).get(T)).rejects.toThrow('boom');
    // Nothing was left subscribed once the waits ended.
    expect(await channelsOf(app.prefix)).toEqual([]);
  });

  it('refuses anything else, naming the option and what it takes', () => {
    expect(() => createApp({ resultSubscription: 'pattern' as never })).toThrow(InvalidArgumentError);
    expect(() => createApp({ resultSubscription: 'pattern' as never })).toThrow(/resultSubscription: expected 'app' or 'result', got "pattern"/);
  });
});
