/**
 * Every way a job can end ends its node, so no `get()` hangs: a job whose worker dies with it on
 * every attempt (and the jobs stalled beside it), job data of the wrong shape, job data BullMQ
 * cannot even read, and an error that cannot be stored as it is.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { signature } from '@celeriac/canvas';
import { TaskError, type AsyncResult, type TaskContext, type TaskState } from '@celeriac/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';
import { exited, killWorkerProcess, startWorkerProcess } from './worker-process.js';

const T = { timeout: 20_000 };
const fixture = fileURLToPath(new URL('./fixtures/poison-worker.ts', import.meta.url));
const clients: Redis[] = [];
const queues: Queue[] = [];

afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.close()));
  for (const client of clients.splice(0)) client.disconnect();
});

const startWorker = (prefix: string): Promise<ChildProcess> => startWorkerProcess({ fixture, redisUrl: redisUrl(), prefix });

/** The app's BullMQ queue, as a client with access to Redis sees it. */
function bullQueue(prefix: string, name = 'default'): Queue {
  const queue = new Queue(name, { connection: new Redis(redisUrl(), { maxRetriesPerRequest: null }), prefix: `${prefix}:q` });
  queues.push(queue);
  return queue;
}

async function states(results: readonly AsyncResult[]): Promise<TaskState[]> {
  return Promise.all(results.map((result) => result.state()));
}

describe('every way a job ends ends its node', () => {
  it('fails a job whose worker dies with it on every attempt with WorkerLostError, and ends the jobs stalled beside it', { timeout: 120_000 }, async () => {
    const app = testApp();
    const poison = await app.apply(signature('poison'));
    const innocent = await Promise.all([1, 2, 3].map((k) => app.apply(signature('nap', [200 * k]))));
    // Each worker dies on the poison; a fresh one finds the stalled jobs, until the poison's
    // stall limit is used up and it is failed for good.
    for (let restarts = 0; restarts < 8 && !(await poison.ready()); restarts++) {
      const child = await startWorker(app.prefix);
      await Promise.race([exited(child), poison.get({ ...T, propagate: false }).catch(() => {})]);
      await killWorkerProcess(child);
    }
    const error = await poison.get(T).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toMatchObject({ remoteName: 'WorkerLostError' });
    expect((error as TaskError).message).toMatch(/maxStalledCount/);
    // The innocent jobs end too: run by a healthy worker, or failed with the same reason.
    const healthy = await startWorker(app.prefix);
    try {
      // A stalled job waits out the dead worker's lock (10 s) and the next stalled check (5 s), and
      // the healthy worker's start-up: on two busy cores that can take longer than T.
      for (const result of innocent) await result.get({ timeout: 60_000, propagate: false });
      expect((await states(innocent)).every((state) => state === 'SUCCESS' || state === 'FAILURE')).toBe(true);
    } finally {
      await killWorkerProcess(healthy);
    }
  });

  it('fails a job orphaned more than maxStalledCount times without running it', async () => {
    const app = testApp();
    let runs = 0;
    const echo = app.task('echo', (x: number) => {
      runs++;
      return x;
    });
    const lost = await echo.delay(1); // waits in its queue: no worker runs yet
    const kept = await echo.delay(2);
    // What BullMQ's stalled check leaves on a job whose workers died with it six times.
    const redis = new Redis(redisUrl());
    clients.push(redis);
    for (const res of [lost, kept]) expect(await redis.hincrby(`${app.prefix}:q:default:${res.id}`, 'stc', 6)).toBe(6);
    // BullMQ's stalled check ends such a job without the node: the limit must be the worker's.
    await redis.hset(`${app.prefix}:q:default:${kept.id}`, 'stc', 5);
    app.worker({ concurrency: 2, maxStalledCount: 5 });
    await expect(lost.get(T)).rejects.toMatchObject({ remoteName: 'WorkerLostError', message: expect.stringMatching(/6 time\(s\)/) });
    expect(await kept.get(T)).toBe(2);
    expect(runs).toBe(1);
    const queue = bullQueue(app.prefix);
    expect((await queue.getJob(lost.id))!.failedReason).toMatch(/WorkerLostError/);
    expect(() => app.worker({ maxStalledCount: -1 })).toThrow(/maxStalledCount: expected a whole number >= 0, got -1/);
  });

  it.each([
    ['records the replacement\'s result', false, 'celeriac.replaced'],
    ['records the replacement\'s failure', true, 'celeriac.replace_failed'],
  ])('fails a replaced task whose built-in step that %s was orphaned more than maxStalledCount times', async (_, fails, step) => {
    const app = testApp();
    const inner = app.task('inner', (x: number) => {
      if (fails) throw new Error('inside the replacement');
      return x + 1;
    });
    // The replaced task and so its built-in steps run on a queue of their own, the replacement on `default`.
    const replacer = app.task('replacer', (ctx: TaskContext, x: number) => ctx.replace(inner.s(x)), { bind: true, queue: 'replacing' });
    const res = await replacer.delay(1);
    const first = app.worker({ concurrency: 1, queues: ['replacing'] });
    // The replacement waits in `default`, where no worker runs yet.
    await expect.poll(() => bullQueue(app.prefix).getWaitingCount(), T).toBe(1);
    await first.close();
    const second = app.worker({ concurrency: 1, queues: ['default'] });
    const replacing = bullQueue(app.prefix, 'replacing');
    const builtin = async (): Promise<string | undefined> => (await replacing.getWaiting()).find((job) => job.data.task === step)?.id;
    await expect.poll(builtin, T).toBeDefined();
    await second.close();
    // What BullMQ's stalled check leaves on a job whose workers died with it six times.
    const redis = new Redis(redisUrl());
    clients.push(redis);
    const id = (await builtin())!;
    expect(await redis.hincrby(`${app.prefix}:q:replacing:${id}`, 'stc', 6)).toBe(6);
    app.worker({ concurrency: 1, queues: ['replacing'], maxStalledCount: 5 });
    await expect(res.get(T)).rejects.toMatchObject({ remoteName: 'WorkerLostError', message: expect.stringMatching(/6 time\(s\)/) });
    expect(await res.state()).toBe('FAILURE');
    await expect.poll(async () => (await replacing.getJob(id))?.failedReason ?? '', T).toMatch(/WorkerLostError/);
    await expect.poll(() => replacing.getWaitingCount(), T).toBe(0);
  });

  it('fails a job whose data has the wrong shape with InvalidJobError, and goes on', async () => {
    const app = testApp();
    const echo = app.task('echo', (x: number) => x);
    const res = await echo.applyAsync({ args: [1], countdown: 60 });
    const job = (await bullQueue(app.prefix).getJob(res.id))!;
    await job.updateData({ v: 1, w: 'someone else', i: 'zero' });
    await job.promote();
    app.worker({ concurrency: 2 });
    const error = await res.get(T).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toMatchObject({ remoteName: 'InvalidJobError' });
    expect((error as TaskError).message).toMatch(/was not written by Celeriac: its data is not a Celeriac task job: i:/);
    expect(await (await echo.delay(2)).get(T)).toBe(2);
  });

  it('fails a job whose data is not even JSON, instead of redelivering it forever', async () => {
    const app = testApp();
    const echo = app.task('echo', (x: number) => x);
    const res = await echo.delay(1); // waits in its queue: no worker runs yet
    const redis = new Redis(redisUrl());
    clients.push(redis);
    expect(await redis.hset(`${app.prefix}:q:default:${res.id}`, 'data', '{"v":1, not json')).toBe(0);
    app.worker({ concurrency: 2 });
    await expect(res.get(T)).rejects.toMatchObject({ remoteName: 'InvalidJobError' });
    expect(await (await echo.delay(2)).get(T)).toBe(2);
    expect(await bullQueue(app.prefix).getFailedCount()).toBe(1);
  });

  it('stores what can be stored of an error that cannot be stored as it is, and runs the handler once', async () => {
    const app = testApp();
    let runs = 0;
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    const throwers: Record<string, () => never> = {
      bigintName: () => {
        const error = new Error('named by a BigInt');
        Object.defineProperty(error, 'name', { value: 10n });
        throw error;
      },
      circular: () => {
        const error = new Error('holds a cycle') as Error & { details?: unknown };
        error.details = circular;
        throw error;
      },
      throwingMessage: () => {
        const error = new Error('unused');
        Object.defineProperty(error, 'message', {
          get() {
            throw new Error('no message for you');
          },
        });
        throw error;
      },
      circularObject: () => {
        throw circular;
      },
    };
    for (const [name, thrower] of Object.entries(throwers)) {
      app.task(name, () => {
        runs++;
        return thrower();
      });
    }
    app.worker({ concurrency: 4 });
    const errors = await Promise.all(
      Object.keys(throwers).map(async (name) => (await app.apply(signature(name))).get(T).catch((e: unknown) => e)),
    );
    for (const error of errors) expect(error).toBeInstanceOf(TaskError);
    const [bigintName, withCycle, throwingMessage, circularObject] = errors as TaskError[];
    expect(bigintName!.remoteName).toBe('10n');
    expect(bigintName!.message).toContain('named by a BigInt');
    expect(withCycle!.message).toContain('holds a cycle');
    expect(throwingMessage!.remoteName).toBe('Error');
    expect(circularObject!.remoteName).toBe('NonErrorThrown');
    expect(circularObject!.message).toContain('<ref *1>');
    expect(runs).toBe(4);
  });
});
