/**
 * DESIGN §4, invariant 6, for a producer: one SIGKILLed inside `apply` — between a workflow's plan
 * and its adds, or between the slices of a big group's adds — leaves released tasks with no job.
 * With no retried apply, the workers' outbox sweep must enqueue them: every workflow the producer
 * created ends with its value, every task runs once, every successor is released once.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { consoleLogger, createApp, type AnyResult } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../../../scripts/private-redis.js';
import { killProcess, startWorkerProcess } from './lib/processes.js';
import { startWorkerProcess as startProcess } from '../worker-process.js';
import { rng as rngOf, SIZE, seededForTest } from './lib/seed.js';
import { verify, waitAll } from './lib/verify.js';
import { BIG_GROUP, BIG_GROUPS, BIG_QUEUE, bigGroup, mixedWorkflows, type Case } from './lib/workflows.js';

const PREFIX = 'faults-producer';
const SWEEP_MS = 1_000;
const producerFixture = fileURLToPath(new URL('./lib/producer-process.ts', import.meta.url));

let redis: PrivateRedis;
let own: Redis;
const children: ChildProcess[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  own = new Redis(redis.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  await Promise.all(children.map(killProcess));
  own?.disconnect();
  await redis?.stop();
});

describe('a producer SIGKILLed inside apply', () => {
  it(`leaves no task behind: the outbox sweep enqueues what it released, and ${SIZE} mixed workflows and the big groups it created end right`, { timeout: 120_000 }, async () => {
    const rng = seededForTest('packages/runtime/test/faults/producer.faults.test.ts');
    const producer = await startProcess({ fixture: producerFixture, redisUrl: redis.url, prefix: PREFIX, env: { CELERIAC_FAULTS_SEED: String(rng.seed) } });
    children.push(producer);
    // Killed while a big group's adds are half sent (the first, second or third group): its queue
    // then holds a number of jobs that is not a whole number of groups. The mixed workflows are
    // being applied meanwhile.
    const waiting = `${PREFIX}:q:${BIG_QUEUE}:wait`;
    const after = rng.int(0, 2) * BIG_GROUP;
    for (;;) {
      const queued = await own.llen(waiting);
      if (queued > after && queued % BIG_GROUP !== 0) break;
      if (producer.exitCode !== null) throw new Error('the producer applied everything before it could be killed mid-apply');
    }
    await killProcess(producer);

    const app = createApp({ redis: redis.url, prefix: PREFIX, logger: consoleLogger('silent') });
    try {
      const candidates: { id: string; case: Case }[] = [
        // The producer's own: drawn from the seed afresh.
        ...mixedWorkflows(rngOf(rng.seed), SIZE).map((c, k) => ({ id: `mixed-${k}`, case: c })),
        ...Array.from({ length: BIG_GROUPS }, (_, j) => ({ id: `big-${j}`, case: bigGroup(j) })),
      ];
      const created = [];
      for (const candidate of candidates) {
        if ((await own.exists(app.internals.store.keys(candidate.id).graph)) === 1) created.push(candidate);
      }
      const bigCreated = created.filter(({ id }) => id.startsWith('big-')).length;
      const unqueued = bigCreated * BIG_GROUP - (await own.llen(waiting));
      console.log(`producer: seed ${rng.seed}, killed with ${created.length} workflows created (${bigCreated} big groups), ${unqueued} big-group tasks never queued`);
      expect(unqueued).toBeGreaterThan(0);

      const env = { CELERIAC_SWEEP_MS: String(SWEEP_MS), CELERIAC_QUEUES: `default,${BIG_QUEUE}`, CELERIAC_CONCURRENCY: '20', CELERIAC_PAUSE_MS: '0,2' };
      children.push(...(await Promise.all([0, 1].map(() => startWorkerProcess(redis.url, PREFIX, env)))));
      const results: AnyResult[] = await Promise.all(created.map(({ id }) => app.result(id)));
      const outcomes = await waitAll(results, 60_000);
      const verdict = await verify(app, own, created.map((c) => c.case), results, outcomes);
      expect(verdict.problems).toEqual([]);
      // No worker died: every task of every workflow created ran exactly once, the swept ones included.
      const metas = await Promise.all(created.map(({ id }) => app.internals.store.meta(id)));
      expect(verdict.reruns).toBe(0);
      expect(verdict.executions).toBe(metas.reduce((sum, meta) => sum + meta!.nodes.length, 0));
    } finally {
      await app.close();
    }
  });
});
