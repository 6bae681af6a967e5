/**
 * The outbox sweeper (outbox-sweeper.ts): tasks whose release was recorded but whose job was never
 * added — what a producer that dies inside `apply` leaves, made here by removing the jobs an apply
 * added — are enqueued by a worker; tasks released with a job, or about to get one, are not.
 */
import { chord, group, withOptions } from '@celeriac/canvas';
import { consoleLogger, createApp, InvalidArgumentError, type Logger, type TaskContext } from '@celeriac/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher } from '../src/dispatch.js';
import { queuePrefix } from '../src/keys.js';
import { RateLimitedLog } from '../src/logger.js';
import { OutboxSweeper, SCAN_PER_PASS, SWEEP_BUDGET } from '../src/outbox-sweeper.js';
import { startPrivateRedis } from '../../../scripts/private-redis.js';
import { redisUrl, testApp } from './helpers.js';

const T = { timeout: 20_000 };
/** Short enough for a test: a pass every ~300 ms, its two looks 150 ms apart. */
const SWEEP = 300;

const queues: Queue[] = [];
afterEach(async () => {
  for (const queue of queues.splice(0)) {
    await queue.close();
    await (queue.opts.connection as Redis).quit();
  }
});

/** The BullMQ queue behind one of an app's queues. */
function bullQueue(prefix: string, name = 'default'): Queue {
  const queue = new Queue(name, { connection: new Redis(redisUrl(), { maxRetriesPerRequest: null }), prefix: `${prefix}:q` });
  queues.push(queue);
  return queue;
}

/** A logger that keeps the sweeper's lines: its passes (debug) and what it enqueued (warn). */
function sweepLog(): { logger: Logger; lines: () => string[]; passes: () => number; enqueued: () => string[] } {
  const debug: string[] = [];
  const warn: string[] = [];
  const lines = (): string[] => debug.filter((line) => line.includes('swept the outboxes'));
  return {
    logger: { debug: (line) => void debug.push(line), info: () => {}, warn: (line) => void warn.push(line), error: () => {} },
    lines,
    passes: () => lines().length,
    enqueued: () => warn.filter((line) => line.includes('released but had no job')),
  };
}

/** An app with a task that counts its runs by argument, so a task enqueued twice would show. */
function counting(logger: Logger, resultTtl?: number) {
  const app = testApp({ logger, resultTtl });
  const runs = new Map<number, number>();
  const echo = app.task('echo', (i: number) => {
    runs.set(i, (runs.get(i) ?? 0) + 1);
    return i;
  });
  const sum = app.task('sum', (values: number[]) => values.reduce((a, b) => a + b, 0));
  return { app, echo, sum, runs };
}

describe('the outbox sweeper', () => {
  it('enqueues the tasks an apply released but never added, each once, and logs what it did', async () => {
    const log = sweepLog();
    const { app, echo, sum, runs } = counting(log.logger);
    const lone = await echo.delay(100);
    const res = await app.apply(chord(Array.from({ length: 20 }, (_, i) => echo.si(i)), sum.s()));
    // What a producer killed between its plan and its adds leaves: the plans, and only some jobs.
    const queue = bullQueue(app.prefix);
    const lost = [lone.id, ...res.parent!.children.filter((_, i) => i % 2 === 0).map((child) => child.id)];
    for (const id of lost) expect(await queue.remove(id)).toBe(1);

    app.worker({ outboxSweepInterval: SWEEP, concurrency: 5 });
    expect(await res.get(T)).toBe(190);
    expect(await lone.get(T)).toBe(100);
    expect([...runs.keys()].sort((a, b) => a - b)).toEqual([...Array.from({ length: 20 }, (_, i) => i), 100]);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    // Every successor was released once, the chord's body by the last member.
    expect(await app.workflow(res.id).then((snapshot) => snapshot.state)).toBe('SUCCESS');
    const lines = log.enqueued();
    expect(lines).toHaveLength(2);
    expect(lines.some((line) => line.includes(`enqueued 10 task(s) of workflow ${res.id}`))).toBe(true);
    expect(lines.some((line) => line.includes(`enqueued 1 task(s) of workflow ${lone.id}`))).toBe(true);
  });

  it('leaves alone a running task, a task counting down, a task replaced by a waiting workflow, and nodes a release job will add', async () => {
    const log = sweepLog();
    const { app, echo, runs } = counting(log.logger);
    const slow = app.task('slow', async () => {
      runs.set(-1, (runs.get(-1) ?? 0) + 1);
      await sleep(6 * SWEEP);
      return 'slow';
    });
    const later = app.task('later', (x: number) => x * 2, { queue: 'later' });
    const swap = app.task('swap', (ctx: TaskContext, x: number) => {
      runs.set(-2, (runs.get(-2) ?? 0) + 1);
      return ctx.replace(later.s(x));
    }, { bind: true });
    // More than 10 000 members: sent as release jobs into a queue no worker consumes yet.
    const members = withOptions(group(Array.from({ length: 10_001 }, (_, i) => echo.si(i))), { queue: 'members' });
    const huge = await app.apply(members);

    const worker = app.worker({ outboxSweepInterval: SWEEP, concurrency: 5 });
    const running = await slow.delay();
    const countingDown = await app.apply(withOptions(echo.si(7), { countdown: (4 * SWEEP) / 1000 }));
    const replaced = await swap.delay(21);
    await expect.poll(() => runs.get(-2), T).toBe(1);
    // Several passes while each of them is released and has no job of its own (or none yet).
    await expect.poll(() => log.passes(), T).toBeGreaterThanOrEqual(4);
    expect(await bullQueue(app.prefix, 'members').getJobCounts('waiting')).toEqual({ waiting: 11 });

    expect(await running.get(T)).toBe('slow');
    expect(await countingDown.get(T)).toBe(7);
    app.worker({ queues: ['later'], outboxSweepInterval: 0 });
    expect(await replaced.get(T)).toBe(42);
    expect(runs.get(-1)).toBe(1);
    expect(runs.get(-2)).toBe(1);
    expect(runs.get(7)).toBe(1);
    expect(log.enqueued()).toEqual([]);
    await huge.revoke();
    await worker.close();
  });

  it('replaces the failed job an expired workflow with the same taskId left, which made the add of the new one a no-op', async () => {
    const log = sweepLog();
    const { app, runs } = counting(log.logger, 1);
    const flaky = app.task('flaky', (fail: boolean) => {
      runs.set(Number(fail), (runs.get(Number(fail)) ?? 0) + 1);
      if (fail) throw new Error('boom');
      return 'ok';
    });
    app.worker({ outboxSweepInterval: SWEEP });
    const first = await flaky.applyAsync({ args: [true], taskId: 'report-1' });
    await expect(first.get(T)).rejects.toThrow('boom');
    // Its workflow expires (resultTtl 1 s); its failed job is kept (a week).
    await expect.poll(async () => (await app.internals.store.existing(['report-1']))[0], T).toBe(false);
    const again = await flaky.applyAsync({ args: [false], taskId: 'report-1' });
    expect(await again.get(T)).toBe('ok');
    expect(runs.get(1)).toBe(1);
    expect(runs.get(0)).toBe(1);
    expect(log.enqueued()).toHaveLength(1);
  });

  it('checks about its budget of released tasks per pass, sampling a backlog, and still finds every lost one', async () => {
    const log = sweepLog();
    const { app, echo, runs } = counting(log.logger);
    const res = await app.apply(group(Array.from({ length: 400 }, (_, i) => echo.si(i))));
    // A backlog of 400 queued tasks (no worker yet), 20 of them lost.
    const queue = bullQueue(app.prefix);
    for (const child of res.children.filter((_, i) => i % 20 === 0)) expect(await queue.remove(child.id)).toBe(1);
    const connection = new Redis(redisUrl());
    const dispatcher = new Dispatcher(connection, (name) => queuePrefix(app.prefix, name, false), () => {});
    const context = { store: app.internals.store, dispatcher, prefix: app.prefix, name: 'sweeper@test', logger: log.logger, log: new RateLimitedLog(log.logger), translate: (error: unknown) => error };
    const sweeper = new OutboxSweeper(context, 100, { budget: 50, scan: SCAN_PER_PASS });
    try {
      const checked: number[] = [];
      for (let pass = 0; pass < 100 && (await queue.getWaitingCount()) < 400; pass++) {
        await sleep(110); // the turn lasts one interval
        await sweeper.sweep();
        const [, count, counted] = /: (\d+) of (\d+) released/.exec(log.lines().at(-1)!)!;
        expect(Number(counted)).toBe(400);
        checked.push(Number(count));
      }
      expect(await queue.getWaitingCount()).toBe(400);
      // The first pass knew no count: it stopped checking at twice the budget. The next ones sampled
      // about a budget each (an eighth of each outbox: 50 on average), so it took several passes.
      expect(checked[0]).toBe(100);
      expect(checked.length).toBeGreaterThan(1);
      expect(Math.max(...checked.slice(1))).toBeLessThanOrEqual(100);
    } finally {
      await sweeper.close();
      await dispatcher.close();
      connection.disconnect();
    }
    app.worker({ outboxSweepInterval: 0, concurrency: 20 });
    expect(await res.get(T)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
  });

  it('scans a stretch of the keyspace per pass, going on where the last pass left it', async () => {
    // A Redis of its own, so that the keyspace holds these workflows only.
    const redis = await startPrivateRedis();
    const connection = new Redis(redis.url);
    const app = createApp({ redis: redis.url, prefix: 'stretch', logger: consoleLogger('silent') });
    const dispatcher = new Dispatcher(connection, (name) => queuePrefix(app.prefix, name, false), () => {});
    const log = sweepLog();
    const context = { store: app.internals.store, dispatcher, prefix: app.prefix, name: 'sweeper@test', logger: log.logger, log: new RateLimitedLog(log.logger), translate: (error: unknown) => error };
    // About 20 keys a pass, against some 120 (four per lone task's workflow, and the queue's).
    const sweeper = new OutboxSweeper(context, 100, { budget: SWEEP_BUDGET, scan: 20 });
    try {
      const echo = app.task('echo', (i: number) => i);
      const lost = await Promise.all(Array.from({ length: 30 }, (_, i) => echo.delay(i)));
      const queue = new Queue('default', { connection, prefix: 'stretch:q' });
      for (const res of lost) expect(await queue.remove(res.id)).toBe(1);
      const enqueued: number[] = [];
      for (let pass = 0; pass < 100 && enqueued.reduce((a, b) => a + b, 0) < 30; pass++) {
        await sleep(110); // the turn lasts one interval
        enqueued.push(await sweeper.sweep());
      }
      expect(enqueued.reduce((a, b) => a + b, 0)).toBe(30);
      expect(await queue.getWaitingCount()).toBe(30);
      expect(enqueued[0]).toBeLessThan(20);
      expect(enqueued.length).toBeGreaterThan(3);
      await queue.close();
    } finally {
      await sweeper.close();
      await dispatcher.close();
      await app.close();
      connection.disconnect();
      await redis.stop();
    }
  });

  it('sweeps once per interval across an app’s workers', async () => {
    const log = sweepLog();
    const { app, echo, runs } = counting(log.logger);
    const lone = await echo.delay(5);
    expect(await bullQueue(app.prefix).remove(lone.id)).toBe(1);
    const started = Date.now();
    app.worker({ name: 'one@%h', outboxSweepInterval: SWEEP });
    app.worker({ name: 'two@%h', outboxSweepInterval: SWEEP });
    expect(await lone.get(T)).toBe(5);
    await sleep(10 * SWEEP);
    // Each worker tries every interval, give or take a tenth; a turn lasts one interval, so one
    // pass per interval at most, where two workers sweeping alone would make about twice as many.
    expect(log.passes()).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / (0.9 * SWEEP)) + 1);
    expect(log.enqueued()).toHaveLength(1);
    expect(runs.get(5)).toBe(1);
  });

  it('is off with outboxSweepInterval: 0, and refuses a bad interval', async () => {
    const log = sweepLog();
    const { app, echo } = counting(log.logger);
    expect(() => app.worker({ outboxSweepInterval: -1 })).toThrow(InvalidArgumentError);
    expect(() => app.worker({ outboxSweepInterval: 1.5 })).toThrow(/outboxSweepInterval/);
    const lone = await echo.delay(5);
    expect(await bullQueue(app.prefix).remove(lone.id)).toBe(1);
    app.worker({ outboxSweepInterval: 0 });
    await expect(lone.get({ timeout: 4 * SWEEP })).rejects.toThrow();
    expect(log.passes()).toBe(0);
  });
});
