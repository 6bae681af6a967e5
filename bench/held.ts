/**
 * What a burst of lone tasks holds while it waits: `npm run bench:held`. Each case runs in a fresh
 * process, three times, against one private Redis with no worker, and reports the median heap each
 * task holds (heap used after full collections, divided by the tasks):
 *
 * - Celeriac: 2 000 `delay`s, their results kept (`held by a result`); then a `get()` on each, all
 *   pending (`held by a pending get()`);
 * - plain BullMQ: 2 000 `queue.add`s, their jobs kept; then `job.waitUntilFinished` on each.
 *
 * In a burst, what pending `get()`s hold is what V8's young-generation collector copies at each
 * collection, so it costs more CPU than its size says (bench/README.md "Round two, continued (14)").
 * Run with the collector exposed: the script re-runs itself under `--expose-gc`.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createApp } from '@celeriac/runtime';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { startPrivateRedis } from '../scripts/private-redis.js';
import { requireShippedPackages } from './lib/shipped.js';
import { median } from './lib/report.js';

const TASKS = 2_000;
const RUNS = 3;
const SYSTEMS = ['celeriac', 'bullmq'] as const;
type System = (typeof SYSTEMS)[number];

/** KB of heap per task: after the applies, and after the waits began. */
interface Held {
  readonly applied: number;
  readonly waiting: number;
}

async function settledHeap(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function measure(system: System, redisUrl: string): Promise<Held> {
  const perTask = (bytes: number): number => bytes / TASKS / 1024;
  if (system === 'celeriac') {
    const app = createApp({ name: 'held', redis: redisUrl, prefix: 'held', resultTtl: 600 });
    const add = app.task('add', (x: number, y: number) => x + y);
    // Warm: code compiled, the app's pattern subscription confirmed.
    await Promise.all(Array.from({ length: 200 }, (_, i) => add.delay(i, i)));
    await (await add.delay(0, 0)).get({ timeout: 1 }).catch(() => {});
    const before = await settledHeap();
    const results = await Promise.all(Array.from({ length: TASKS }, (_, i) => add.delay(i, i)));
    const applied = await settledHeap();
    const waits = results.map((result) => result.get());
    const waiting = await settledHeap();
    waits.forEach((wait) => wait.catch(() => {}));
    return { applied: perTask(applied - before), waiting: perTask(waiting - applied) };
  }
  const connection = { url: redisUrl };
  const queue = new Queue('held', { connection, prefix: 'held-bullmq' });
  const events = new QueueEvents('held', { connection, prefix: 'held-bullmq' });
  // Each waitUntilFinished listens for the queue's closing until its job ends.
  queue.setMaxListeners(TASKS + 10);
  await events.waitUntilReady();
  await Promise.all(Array.from({ length: 200 }, (_, i) => queue.add('add', { x: i, y: i })));
  const before = await settledHeap();
  const jobs: Job[] = await Promise.all(Array.from({ length: TASKS }, (_, i) => queue.add('add', { x: i, y: i })));
  const applied = await settledHeap();
  const waits = jobs.map((job) => job.waitUntilFinished(events));
  const waiting = await settledHeap();
  waits.forEach((wait) => wait.catch(() => {}));
  return { applied: perTask(applied - before), waiting: perTask(waiting - applied) };
}

async function child(system: System, redisUrl: string): Promise<void> {
  process.send!(await measure(system, redisUrl));
  process.exit(0);
}

function runChild(system: System, redisUrl: string): Promise<Held> {
  return new Promise((resolve, reject) => {
    const process = fork(fileURLToPath(import.meta.url), ['--child', system, redisUrl], { execArgv: [...execArgv(), '--expose-gc'] });
    process.once('message', (held) => resolve(held as Held));
    process.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`the ${system} case exited with ${code}`))));
  });
}

/** The parent's own loader flags (tsx), which the child needs too. */
function execArgv(): string[] {
  return globalThis.process.execArgv.filter((flag) => flag !== '--expose-gc');
}

const [flag, system, url] = process.argv.slice(2);
if (flag === '--child') {
  await child(system as System, url!);
} else {
  requireShippedPackages('bench:held');
  const redis = await startPrivateRedis();
  try {
    console.log(`Heap each task holds, ${TASKS} at once, no worker; medians of ${RUNS} fresh processes:\n`);
    console.log('| system | held by a result | held by a pending get() |');
    console.log('|---|---:|---:|');
    for (const which of SYSTEMS) {
      const runs: Held[] = [];
      for (let run = 0; run < RUNS; run++) runs.push(await runChild(which, redis.url));
      const kb = (pick: (held: Held) => number): string => `${median(runs.map(pick)).toFixed(2)} KB`;
      console.log(`| ${which === 'celeriac' ? 'Celeriac `delay`, `get()`' : 'BullMQ `add`, `waitUntilFinished`'} | ${kb((h) => h.applied)} | ${kb((h) => h.waiting)} |`);
    }
  } finally {
    await redis.stop();
  }
}
