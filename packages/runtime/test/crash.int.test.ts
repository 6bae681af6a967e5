/**
 * Invariant 2: nothing lost, nothing doubled. Workers run as child processes and are SIGKILLed
 * while workflows are mid-flight; a fresh worker must finish every workflow with the right values,
 * and every successor must have been released exactly once (the Lua scripts count releases).
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chain, chord, group, signature, type Canvas } from '@celeriac/canvas';
import type { AnyResult } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';
import { killWorkerProcess, startWorkerProcess } from './worker-process.js';

const fixture = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url));
const startWorker = (prefix: string, env: Record<string, string> = {}): Promise<ChildProcess> =>
  startWorkerProcess({ fixture, redisUrl: redisUrl(), prefix, env });
const kill = killWorkerProcess;

const step = (x: number, y: number) => signature('step', [x, y]);
const next = (y: number) => signature('step', [y]);
const total = () => signature('total');

/** A mix of shapes; `expected` is what each must return. */
function workflows(): { canvas: Canvas; expected: unknown }[] {
  const out: { canvas: Canvas; expected: unknown }[] = [];
  for (let i = 0; i < 6; i++) {
    out.push({ canvas: chain([step(i, 0), ...Array.from({ length: 9 }, () => next(1))]), expected: i + 9 });
  }
  for (let i = 0; i < 4; i++) {
    out.push({ canvas: group(Array.from({ length: 12 }, (_, k) => step(k, i))), expected: Array.from({ length: 12 }, (_, k) => k + i) });
  }
  for (let i = 0; i < 4; i++) {
    out.push({ canvas: chord(Array.from({ length: 15 }, (_, k) => step(k, 1)), total()), expected: 105 + 15 });
  }
  for (let i = 0; i < 3; i++) {
    // chain → group → chord join → chain continues
    out.push({ canvas: chain(step(1, 1), group(next(1), next(2), next(3)), total(), next(100)), expected: 3 + 4 + 5 + 100 });
  }
  return out;
}

async function runOnce(): Promise<void> {
  const app = testApp();
  const prefix = app.prefix;
  const redis = new Redis(redisUrl());
  let worker = await startWorker(prefix);
  try {
    const cases = workflows();
    const results: AnyResult[] = [];
    for (const { canvas } of cases) results.push(await app.apply(canvas));

    // Kill twice while work is in flight: after some steps ran, and again a little later.
    for (const threshold of [40, 150]) {
      const started = Date.now();
      while (Number(await redis.hlen(`${prefix}:runs`)) < threshold && Date.now() - started < 20_000) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await kill(worker);
      worker = await startWorker(prefix);
    }

    const values = await Promise.all(results.map((res) => res.get({ timeout: 60_000 })));
    values.forEach((value, i) => expect(value, `workflow ${i}`).toEqual(cases[i]!.expected));

    const store = app.internals.store;
    let releases = 0;
    for (const res of results) {
      const counts = await store.releaseCounts(res.id);
      for (const [node, count] of Object.entries(counts)) {
        expect(count, `node ${node} of workflow ${res.id} released ${count} times`).toBe(1);
        releases++;
      }
    }
    // Successors exist in chains, joins and continuations: the check above covered them.
    expect(releases).toBeGreaterThan(50);

    // Re-runs are allowed only for tasks that were in flight at a kill (at most concurrency per kill).
    const runs = Object.values(await redis.hgetall(`${prefix}:runs`)).map(Number);
    const reruns = runs.filter((count) => count > 1).length;
    expect(reruns).toBeLessThanOrEqual(2 * 8);
    // And the kills did hit work in flight (concurrency 8 keeps tasks running at every moment).
    expect(reruns).toBeGreaterThan(0);
  } finally {
    await kill(worker);
    redis.disconnect();
  }
}

describe('crash safety', () => {
  it('runs a SIGKILLed worker\'s task elsewhere within 15 s with the default lock and stalled-check timing', { timeout: 60_000 }, async () => {
    const app = testApp();
    const redis = new Redis(redisUrl());
    const defaults = { CELERIAC_DEFAULT_TIMING: '1' };
    let worker = await startWorker(app.prefix, defaults);
    try {
      const res = await app.apply(signature('sleep', [2_000]));
      await expect.poll(() => redis.hget(`${app.prefix}:runs`, res.id), { timeout: 10_000 }).toBe('1');
      await kill(worker);
      const killedAt = Date.now();
      worker = await startWorker(app.prefix, defaults);
      expect(await res.get({ timeout: 30_000 })).toBe(2_000);
      const recovered = Date.now() - killedAt;
      expect(recovered).toBeLessThan(15_000 + 2_000 + 2_000); // lock + check, plus the run, plus slack
      expect(await redis.hget(`${app.prefix}:runs`, res.id)).toBe('2');
    } finally {
      await kill(worker);
      redis.disconnect();
    }
  });

  it('finishes every workflow exactly once after workers are SIGKILLed mid-flight', { timeout: 120_000 }, async () => {
    await runOnce();
  });
});
