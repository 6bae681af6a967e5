/**
 * What the default lock (10 s) and stalled-job check (5 s) — which bring a dead worker's jobs back
 * within 15 s — cost in Redis: an idle worker's commands, counted by MONITOR on a Redis of its own.
 */
import { consoleLogger, createApp } from '@celeriac/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../../../scripts/private-redis.js';
import { monitorCommands } from '../../../../test/monitor-feed.js';
import { sleep } from './lib/seed.js';

let redis: PrivateRedis;
beforeAll(async () => {
  redis = await startPrivateRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('the default lock and stalled-job check', () => {
  it('cost an idle worker one stalled-job check per 5 s per queue, about one Redis call a second in all', { timeout: 60_000 }, async () => {
    const app = createApp({ redis: redis.url, prefix: 'cost', logger: consoleLogger('silent') });
    const worker = app.worker({ concurrency: 4 });
    await worker.waitUntilReady();
    await sleep(1_000);
    const calls: string[] = [];
    const feed = await monitorCommands(redis.url, ({ args, source }) => {
      // A script's own commands are listed too; count the calls clients made.
      if (source !== 'lua') calls.push(args[0] === 'evalsha' ? `evalsha ${args[3] ?? ''}` : args[0]!);
    });
    const seconds = 10;
    await sleep(seconds * 1_000);
    feed.close();
    await worker.close();
    await app.close();
    // BullMQ's moveStalledJobsToWait (first key `<queue>:stalled`; with no job running, no lock renewal shares it).
    const stalledChecks = calls.filter((call) => call === 'evalsha cost:q:default:stalled').length;
    console.log(`an idle worker in ${seconds} s: ${calls.length} calls, ${stalledChecks} stalled-job checks`);
    expect(stalledChecks).toBeGreaterThanOrEqual(seconds / 5 - 1);
    expect(stalledChecks).toBeLessThanOrEqual(seconds / 5 + 1);
    expect(calls.length).toBeLessThanOrEqual(seconds * 2);
  });
});
