/** The project's tasks (Celery's `proj/tasks.py`), registered on the app from app.ts. */
import { app } from './app.js';

export const add = app.task('add', (x: number, y: number) => x + y);
export const mul = app.task('mul', (x: number, y: number) => x * y);
export const tsum = app.task('tsum', (numbers: number[]) => numbers.reduce((sum, n) => sum + n, 0));

/** Waits `seconds` (without blocking the worker), then returns them. */
export const sleep = app.task('sleep', async (seconds: number) => {
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return seconds;
});

/**
 * Computes for `seconds` without ever yielding: only the processes pool (`-P processes`) can stop
 * it, which it does at the 2 s hard time limit.
 */
export const spin = app.task(
  'spin',
  (seconds: number) => {
    const end = Date.now() + seconds * 1000;
    let n = 0;
    while (Date.now() < end) n++;
    return n;
  },
  { timeLimit: 2 },
);

/** Always fails: for `celeriac result --traceback`. */
export const fail = app.task('fail', (message: string): never => {
  throw new RangeError(message);
});
