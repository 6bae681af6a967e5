/**
 * Where a 100 000-task group's producer memory goes: `npm run bench:floor`.
 *
 * Each case runs in a fresh process (a separate heap) against one private Redis, three times, and
 * reports the median peak RSS (`VmHWM`). Every case first builds the same canvas, as a user would,
 * and keeps it alive; then it does one part of what `app.apply` does:
 *
 * - `canvas`: nothing more;
 * - `plan write`: the plan's node specs written to a hash 1 000 at a time, generated from the
 *   canvas slice by slice (what a fully streamed plan would cost);
 * - `bullmq enqueue`: the group's 100 000 jobs added with plain BullMQ `addBulk`, 250 at a time,
 *   built from the canvas slice by slice (what enqueueing costs before anything of Celeriac's);
 * - `apply`: Celeriac's `app.apply(canvas)`.
 *
 * The gap between `canvas` and the other cases is what each part adds on top of the user's data.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { group } from '@celeriac/canvas';
import { createApp } from '@celeriac/runtime';
import { Queue } from 'bullmq';
import { startPrivateRedis } from '../scripts/private-redis.js';
import { requireShippedPackages } from './lib/shipped.js';
import { peakRss } from './lib/memory.js';
import { median } from './lib/report.js';

requireShippedPackages('bench:floor');

const SIZE = 100_000;
const RUNS = 3;
const CASES = ['canvas', 'plan write', 'bullmq enqueue', 'apply'] as const;
type Case = (typeof CASES)[number];

async function runCase(which: Case, redisUrl: string): Promise<number> {
  const app = createApp({ name: 'floor', redis: redisUrl, prefix: 'floor', resultTtl: 600 });
  const add = app.task('add', (x: number, y: number) => x + y);
  await app.redis.flushdb();
  const canvas = group(Array.from({ length: SIZE }, (_, i) => add.si(i, i)));
  const members = canvas.tasks.map((task) => (task.kind === 'signature' ? task : null));
  const workflow = '00000000-0000-4000-8000-000000000000';
  switch (which) {
    case 'canvas':
      break;
    case 'plan write':
      for (let from = 0; from < SIZE; from += 1_000) {
        const fields: string[] = [];
        for (let i = from; i < Math.min(SIZE, from + 1_000); i++) {
          const { task, args, kwargs, options } = members[i]!;
          const spec = { id: `${workflow}.${i}`, task, args, kwargs, options, input: null, rootId: `${workflow}.0`, groupId: workflow, groupIndex: i, role: 'task' };
          fields.push(`n:${i}`, JSON.stringify(spec));
        }
        await app.redis.hset('floor:plan', ...fields);
      }
      break;
    case 'bullmq enqueue': {
      const queue = new Queue('default', { connection: app.redis, prefix: 'floor:q' });
      for (let from = 0; from < SIZE; from += 250) {
        const jobs = [];
        for (let i = from; i < Math.min(SIZE, from + 250); i++) {
          const { task, args, kwargs } = members[i]!;
          const data = { w: workflow, i, id: `${workflow}.${i}`, task, args, kwargs, rootId: `${workflow}.0`, groupId: workflow, groupIndex: i };
          jobs.push({ name: task, data, opts: { jobId: `${workflow}.${i}`, removeOnComplete: true, attempts: 5 } });
        }
        await queue.addBulk(jobs);
      }
      await queue.close();
      break;
    }
    case 'apply':
      await app.apply(canvas);
      break;
  }
  const peak = Math.round(peakRss() / 2 ** 20);
  await app.close();
  return peak;
}

async function main(): Promise<void> {
  const [which, redisUrl] = process.argv.slice(2);
  if (which !== undefined && redisUrl !== undefined) {
    const peak = await runCase(which as Case, redisUrl);
    process.send?.(peak, () => process.exit(0));
    return;
  }
  const redis = await startPrivateRedis();
  try {
    console.log(`| ${SIZE.toLocaleString('en')}-task group, producer | peak RSS (median of ${RUNS}) | runs |\n|---|---:|---|`);
    for (const which of CASES) {
      const peaks: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const child = fork(fileURLToPath(import.meta.url), [which, redis.url], { execArgv: process.execArgv });
        peaks.push(await new Promise<number>((resolve, reject) => {
          child.once('message', (peak) => resolve(peak as number));
          child.once('exit', (code) => reject(new Error(`${which}: child exited with ${code}`)));
        }));
      }
      console.log(`| ${which} | ${median(peaks)} MB | ${peaks.join(', ')} |`);
    }
  } finally {
    await redis.stop();
  }
}

main().then(
  () => {
    if (process.send === undefined) process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
