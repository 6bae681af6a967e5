import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chain, fromCelery } from '@celeriac/canvas';
import { createApp, type TaskContext } from '@celeriac/runtime';
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

  it('refuses to be used after close', async () => {
    const app = testApp();
    await app.close();
    expect(() => app.worker()).toThrow(/closed/);
    await expect(app.apply(chain())).rejects.toThrow(/closed/);
  });
});
