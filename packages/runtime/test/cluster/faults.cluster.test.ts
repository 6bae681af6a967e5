/**
 * Invariant 2 on a Redis Cluster (three masters, one replica each): nothing lost, nothing doubled
 * when a worker is SIGKILLed between recording a result (the workflow's slot) and enqueueing its
 * successors (their queues' slots), while slots move between masters (`redis-cli --cluster
 * reshard`: MOVED, ASK and TRYAGAIN under load), and across a master failover (`CLUSTER FAILOVER`
 * on a replica). Every release is counted by the scripts: each must be exactly 1.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chain, chord, group, signature, type Canvas } from '@celeriac/canvas';
import type { AnyResult, App } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { PrivateCluster } from '../../../../scripts/private-cluster.js';
import { killWorkerProcess, startWorkerProcess } from '../worker-process.js';
import { clusterApp, clusterClient, useCluster } from './helpers.js';

const fixture = fileURLToPath(new URL('../fixtures/crash-worker.ts', import.meta.url));
const cluster = useCluster({ replicas: 1 });

const urlOf = (running: PrivateCluster): string => `redis+cluster://${running.seeds.map(({ host, port }) => `${host}:${port}`).join(',')}`;

const startWorker = (running: PrivateCluster, prefix: string): Promise<ChildProcess> =>
  startWorkerProcess({ fixture, redisUrl: urlOf(running), prefix, startTimeoutMs: 30_000 });
const kill = killWorkerProcess;

const step = (x: number, y: number) => signature('step', [x, y]);
const next = (y: number) => signature('step', [y]);
const total = () => signature('total');

/** A mix of shapes, each with what it must return; `k` varies them so workflows differ. */
function shapes(k: number): { canvas: Canvas; expected: unknown }[] {
  return [
    { canvas: chain([step(k, 0), ...Array.from({ length: 5 }, () => next(1))]), expected: k + 5 },
    { canvas: group(Array.from({ length: 8 }, (_, j) => step(j, k))), expected: Array.from({ length: 8 }, (_, j) => j + k) },
    { canvas: chord(Array.from({ length: 10 }, (_, j) => step(j, 1)), total()), expected: 45 + 10 },
    { canvas: chain(step(1, 1), group(next(1), next(2), next(3)), total(), next(k)), expected: 3 + 4 + 5 + k },
  ];
}

/** In-process tasks like the crash worker's (without the run counter). */
function register(app: App): void {
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2 + Math.random() * 10));
  app.task('step', async (x: number, y: number) => (await pause(), x + y));
  app.task('total', async (values: number[]) => (await pause(), values.reduce((a, b) => a + b, 0)));
}

/** Checks every workflow's value and that every node was released exactly once. */
async function verify(app: App, results: readonly AnyResult[], expected: readonly unknown[]): Promise<number> {
  const values = await Promise.all(results.map((res) => res.get({ timeout: 90_000 })));
  values.forEach((value, i) => expect(value, `workflow ${i}`).toEqual(expected[i]));
  let releases = 0;
  for (const res of results) {
    const counts = await app.internals.store.releaseCounts(res.id);
    for (const [node, count] of Object.entries(counts)) {
      expect(count, `node ${node} of workflow ${res.id} released ${count} times`).toBe(1);
      releases++;
    }
  }
  return releases;
}

/** Applies workflows without pause until `stop` resolves. */
async function produce(app: App, stop: Promise<unknown>): Promise<{ results: AnyResult[]; expected: unknown[] }> {
  let stopped = false;
  // Its failure is the caller's to report (it awaits `stop` too), not an unhandled rejection here.
  stop.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  const results: AnyResult[] = [];
  const expected: unknown[] = [];
  for (let k = 0; !stopped || k < 8; k++) {
    const batch = shapes(k);
    results.push(...(await Promise.all(batch.map(({ canvas }) => app.apply(canvas)))));
    expected.push(...batch.map(({ expected: value }) => value));
  }
  return { results, expected };
}

describe('faults on a Redis Cluster', () => {
  it('finishes every workflow exactly once after workers are SIGKILLed mid-flight', { timeout: 180_000 }, async () => {
    const running = cluster();
    const app = clusterApp(running);
    const counter = clusterClient(running);
    let worker = await startWorker(running, app.prefix);
    try {
      const cases = Array.from({ length: 4 }, (_, k) => shapes(k)).flat();
      const results: AnyResult[] = [];
      for (const { canvas } of cases) results.push(await app.apply(canvas));
      for (const threshold of [30, 90]) {
        const started = Date.now();
        while (Number(await counter.hlen(`${app.prefix}:runs`)) < threshold && Date.now() - started < 30_000) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await kill(worker);
        worker = await startWorker(running, app.prefix);
      }
      expect(await verify(app, results, cases.map(({ expected }) => expected))).toBeGreaterThan(40);
      const runs = Object.values(await counter.hgetall(`${app.prefix}:runs`)).map(Number);
      // Only tasks in flight at a kill run again (at most the worker's concurrency, 8, per kill).
      expect(runs.filter((count) => count > 1).length).toBeLessThanOrEqual(2 * 8);
    } finally {
      await kill(worker);
    }
  });

  it('loses and doubles nothing while redis-cli reshards slots under load', { timeout: 180_000 }, async () => {
    const running = cluster();
    const app = clusterApp(running);
    register(app);
    app.worker({ concurrency: 20 });
    // Move slots away from the master of the default queue, its slot among them: BullMQ's scripts
    // on it meet ASK and TRYAGAIN while it migrates, as do the workflows' scripts on theirs.
    const queueKey = `${app.prefix}:q:{default}:default:id`;
    const from = await running.masterOf(queueKey);
    const to = (await running.masters()).find((master) => master.port !== from.port)!;
    const reshard = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await running.reshard({ from: from.port, to: to.port, slots: 3_000 });
    })();
    const { results, expected } = await produce(app, reshard);
    await reshard;
    expect(results.length).toBeGreaterThan(30);
    expect(await verify(app, results, expected)).toBeGreaterThan(100);
    const masters = await running.masters();
    expect(masters.find((master) => master.port === to.port)!.slotCount).toBe(to.slotCount + 3_000);
    expect((await running.masterOf(queueKey)).port).toBe(to.port);
  });

  it('loses and doubles nothing across a master failover (CLUSTER FAILOVER on its replica)', { timeout: 180_000 }, async () => {
    const running = cluster();
    const app = clusterApp(running);
    register(app);
    app.worker({ concurrency: 20 });
    // Fail over the master that holds the default queue, while work flows through it.
    await app.apply(step(0, 0));
    const queueMaster = await running.masterOf(`${app.prefix}:q:{default}:default:id`);
    let promoted = 0;
    const failover = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      promoted = (await running.failover(queueMaster.port)).promoted;
      await new Promise((resolve) => setTimeout(resolve, 300));
    })();
    const { results, expected } = await produce(app, failover);
    await failover;
    expect(await verify(app, results, expected)).toBeGreaterThan(100);
    expect((await running.masterOf(`${app.prefix}:q:{default}:default:id`)).port).toBe(promoted);
  });

  it('with waitForReplicas, follows recorded results and enqueued jobs with WAIT on their masters', { timeout: 120_000 }, async () => {
    const running = cluster();
    const waits = async (): Promise<number> => {
      let total = 0;
      for (const master of await running.masters()) {
        const probe = new Redis(master.port, '127.0.0.1');
        const stats = await probe.info('commandstats');
        probe.disconnect();
        total += Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
      }
      return total;
    };
    const plain = clusterApp(running);
    register(plain);
    plain.worker();
    const before = await waits();
    expect(await (await plain.apply(chain(step(1, 1), next(1), next(1)))).get({ timeout: 30_000 })).toBe(4);
    expect(await waits()).toBe(before);

    const durable = clusterApp(running, { waitForReplicas: { replicas: 1, timeout: 2_000 } });
    register(durable);
    durable.worker();
    const res = await durable.apply(chain(step(1, 1), next(1), next(1)));
    expect(await res.get({ timeout: 30_000 })).toBe(4);
    // Created (1), three results recorded (3), and the first job plus two successors enqueued (3).
    expect(await waits()).toBeGreaterThanOrEqual(before + 7);
    expect(() => clusterApp(running, { waitForReplicas: { replicas: 0 } })).toThrow(/waitForReplicas.replicas/);
  });
});
