/**
 * The app and tasks every example uses — the equivalent of a Celery project's `proj/tasks.py`.
 * REDIS_URL picks the Redis (`npm run demo` starts a private one when it is unset).
 */
import { createApp } from '@celeriac/runtime';

export const app = createApp({
  name: 'examples',
  redis: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  prefix: 'celeriac-examples',
  resultTtl: 600,
});

export const add = app.task('add', (x: number, y: number) => x + y);
export const mul = app.task('mul', (x: number, y: number) => x * y);
export const tsum = app.task('tsum', (numbers: number[]) => numbers.reduce((sum, n) => sum + n, 0));
export const fail = app.task('fail', (..._args: unknown[]): number => {
  throw new RangeError('this task always fails');
});

/** Runs `body` with a worker in this process, then shuts both down. */
export async function withWorker(body: () => Promise<void>): Promise<void> {
  const worker = app.worker({ concurrency: 10, name: 'example@%h' });
  try {
    await body();
  } finally {
    await worker.close();
    await app.close();
  }
}

/** Waits at most 10 s for any result. */
export const wait = { timeout: 10_000 } as const;
