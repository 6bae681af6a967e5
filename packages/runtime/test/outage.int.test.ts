/**
 * Redis going away and coming back, as operations see it: calls fail within the app's
 * `unavailableTimeout` with a ConnectionError naming the address, workers report the outage once
 * and its end once, closing never hangs, and when Redis is back workers resume on their own —
 * control subscription included. Each test runs a redis-server of its own, to take it down.
 */
import { chain } from '@celeriac/canvas';
import { ConnectionError, createApp, type App, type Logger } from '@celeriac/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../../scripts/private-redis.js';

const T = { timeout: 15_000 };
const servers: PrivateRedis[] = [];
const apps: App[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (message: string): void => void lines.push(message);
  return { lines, debug: () => {}, info: () => {}, warn: keep, error: keep };
}

async function setup(unavailableTimeout = 1_500) {
  const redis = await startPrivateRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  servers.push(redis);
  const logger = recorder();
  const app = createApp({ redis: redis.url, prefix: 'outage', logger, unavailableTimeout });
  apps.push(app);
  const add = app.task('add', (x: number, y: number) => x + y);
  return { redis, logger, app, add };
}

describe('a Redis outage', () => {
  it('fails apply and get within unavailableTimeout with a ConnectionError naming the address', async () => {
    const { redis, app, add } = await setup(1_500);
    const pending = await add.delay(1, 1); // no worker: it stays PENDING
    await redis.kill();
    for (const call of [() => add.delay(2, 2), () => pending.get(), () => app.result(pending.id)]) {
      const started = Date.now();
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as Error).message).toContain(`127.0.0.1:${redis.port}`);
      expect(Date.now() - started).toBeLessThan(6_000);
    }
  });

  it('is reported once when it begins and once when it ends; the worker resumes, control included', async () => {
    const { redis, logger, app, add } = await setup(20_000);
    // Sweeping outboxes often: a sweep the outage cuts short adds no line of its own.
    const worker = app.worker({ concurrency: 2, name: 'w@%h', outboxSweepInterval: 300 });
    await worker.waitUntilReady();
    expect(await (await add.delay(1, 1)).get(T)).toBe(2);
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // several reconnect attempts
    await redis.start();
    // Work sent after the outage runs; a chain sent while the connection comes back too.
    expect(await (await app.apply(chain(add.s(1, 2), add.s(3)))).get(T)).toBe(6);
    await expect.poll(async () => Object.keys(await app.control.inspect({ timeout: 1_000 }).ping()), T).toEqual([worker.name]);
    expect(logger.lines.filter((line) => line.startsWith('lost the connection to Redis'))).toHaveLength(1);
    expect(logger.lines.filter((line) => /connection to Redis at .* is back, after \d+\.\d s/.test(line))).toHaveLength(1);
    expect(logger.lines.length).toBeLessThanOrEqual(4);
  });

  it('keeps a waiter through a short outage, and the workflow ends right', async () => {
    const { redis, app } = await setup(20_000);
    const slow = app.task('slow', async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      return x * 2;
    });
    app.worker();
    const res = await app.apply(chain(slow.s(1), slow.s()));
    const value = res.get({ timeout: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await redis.start(); // a crash and a restart; the AOF replays what was acknowledged
    expect(await value).toBe(4);
  });

  it('closes workers and the app within a bounded time while Redis is down', async () => {
    const { redis, app, add } = await setup(1_500);
    const worker = app.worker({ outboxSweepInterval: 200 });
    await worker.waitUntilReady();
    await (await add.delay(1, 1)).get(T);
    await redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 300)); // a sweep waits for Redis now
    const started = Date.now();
    await worker.close();
    await app.close();
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
