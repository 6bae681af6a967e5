import { CanvasError, chain, chord, group, signature } from '@celeriac/canvas';
import { ExpiredError, RevokedError, TaskError, type TaskContext } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

const T = { timeout: 15_000 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class Flaky extends Error {
  override name = 'Flaky';
}

describe('scheduling', () => {
  it('delays a task by countdown seconds', async () => {
    const app = testApp();
    const stamp = app.task('stamp', () => Date.now());
    app.worker();
    const sent = Date.now();
    const res = await stamp.applyAsync({ countdown: 0.5 });
    expect(await res.get(T)).toBeGreaterThanOrEqual(sent + 450);
  });

  it('delays a task until an eta given as a Date', async () => {
    const app = testApp();
    const stamp = app.task('stamp', () => Date.now());
    app.worker();
    const eta = new Date(Date.now() + 500);
    const res = await stamp.applyAsync({ eta });
    expect(await res.get(T)).toBeGreaterThanOrEqual(eta.getTime() - 20);
  });

  it('delays a whole workflow through its first step', async () => {
    const app = testApp();
    const stamp = app.task('stamp', (previous?: number) => previous ?? Date.now());
    app.worker();
    const sent = Date.now();
    const res = await app.apply(chain(stamp.s(), stamp.s()), { countdown: 0.4 });
    expect(await res.get(T)).toBeGreaterThanOrEqual(sent + 350);
  });

  it('revokes a task that starts after it expired, with ExpiredError, and everything after it', async () => {
    const app = testApp();
    let ran = false;
    const work = app.task('work', () => (ran = true));
    const res = await app.apply(chain(work.si(), work.si()), { expires: 0.1 });
    await sleep(250);
    app.worker();
    await expect(res.parent!.get(T)).rejects.toBeInstanceOf(ExpiredError);
    await expect(res.get({ ...T, followParents: false })).rejects.toBeInstanceOf(RevokedError);
    expect(await res.parent!.state()).toBe('REVOKED');
    expect(ran).toBe(false);
  });

  it('runs waiting tasks in priority order, 1 first, after tasks sent without a priority', async () => {
    const app = testApp();
    const order: (number | string)[] = [];
    const record = app.task('record', (p: number | string) => order.push(p));
    const results = [];
    for (const priority of [5, 1, 3, 2]) results.push(await record.applyAsync({ args: [priority], priority }));
    results.push(await record.delay('none'));
    app.worker({ concurrency: 1 });
    await Promise.all(results.map((res) => res.get(T)));
    expect(order).toEqual(['none', 1, 2, 3, 5]);
  });

  it('routes tasks to queues and lets workers consume only their own queues', async () => {
    const app = testApp();
    const where = app.task('where', (ctx: TaskContext) => ctx.id, { bind: true, queue: 'math' });
    app.worker({ queues: ['math'] });
    expect(await (await where.delay()).get(T)).toEqual(expect.any(String));
    const elsewhere = await where.applyAsync({ queue: 'reports' });
    await sleep(300);
    expect(await elsewhere.state()).toBe('PENDING');
    app.worker({ queues: ['reports'] });
    expect(await elsewhere.get(T)).toBe(elsewhere.id);
  });

  it('merges options with Celery precedence: call over signature over task defaults', async () => {
    const app = testApp();
    const queueOf = app.task('queue_of', (ctx: TaskContext) => ctx.queue, { bind: true, queue: 'defaults' });
    app.worker({ queues: ['defaults', 'signature', 'call'] });
    expect(await (await queueOf.delay()).get(T)).toBe('defaults');
    expect(await (await app.apply(signature('queue_of', [], {}, { queue: 'signature' }))).get(T)).toBe('signature');
    expect(await (await app.apply(signature('queue_of', [], {}, { queue: 'signature' }), { queue: 'call' })).get(T)).toBe('call');
  });
});

describe('retries', () => {
  it('retries a failing task up to `maxRetries` times and passes through RETRY', async () => {
    const app = testApp();
    let runs = 0;
    const states: string[] = [];
    const flaky = app.task('flaky', () => {
      runs++;
      if (runs < 3) throw new Flaky(`attempt ${runs}`);
      return runs;
    }, { maxRetries: 3, backoff: { type: 'fixed', delay: 0.2 } });
    app.worker();
    const res = await flaky.delay();
    await expect.poll(async () => states.push(await res.state()) && states.includes('RETRY'), { timeout: 5_000, interval: 20 }).toBe(true);
    expect(await res.get(T)).toBe(3);
  });

  it('fails with the last error once retries are exhausted', async () => {
    const app = testApp();
    let runs = 0;
    const flaky = app.task('always', () => {
      runs++;
      throw new Flaky(`attempt ${runs}`);
    }, { maxRetries: 2 });
    app.worker();
    const error = await (await flaky.delay()).get(T).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).message).toContain('attempt 3');
    expect(runs).toBe(3);
  });

  it('lets a call override the task\'s maxRetries, and null retry without limit, as Celery\'s max_retries', async () => {
    const app = testApp();
    let runs = 0;
    const flaky = app.task('flaky', () => {
      runs++;
      if (runs < 8) throw new Flaky(`attempt ${runs}`);
      return runs;
    }, { maxRetries: 3 });
    app.worker();
    await expect((await flaky.applyAsync({ maxRetries: 0 })).get(T)).rejects.toMatchObject({ remoteName: 'Flaky' });
    expect(runs).toBe(1);
    runs = 0;
    expect(await (await flaky.applyAsync({ maxRetries: null })).get(T)).toBe(8);
  });

  it('refuses `retries` as an option: in Celery it counts attempts, the limit is maxRetries', async () => {
    const app = testApp();
    expect(() => app.task('t', () => 1, { retries: 2 } as never)).toThrow(/unknown option "retries"; expected one of: .*maxRetries/);
    const t = app.task('u', () => 1);
    await expect(t.applyAsync({ retries: 2 } as never)).rejects.toThrow(/unknown option "retries"/);
  });

  it('retries only the errors autoretryFor names', async () => {
    const app = testApp();
    let runs = 0;
    const picky = app.task('picky', (kind: string) => {
      runs++;
      throw kind === 'flaky' ? new Flaky('again') : new TypeError('bug');
    }, { maxRetries: 3, autoretryFor: [Flaky] });
    app.worker();
    await expect((await picky.delay('bug')).get(T)).rejects.toMatchObject({ remoteName: 'TypeError' });
    expect(runs).toBe(1);
    runs = 0;
    await expect((await picky.delay('flaky')).get(T)).rejects.toMatchObject({ remoteName: 'Flaky' });
    expect(runs).toBe(4);
  });

  it('retries on ctx.retry() with a countdown, and fails with MaxRetriesExceededError when out of retries', async () => {
    const app = testApp();
    const stamps: number[] = [];
    const again = app.task('again', (ctx: TaskContext) => {
      stamps.push(Date.now());
      if (ctx.retries < 1) ctx.retry({ countdown: 0.3 });
      return ctx.retries;
    }, { bind: true, maxRetries: 1 });
    const forever = app.task('forever', (ctx: TaskContext) => ctx.retry(), { bind: true, maxRetries: 1 });
    app.worker();
    expect(await (await again.delay()).get(T)).toBe(1);
    expect(stamps[1]! - stamps[0]!).toBeGreaterThanOrEqual(280);
    await expect((await forever.delay()).get(T)).rejects.toMatchObject({ remoteName: 'MaxRetriesExceededError' });
  });

  it('advances a workflow exactly once after a retried step', async () => {
    const app = testApp();
    let runs = 0;
    const flaky = app.task('flaky', (x: number) => {
      if (++runs < 3) throw new Flaky('again');
      return x;
    }, { maxRetries: 5 });
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker();
    const res = await app.apply(chain(flaky.s(1), add.s(10)));
    expect(await res.get(T)).toBe(11);
    expect(Object.values(await app.internals.store.releaseCounts(res.id))).toEqual([1]);
  });
});

describe('revoke', () => {
  it('never runs a revoked pending task, even after worker restarts', async () => {
    const app = testApp();
    let ran = false;
    const work = app.task('work', () => (ran = true));
    const res = await work.delay();
    expect(await res.revoke()).toEqual([res.id]);
    expect(await res.state()).toBe('REVOKED');
    const first = app.worker();
    await first.close();
    app.worker();
    await expect(res.get(T)).rejects.toBeInstanceOf(RevokedError);
    await sleep(200);
    expect(ran).toBe(false);
  });

  it('revokes what has not run yet when the workflow result is revoked', async () => {
    const app = testApp();
    const ran: string[] = [];
    const step = app.task('step', async (name: string) => {
      ran.push(name);
      await sleep(150);
      return name;
    });
    app.worker();
    const res = await app.apply(chain(step.si('a'), step.si('b'), step.si('c')));
    await expect.poll(() => ran.length, { timeout: 5_000, interval: 10 }).toBe(1);
    const revoked = await app.revoke(res.id);
    expect(revoked).toContain(res.id);
    await expect(res.get(T)).rejects.toBeInstanceOf(RevokedError);
    await sleep(300);
    expect(ran).toEqual(['a']);
  });

  it('aborts a running task through its AbortSignal when revoked with terminate', async () => {
    const app = testApp();
    let reason: unknown;
    const long = app.task('long', (ctx: TaskContext) => new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => {
        reason = ctx.signal.reason;
        resolve('stopped');
      });
    }), { bind: true });
    const worker = app.worker({ trackStarted: true });
    await worker.waitUntilReady();
    const res = await long.delay();
    await expect.poll(() => res.state(), { timeout: 5_000 }).toBe('STARTED');
    await res.revoke({ terminate: true });
    await expect.poll(() => reason, { timeout: 5_000 }).toBeInstanceOf(RevokedError);
    await expect(res.get(T)).rejects.toBeInstanceOf(RevokedError);
  });
});

describe('limits', () => {
  it('fails a task that runs past its hard timeLimit with TimeLimitExceeded', async () => {
    const app = testApp();
    const slow = app.task('slow', () => sleep(2_000).then(() => 'late'), { timeLimit: 0.2 });
    app.worker();
    await expect((await slow.delay()).get(T)).rejects.toMatchObject({ remoteName: 'TimeLimitExceeded' });
  });

  it('fires the AbortSignal at softTimeLimit so the task can clean up', async () => {
    const app = testApp();
    const polite = app.task('polite', (ctx: TaskContext) => new Promise((resolve) => {
      ctx.signal.addEventListener('abort', () => resolve(`stopped: ${(ctx.signal.reason as Error).name}`));
    }), { bind: true, softTimeLimit: 0.1, timeLimit: 5 });
    app.worker();
    expect(await (await polite.delay()).get(T)).toBe('stopped: SoftTimeLimitExceeded');
  });

  it('spaces the starts of a rate-limited task across all workers', async () => {
    const app = testApp();
    const starts: number[] = [];
    const limited = app.task('limited', () => starts.push(Date.now()), { rateLimit: '10/s' });
    app.worker({ concurrency: 5 });
    app.worker({ concurrency: 5 });
    const results = await Promise.all(Array.from({ length: 6 }, () => limited.delay()));
    await Promise.all(results.map((res) => res.get(T)));
    starts.sort((a, b) => a - b);
    // Six starts at 10/s need at least five 100 ms gaps.
    expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(450);
  });
});

describe('replace', () => {
  it('resolves the replaced task and its successors with the replacement\'s final result', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const replacer = app.task('replacer', (ctx: TaskContext, x: number) => ctx.replace(chain(add.s(x, 1), add.s(2))), { bind: true });
    app.worker({ concurrency: 4 });
    const res = await app.apply(chain(replacer.s(1), add.s(10)));
    expect(await res.get(T)).toBe(14);
    expect(await res.parent!.get(T)).toBe(4);
  });

  it('turns a replacement group into the ordered list, keeping chord order', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const fan = app.task('fan', (ctx: TaskContext, n: number) => ctx.replace(group(add.s(n, 1), add.s(n, 2))), { bind: true });
    const collect = app.task('collect', (values: unknown[]) => values);
    app.worker({ concurrency: 4 });
    const res = await app.apply(chord([fan.s(10), add.s(0, 5), fan.s(20)], collect.s()));
    expect(await res.get(T)).toEqual([[11, 12], 5, [21, 22]]);
  });

  it('fails the replaced task when its replacement fails', async () => {
    const app = testApp();
    const boom = app.task('boom', (): number => {
      throw new Flaky('inside the replacement');
    });
    const replacer = app.task('replacer', (ctx: TaskContext) => ctx.replace(boom.s()), { bind: true });
    app.worker({ concurrency: 2 });
    await expect((await replacer.delay()).get(T)).rejects.toMatchObject({ remoteName: 'Flaky' });
  });
});

describe('option validation', () => {
  it('refuses bad options at call time with an error naming the option', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    await expect(add.applyAsync({ args: [1, 1], countdown: -1 })).rejects.toThrow(/countdown/);
    await expect(add.applyAsync({ args: [1, 1], eta: 'not a date' })).rejects.toThrow(/eta/);
    await expect(add.applyAsync({ args: [1, 1], queue: 'bad:queue' })).rejects.toThrow(/queue/);
    await expect(add.applyAsync({ args: [1, 1], priority: 'high' as never })).rejects.toThrow(/priority/);
    await expect(add.applyAsync({ args: [1, 1], maxRetries: 1.5 })).rejects.toThrow(CanvasError);
    expect(() => app.task('bad', () => 1, { rateLimit: 'fast' })).toThrow(/rateLimit/);
    expect(() => app.task('bad', () => 1, { timeLimit: -3 })).toThrow(/timeLimit/);
  });
});
