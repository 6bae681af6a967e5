/**
 * What a real worker started with `taskEvents: true` writes to the task-event stream, read back
 * through `app.events`: the monitor and `celeriac events` show exactly this.
 */
import type { StoredTaskEvent } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

const T = { timeout: 15_000 };

class Flaky extends Error {
  override name = 'Flaky';
}

describe('worker task events', () => {
  it('records a task received, started and succeeded, with its args and result', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker({ taskEvents: true, name: 'w1@test' });
    const res = await add.delay(2, 3);
    expect(await res.get(T)).toBe(5);
    await expect.poll(async () => (await app.events.history({ taskId: res.id })).events.length, T).toBe(3);
    const [succeeded, started, received] = (await app.events.history({ taskId: res.id })).events;
    expect(received).toMatchObject({ type: 'task-received', worker: 'w1@test', name: 'add', args: '[2,3]', kwargs: '{}', retries: 0, queue: 'default', workflowId: res.id });
    expect(started).toMatchObject({ type: 'task-started', taskId: res.id });
    expect(succeeded).toMatchObject({ type: 'task-succeeded', result: '5' });
  });

  it("names the error of a failed and of a retried task, with its stack, as Celery's exception and traceback", async () => {
    const app = testApp();
    let runs = 0;
    const flaky = app.task('flaky', () => {
      runs++;
      throw runs === 1 ? new Flaky('not yet') : new TypeError('gave up');
    }, { maxRetries: 1, autoretryFor: [Flaky] });
    app.worker({ taskEvents: true });
    const res = await flaky.delay();
    await expect(res.get(T)).rejects.toThrow(/gave up/);
    const types = ['task-retried', 'task-failed'] as const;
    await expect.poll(async () => (await app.events.history({ taskId: res.id, types: [...types] })).events.length, T).toBe(2);
    const [failed, retried] = (await app.events.history({ taskId: res.id, types: [...types] })).events as StoredTaskEvent[];
    expect(retried).toMatchObject({ type: 'task-retried', exception: 'Flaky: not yet', retries: 1 });
    expect(retried?.type === 'task-retried' && retried.traceback).toMatch(/^Flaky: not yet\n\s+at /);
    expect(failed).toMatchObject({ type: 'task-failed', exception: 'TypeError: gave up' });
    expect(failed?.type === 'task-failed' && failed.traceback).toMatch(/^TypeError: gave up\n\s+at /);
  });
});
