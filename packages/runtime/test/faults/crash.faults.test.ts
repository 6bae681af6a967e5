/**
 * Invariant 2 under crashes: worker processes are SIGKILLed at seeded random moments while mixed
 * workflows run, and started again. Every workflow must end with its value, every successor must be
 * released exactly once, no waiter may hang, and tasks may run again only because a kill caught
 * them in flight (at most `concurrency` per kill).
 */
import type { ChildProcess } from 'node:child_process';
import { consoleLogger, createApp, type AnyResult, type App } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../../../scripts/private-redis.js';
import { killProcess, startWorkerProcess } from './lib/processes.js';
import { SIZE, seededForTest, sleep } from './lib/seed.js';
import { verify, waitAll } from './lib/verify.js';
import { mixedWorkflows } from './lib/workflows.js';

const CONCURRENCY = 4;
// A dead worker's jobs go elsewhere within lock + stalled check: 5 s here, 15 s with the defaults
// (crash.int.test.ts pins those); the suite shortens it to spend its time on more kills.
const WORKER_ENV = { CELERIAC_LOCK_MS: '4000', CELERIAC_STALLED_MS: '1000', CELERIAC_CONCURRENCY: String(CONCURRENCY), CELERIAC_PAUSE_MS: '20,150' };

let redis: PrivateRedis;
let ledger: Redis;
let app: App;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  ledger = new Redis(redis.url, { maxRetriesPerRequest: null });
  app = createApp({ redis: redis.url, prefix: 'faults-crash', logger: consoleLogger('silent') });
});

afterAll(async () => {
  await Promise.all(workers.map(killProcess));
  await app?.close();
  ledger?.disconnect();
  await redis?.stop();
});

describe('worker processes SIGKILLed at random moments', () => {
  it(`finish ${SIZE} mixed workflows right, each successor released once, while Redis restarts from its AOF between the kills`, { timeout: 90_000 + SIZE * 2_000 }, async () => {
    const rng = seededForTest('packages/runtime/test/faults/crash.faults.test.ts');
    const server = await startPrivateRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    const own = new Redis(server.url, { maxRetriesPerRequest: null }).on('error', () => {});
    const producer = createApp({ redis: server.url, prefix: 'faults-chaos', logger: consoleLogger('silent'), unavailableTimeout: 30_000 });
    const children: ChildProcess[] = [];
    try {
      const cases = mixedWorkflows(rng, SIZE);
      children.push(...(await Promise.all([0, 1].map(() => startWorkerProcess(server.url, producer.prefix, WORKER_ENV)))));
      const results: AnyResult[] = [];
      for (const { canvas } of cases) results.push(await producer.apply(canvas));
      let settled = false;
      const waiting = waitAll(results, 60_000 + SIZE * 1_500).finally(() => (settled = true));
      const faults = { kills: 0, restarts: 0 };
      const maxFaults = Math.max(4, Math.ceil(SIZE / 15));
      while (!settled && faults.kills + faults.restarts < maxFaults) {
        await sleep(rng.int(100, 800));
        if (settled) break;
        if (rng.chance(0.5)) {
          const victim = rng.int(0, children.length - 1);
          await killProcess(children[victim]!);
          faults.kills++;
          children[victim] = await startWorkerProcess(server.url, producer.prefix, WORKER_ENV);
        } else {
          await server.kill();
          faults.restarts++;
          await sleep(rng.int(100, 2_000));
          await server.start();
        }
      }
      const verdict = await verify(producer, own, cases, results, await waiting);
      console.log(`chaos: seed ${rng.seed}, ${SIZE} workflows, ${verdict.nodes} tasks, ${verdict.releases} releases, ${faults.kills} kills, ${faults.restarts} restarts, ${verdict.reruns} tasks ran again`);
      expect(verdict.problems).toEqual([]);
      expect(faults.kills + faults.restarts).toBeGreaterThan(0);
    } finally {
      await Promise.all(children.map(killProcess));
      await producer.close();
      own.disconnect();
      await server.stop();
    }
  });


  it(`finish ${SIZE} mixed workflows with the right values, every successor released exactly once`, { timeout: 60_000 + SIZE * 1_500 }, async () => {
    const rng = seededForTest('packages/runtime/test/faults/crash.faults.test.ts');
    const cases = mixedWorkflows(rng, SIZE);
    workers.push(...(await Promise.all([0, 1].map(() => startWorkerProcess(redis.url, app.prefix, WORKER_ENV)))));

    const results: AnyResult[] = [];
    for (const { canvas } of cases) results.push(await app.apply(canvas));
    let settled = false;
    const waiting = waitAll(results, 60_000 + SIZE * 1_000).finally(() => (settled = true));

    let kills = 0;
    const maxKills = Math.max(3, Math.ceil(SIZE / 20));
    while (!settled && kills < maxKills) {
      await sleep(rng.int(100, 800));
      if (settled) break;
      const victim = rng.int(0, workers.length - 1);
      await killProcess(workers[victim]!);
      kills++;
      workers[victim] = await startWorkerProcess(redis.url, app.prefix, WORKER_ENV);
    }

    const verdict = await verify(app, ledger, cases, results, await waiting);
    console.log(`crash: seed ${rng.seed}, ${SIZE} workflows, ${verdict.nodes} tasks, ${verdict.releases} releases, ${kills} kills, ${verdict.reruns} tasks ran again`);
    expect(verdict.problems).toEqual([]);
    expect(kills).toBeGreaterThan(0);
    expect(verdict.releases).toBeGreaterThan(SIZE);
    expect(verdict.reruns).toBeLessThanOrEqual(kills * CONCURRENCY);
  });
});
