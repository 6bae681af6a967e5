/**
 * `app.control.revoke` (Celery's `control.revoke`) reaches only the workers' memory; a worker that
 * skips or terminates a task for it records the task REVOKED, so no waiter hangs on it — as a
 * Celery worker marks a task revoked in the result backend.
 */
import { chain, signature } from '@celeriac/canvas';
import { RevokedError } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

describe('app.control.revoke', () => {
  it('with terminate, ends a running handler that ignores its signal at once: REVOKED, and its successor too', async () => {
    const app = testApp();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    app.task('stubborn', async () => {
      started();
      await new Promise((resolve) => setTimeout(resolve, 20_000)); // never looks at ctx.signal
      return 'finished';
    });
    app.task('next', (x: unknown) => x);
    app.worker({ name: 'w-revoke@test', concurrency: 2 });
    const res = await app.apply(chain(signature('stubborn'), signature('next')));
    await running;
    const replies = await app.control.revoke(res.parent.id, { terminate: true, timeout: 5_000 });
    expect(replies).toEqual({ 'w-revoke@test': { ok: expect.stringMatching(/terminated if running/) } });
    const startedWaiting = Date.now();
    await expect(res.get({ timeout: 10_000 })).rejects.toBeInstanceOf(RevokedError);
    expect(Date.now() - startedWaiting).toBeLessThan(10_000);
    expect(await res.parent.state()).toBe('REVOKED');
    expect(await res.state()).toBe('REVOKED');
  });

  it('without terminate, a task waiting in the queue is recorded REVOKED when the worker skips it', async () => {
    const app = testApp();
    let unblock!: () => void;
    const blocked = new Promise<void>((resolve) => (unblock = resolve));
    let started!: () => void;
    const busy = new Promise<void>((resolve) => (started = resolve));
    const block = app.task('block', async () => {
      started();
      await blocked;
    });
    let ran = false;
    const add = app.task('add', (x: number, y: number) => {
      ran = true;
      return x + y;
    });
    app.worker({ name: 'w-skip@test', concurrency: 1 });
    const first = await block.delay();
    await busy; // the only slot is taken: the next task waits in the queue
    const res = await add.delay(1, 2);
    await app.control.revoke(res.id, { timeout: 5_000 });
    unblock();
    await first.get({ timeout: 10_000 });
    await expect(res.get({ timeout: 10_000 })).rejects.toBeInstanceOf(RevokedError);
    expect(ran).toBe(false);
  });
});
