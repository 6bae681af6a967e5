/**
 * Large releases: above 10 000 nodes the producer sends release jobs of 1 000 nodes, and workers
 * enqueue the nodes.
 */
import { chain, group, withOptions } from '@celeriac/canvas';
import { InvalidArgumentError, type TaskContext } from '@celeriac/runtime';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';

const T = { timeout: 30_000 };
const RELEASE_JOB = 'celeriac.release';

const queues: Queue[] = [];
afterEach(async () => {
  for (const queue of queues.splice(0)) {
    await queue.close();
    await (queue.opts.connection as Redis).quit();
  }
});

/** The BullMQ queue behind one of an app's queues, to look at its jobs. */
function bullQueue(prefix: string, name: string): Queue {
  const queue = new Queue(name, { connection: new Redis(redisUrl(), { maxRetriesPerRequest: null }), prefix: `${prefix}:q` });
  queues.push(queue);
  return queue;
}

/** A task that counts its runs, so a node enqueued twice would show. */
function counting() {
  const app = testApp();
  const runs = new Map<number, number>();
  const echo = app.task('echo', (i: number) => {
    runs.set(i, (runs.get(i) ?? 0) + 1);
    return i;
  });
  return { app, echo, runs };
}

describe('release jobs', () => {
  it('sends a group of more than 10 000 members as one release job per 1 000 nodes of each queue', async () => {
    const { app, echo, runs } = counting();
    const members = Array.from({ length: 10_600 }, (_, i) => (i < 10_000 ? echo.si(i) : withOptions(echo.si(i), { queue: 'other' })));
    const res = await app.apply(group(members));

    const waiting = async (name: string) => (await bullQueue(app.prefix, name).getWaiting()).map((job: Job) => [job.name, job.data.release.length]);
    expect(await waiting('default')).toEqual(Array.from({ length: 10 }, () => [RELEASE_JOB, 1_000]));
    expect(await waiting('other')).toEqual([[RELEASE_JOB, 600]]);

    app.worker({ queues: ['default', 'other'], concurrency: 50 });
    expect(await res.get(T)).toEqual(members.map((_, i) => i));
    expect(runs.size).toBe(10_600);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
  });

  it('sends release jobs into its own queue from a worker whose task released more than 10 000 successors', async () => {
    const app = testApp();
    const seed = app.task('seed', () => 5);
    const parents = new Set<string | null>();
    const plus = app.task('plus', (ctx: TaskContext, x: number, i: number) => {
      parents.add(ctx.parentId);
      return x + i;
    }, { bind: true });
    const n = 10_001;
    const members = group(Array.from({ length: n }, (_, i) => plus.s(i)));
    const res = await app.apply(chain(seed.s(), withOptions(members, { queue: 'members' })));
    // The seed's advance returns only the members' indices; the seed's worker sends 11 release jobs
    // into its own queue and runs them, adding every member's job (with its input) to `members`.
    app.worker();
    const queue = bullQueue(app.prefix, 'members');
    await expect.poll(() => queue.getWaitingCount(), T).toBe(n);
    expect(new Set((await queue.getWaiting(0, n)).map((job: Job) => job.name))).toEqual(new Set(['plus']));

    app.worker({ queues: ['members'], concurrency: 50 });
    expect(await res.get(T)).toEqual(Array.from({ length: n }, (_, i) => 5 + i));
    expect([...parents]).toEqual([`${res.id}.0`]);
  });

  it('enqueues only the nodes still in the outbox when a release job runs again', async () => {
    const { app, echo, runs } = counting();
    const res = await app.apply(group(Array.from({ length: 10_001 }, (_, i) => echo.si(i))));
    const queue = bullQueue(app.prefix, 'default');
    const [release] = await queue.getWaiting(0, 0);
    app.worker({ concurrency: 50 });
    await res.get(T);

    // A redelivery of the first release job, after all its nodes ended: nothing runs again.
    const again = await queue.add(RELEASE_JOB, release!.data);
    await expect.poll(async () => (await queue.getJobState(again.id!)), { timeout: 10_000 }).toBe('completed');
    expect(await queue.getWaitingCount()).toBe(0);
    expect(runs.size).toBe(10_001);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
  });

  it('counts a countdown from the release, not from when a worker enqueues the nodes', async () => {
    const { app, echo } = counting();
    await app.apply(group(Array.from({ length: 10_001 }, (_, i) => echo.si(i))), { countdown: 5 });
    const queue = bullQueue(app.prefix, 'default');
    const [release] = await queue.getWaiting(0, 0);
    const sentAt = release!.data.sentAt as number;
    await new Promise((resolve) => setTimeout(resolve, 600)); // a worker that starts late

    app.worker({ concurrency: 10 });
    await expect.poll(() => queue.getDelayedCount(), { timeout: 20_000 }).toBe(10_001);
    const delayed = await queue.getDelayed(0, 9);
    for (const job of delayed) expect(Math.abs(job.timestamp + job.delay - (sentAt + 5_000))).toBeLessThan(300);
  });

  it('gives up a release job orphaned more than maxStalledCount times, saying where its nodes are', async () => {
    const errors: string[] = [];
    const quiet = (): void => {};
    const app = testApp({ logger: { debug: quiet, info: quiet, warn: quiet, error: (message) => errors.push(message) } });
    const echo = app.task('echo', (i: number) => i);
    const res = await app.apply(group(Array.from({ length: 10_001 }, (_, i) => echo.si(i))));
    const queue = bullQueue(app.prefix, 'default');
    const [release] = await queue.getWaiting(0, 0);
    // What BullMQ's stalled check leaves on a job whose workers died with it six times.
    const redis = queue.opts.connection as Redis;
    expect(await redis.hincrby(`${app.prefix}:q:default:${release!.id!}`, 'stc', 6)).toBe(6);
    app.worker({ concurrency: 50, maxStalledCount: 5 });
    await expect.poll(async () => (await queue.getJob(release!.id!))?.failedReason ?? '', T).toMatch(/orphaned by a dead worker 6 time\(s\)/);
    expect(errors.some((line) => line.includes(`its nodes stay in the outbox of workflow ${res.id}`))).toBe(true);
    // The other release jobs went on: their members ran, and the given-up job's did not.
    const givenUp = (release!.data.release as number[]).length;
    const succeeded = async (): Promise<number> => (await Promise.all(res.results.map((member) => member.state()))).filter((state) => state === 'SUCCESS').length;
    await expect.poll(succeeded, T).toBe(10_001 - givenUp);
    expect(await queue.getWaitingCount()).toBe(0);
    expect(await succeeded()).toBe(10_001 - givenUp);
  });

  it('fails a release job with garbage data alone and keeps working', async () => {
    const { app, echo } = counting();
    const worker = app.worker();
    await worker.waitUntilReady();
    const queue = bullQueue(app.prefix, 'default');
    const garbage = await queue.add(RELEASE_JOB, { w: 'x', release: 'everything' });
    await expect.poll(async () => (await queue.getJob(garbage.id!))?.failedReason ?? '', T).toMatch(/Release job .* was not written by Celeriac/);
    expect(await (await echo.delay(7)).get(T)).toBe(7);
  });

  it('reserves task names starting with "celeriac." for its own jobs', () => {
    const app = testApp();
    expect(() => app.task(RELEASE_JOB, () => null)).toThrow(InvalidArgumentError);
    expect(() => app.task(RELEASE_JOB, () => null)).toThrow(/reserved/);
  });
});
