/**
 * A lone successor's job is added on the worker connection that completes its predecessor, and
 * the predecessor completes without waiting for the add's reply (src/handoff.ts). Invariant 2 then
 * rests on Redis running one connection's commands in order: these tests pin that order, and the
 * retries of an add that Redis refused after the predecessor had completed.
 */
import { chain, chord, withOptions } from '@celeriac/canvas';
import type { GroupResult, Logger } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { monitor, redisUrl, testApp } from './helpers.js';

const T = { timeout: 10_000 };

const clients: Redis[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

describe('handing a successor off ahead of the completion', () => {
  it('adds each lone successor before its predecessor completes, on the same connection', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const sum = app.task('sum', (values: number[]) => values.reduce((a, b) => a + b, 0));
    const worker = app.worker(); // one job at a time: the header member that runs last releases the body
    await worker.waitUntilReady();
    const monitored = await monitor();

    const res = await app.apply(chain(add.s(1, 1), add.s(2), chord([add.si(1, 1), add.si(2, 2)], sum.s())));
    expect(await res.get(T)).toBe(6);
    await monitored.caughtUp();
    const { executed } = monitored;

    const header = res.parent as GroupResult;
    const [first, second] = [header.parent!.parent!.id, header.parent!.id];
    const [members, body] = [header.results.map((member) => member.id), res.id];
    const queueKey = `${app.prefix}:q:default`;
    // BullMQ's add script: it pushes to the queue's wait list, and its data is the node's job.
    const addOf = (id: string) =>
      executed.findIndex((c) => c.args.includes(`${queueKey}:wait`) && c.args.some((arg) => arg.includes(`"id":"${id}"`)));
    const completionOf = (id: string) => executed.findLastIndex((c) => c.args.includes(`${queueKey}:${id}`));
    // The chain hop, and the chord join.
    const lastMember = members.reduce((last, id) => (completionOf(id) > completionOf(last) ? id : last));
    for (const [from, to] of [
      [first, second],
      [lastMember, body],
    ] as const) {
      const [added, completed] = [addOf(to), completionOf(from)];
      expect(added, `the add of ${to}`).toBeGreaterThanOrEqual(0);
      expect(completed, `the completion of ${from}`).toBeGreaterThan(added);
      expect(executed[completed]!.source, `${from} completes on the connection that added ${to}`).toBe(executed[added]!.source);
    }
  });

  it('retries an add Redis refused after the predecessor completed', async () => {
    const logger: Logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const app = testApp({ logger });
    const add = app.task('add', (x: number, y: number) => x + y);
    const redis = new Redis(redisUrl());
    clients.push(redis);
    // BullMQ's add increments the queue's job counter first: a counter that is not a number makes
    // Redis refuse every add to the queue `other` until it is deleted.
    const counter = `${app.prefix}:q:other:id`;
    await redis.set(counter, 'not a number');

    const res = await app.apply(chain(add.s(1, 1), withOptions(add.s(10), { queue: 'other' })));
    app.worker({ queues: ['default'] });
    await vi.waitFor(() => expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining(`task ${res.id} (add`), expect.anything()), T);
    expect(await res.parent!.get(T)).toBe(2);

    await redis.del(counter); // the next attempt, a second after the first, succeeds
    app.worker({ queues: ['other'] });
    expect(await res.get(T)).toBe(12);
    expect(logger.error).not.toHaveBeenCalled();
  });
});
