import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chain, fromCelery } from '@celeriac/canvas';
import { availableParallelism } from 'node:os';
import { randomUUID } from 'node:crypto';
import { consoleLogger, createApp, expandNodeName, InvalidArgumentError, type App, type TaskContext } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';

const T = { timeout: 15_000 };
const root = fileURLToPath(new URL('../../../', import.meta.url));
const reader = fileURLToPath(new URL('./fixtures/read-result.ts', import.meta.url));

describe('app and worker lifecycle', () => {
  it('lets another process rebuild a result and walk its .parent chain from Redis alone', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker();
    const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
    await res.get(T);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@celeriac/source', reader, redisUrl(), app.prefix, res.id],
      { cwd: root },
    );
    expect(JSON.parse(stdout)).toEqual([16, 8, 4]);
  });

  it('finishes the jobs in flight when a worker closes gracefully', async () => {
    const app = testApp();
    let started = false;
    const slow = app.task('slow', async () => {
      started = true;
      await new Promise((resolve) => setTimeout(resolve, 300));
      return 'finished';
    });
    const worker = app.worker();
    const res = await slow.delay();
    await expect.poll(() => started, { timeout: 5_000 }).toBe(true);
    await worker.close();
    expect(await res.state()).toBe('SUCCESS');
    expect(await res.get(T)).toBe('finished');
  });

  it('uses an ioredis instance it was given without closing it', async () => {
    const connection = new Redis(redisUrl());
    try {
      const app = createApp({ redis: connection, prefix: testApp().prefix });
      const add = app.task('add', (x: number, y: number) => x + y);
      const worker = app.worker();
      expect(await (await add.delay(1, 2)).get(T)).toBe(3);
      await worker.close();
      await app.close();
      expect(await connection.ping()).toBe('PONG');
    } finally {
      connection.disconnect();
    }
  });

  it('hands the kwargs of a Celery producer\'s signature to a bound handler', async () => {
    const app = testApp();
    app.task('tasks.greet', (ctx: TaskContext, name: string) => `${String(ctx.kwargs['greeting'])}, ${name}!`, { bind: true });
    app.worker();
    // The dict a Python producer would build with greet.s('Ada', greeting='Hello').
    const fromPython = fromCelery({
      task: 'tasks.greet',
      args: ['Ada'],
      kwargs: { greeting: 'Hello' },
      options: {},
      subtask_type: null,
      immutable: false,
    });
    expect(await (await app.apply(fromPython)).get(T)).toBe('Hello, Ada!');
  });

  it('hands the jobs in flight back at once on a forced close, and another worker runs them', async () => {
    const app = testApp();
    let calls = 0;
    let aborted = false;
    const slow = app.task('slow', async (ctx: TaskContext) => {
      if (++calls > 1) return 'done again';
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      aborted = true;
      throw new Error('aborted');
    }, { bind: true });
    const first = app.worker({ name: 'first@%h' });
    const res = await slow.delay();
    await expect.poll(() => calls, { timeout: 5_000 }).toBe(1);
    const started = Date.now();
    await first.close({ force: true });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(aborted).toBe(true);
    // Run again within seconds, not after the 30 s stalled-job check: it went straight back to its queue.
    app.worker({ name: 'second@%h' });
    expect(await res.get({ timeout: 5_000 })).toBe('done again');
    expect(calls).toBe(2);
  });

  it('stops waiting at a graceful close\'s timeout, and hands the job back', async () => {
    const app = testApp();
    let calls = 0;
    const hang = app.task('hang', () => {
      calls++;
      return calls === 1 ? new Promise<string>(() => {}) : 'second time';
    });
    const worker = app.worker();
    const res = await hang.delay();
    await expect.poll(() => calls, { timeout: 5_000 }).toBe(1);
    const started = Date.now();
    await worker.close({ timeout: 300 });
    expect(Date.now() - started).toBeLessThan(3_000);
    app.worker();
    expect(await res.get({ timeout: 5_000 })).toBe('second time');
  });

  it('runs at most `concurrency` tasks at once across all of its queues (Celery: per worker, not per queue)', async () => {
    const app = testApp();
    let running = 0;
    let most = 0;
    const hold = app.task('hold', async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 150));
      running--;
      return null;
    });
    const worker = app.worker({ concurrency: 2, queues: ['a', 'b', 'c'] });
    await worker.waitUntilReady();
    const results = await Promise.all(
      ['a', 'b', 'c'].flatMap((queue) => [1, 2, 3].map(() => hold.applyAsync({ queue }))),
    );
    await Promise.all(results.map((result) => result.get(T)));
    expect(most).toBe(2);
  });

  it('runs as many tasks at once as there are CPUs unless told otherwise, as Celery does', () => {
    const app = testApp();
    expect(app.worker().concurrency).toBe(availableParallelism());
    expect(() => app.worker({ concurrency: 0 })).toThrow(InvalidArgumentError);
  });

  it('lists only the user\'s tasks as registered, not Celery\'s or Celeriac\'s built-ins', () => {
    const app = testApp();
    app.task('add', (x: number, y: number) => x + y);
    expect(app.registered).toEqual(['add']);
    expect(app.worker().registered).toEqual(['add']);
  });

  it('expands %h, %n, %d and %% in worker names as Celery does', () => {
    expect(expandNodeName('w1@%h', 'box.example.com')).toBe('w1@box.example.com');
    expect(expandNodeName('w2@%n', 'box.example.com')).toBe('w2@box');
    expect(expandNodeName('%n.%d', 'box.example.com')).toBe('box.example.com');
    expect(expandNodeName('w@%d', 'box')).toBe('w@');
    expect(expandNodeName('100%%@%n', 'box.lan')).toBe('100%@box');
  });

  it('takes options given as undefined as not given', async () => {
    const app = createApp({ redis: redisUrl(), prefix: undefined, name: undefined, resultTtl: undefined, logger: undefined });
    try {
      expect(app.prefix).toBe('celeriac');
      expect(app.name).toBe('celeriac');
    } finally {
      await app.close();
    }
  });

  it('can be pointed at another Redis and prefix before it is used (the CLI\'s --broker and --prefix), not after', async () => {
    const app = createApp({ redis: 'redis://127.0.0.1:1', prefix: 'nowhere', logger: consoleLogger('silent') });
    const prefix = `test-${randomUUID()}`;
    try {
      app.configure({ redis: redisUrl(), prefix });
      expect(app.prefix).toBe(prefix);
      const add = app.task('add', (x: number, y: number) => x + y);
      app.worker();
      expect(await (await add.delay(1, 2)).get(T)).toBe(3);
      expect(() => app.configure({ prefix: 'other' })).toThrow(/already connected/);
    } finally {
      await app.close();
      const redis = new Redis(redisUrl());
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });

  it('refuses a redis option it cannot recognise instead of connecting somewhere else', () => {
    class NotARedis {
      readonly host = 'elsewhere';
    }
    expect(() => createApp({ redis: new NotARedis() as never })).toThrow(/NotARedis/);
    expect(() => createApp({ redis: { isCluster: true } as never })).toThrow(InvalidArgumentError);
    expect(() => createApp({ redis: 'localhost:6379' })).toThrow(/redis:\/\//);
  });

  describe('closing right after an apply whose promise was not awaited: the apply is sent, and its task runs', () => {
    const adder = (app: App) => app.task('add', (x: number, y: number) => x + y);
    /** What a worker of another app on the same prefix computes for `id`. */
    const runElsewhere = async (prefix: string, id: string): Promise<unknown> => {
      const worker = testApp({ prefix });
      adder(worker);
      worker.worker();
      return (await worker.result(id)).get(T);
    };

    it('a delay', async () => {
      const app = testApp();
      const add = adder(app);
      await add.delay(0, 0); // connected, its queue open; what follows runs in a microtask
      const sent = add.delay(1, 2);
      await app.close();
      expect(await runElsewhere(app.prefix, (await sent).id)).toBe(3);
    });

    it("an apply with a taskId, whose add waits for its plan's reply", async () => {
      const app = testApp();
      const add = adder(app);
      await add.delay(0, 0);
      const taskId = `mine-${randomUUID()}`;
      const sent = app.apply(add.s(3, 4), { taskId });
      await app.close();
      expect((await sent).id).toBe(taskId);
      expect(await runElsewhere(app.prefix, taskId)).toBe(7);
    });

    it("the app's very first delay, whose queue was still opening", async () => {
      const app = testApp();
      const sent = adder(app).delay(2, 5);
      await app.close();
      expect(await runElsewhere(app.prefix, (await sent).id)).toBe(7);
    });
  });

  it('refuses to be used after close', async () => {
    const app = testApp();
    await app.close();
    expect(() => app.worker()).toThrow(/closed/);
    await expect(app.apply(chain())).rejects.toThrow(/closed/);
  });
});
