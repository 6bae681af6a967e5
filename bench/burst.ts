/**
 * What a burst of applies costs the producer and Redis, with no worker: 1 000 `delay`s at once
 * against 1 000 bare `queue.add`s (or, `--shape group`, 100 groups of 10 against 100 `addBulk`s of
 * 10), alternating, one process, one private Redis flushed before each burst. Per burst it reads
 * the time until every call resolved, the process's CPU (the collector's threads included), the
 * collector's pauses, Redis's own CPU (`INFO cpu`) and its script calls (`INFO commandstats`), and
 * prints the medians: the harness of bench/README.md "Round two, continued (10)" and "(11)".
 *
 *   npm run bench:burst                          # lone delays, 5 bursts of warm-up, 15 timed
 *   npm run bench:burst -- --shape group --rounds 9
 *
 * Celeriac comes from its packages' `dist/`, as `npm run bench` runs it (the script builds them).
 * To compare two commits, run it from a worktree of each, alternating (see bench/README.md).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { group } from '@celeriac/canvas';
import { createApp } from '@celeriac/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../scripts/private-redis.js';
import { requireShippedPackages } from './lib/shipped.js';
import { delta, snapshot } from './lib/redis-stats.js';

requireShippedPackages('bench:burst');

const TASKS = 1_000;
const GROUP_SIZE = 10;
const WARM_UP = 5;

const { values: flags } = parseArgs({
  options: { shape: { type: 'string', default: 'lone' }, rounds: { type: 'string', default: '15' } },
});
const shape = flags.shape;
if (shape !== 'lone' && shape !== 'group') throw new Error(`--shape is lone or group, not ${shape}`);
const rounds = Number(flags.rounds);
if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds is a whole number of bursts, not ${flags.rounds}`);

interface Burst {
  readonly ms: number;
  readonly cpuMs: number;
  readonly gcMs: number;
  readonly redisCpuMs: number;
  /** EVALSHA and EVAL calls, and the microseconds Redis spent in them. */
  readonly scriptCalls: number;
  readonly scriptUs: number;
}

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

const redis = await startPrivateRedis();
const admin = new Redis(redis.url);
const app = createApp({ name: 'burst', redis: redis.url, prefix: 'burst', resultTtl: 3600 });
const add = app.task('add', (x: number, y: number) => x + y);
const queue = new Queue('plain', { connection: { url: redis.url }, prefix: 'plain' });

const celeriac = (): Promise<unknown> =>
  shape === 'lone'
    ? Promise.all(Array.from({ length: TASKS }, (_, i) => add.delay(i, i)))
    : Promise.all(Array.from({ length: TASKS / GROUP_SIZE }, (_, i) => app.apply(group(Array.from({ length: GROUP_SIZE }, (_, j) => add.si(i, j))))));
const bullmq = (): Promise<unknown> =>
  shape === 'lone'
    ? Promise.all(Array.from({ length: TASKS }, (_, i) => queue.add('add', { x: i, y: i })))
    : Promise.all(
        Array.from({ length: TASKS / GROUP_SIZE }, (_, i) =>
          queue.addBulk(Array.from({ length: GROUP_SIZE }, (_, j) => ({ name: 'add', data: { x: i, y: j } }))),
        ),
      );

async function burst(run: () => Promise<unknown>): Promise<Burst> {
  await admin.flushall();
  const redisBefore = await snapshot(admin);
  const gcBefore = gcMs;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const gc = gcMs - gcBefore;
  const redisRun = delta(redisBefore, await snapshot(admin));
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, gcMs: gc, redisCpuMs: redisRun.cpuMs, scriptCalls: redisRun.scripts, scriptUs: redisRun.scriptUs };
}

function median(bursts: readonly Burst[], pick: (burst: Burst) => number): number {
  const sorted = bursts.map(pick).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

try {
  await app.redis.ping();
  await queue.waitUntilReady();
  for (let i = 0; i < WARM_UP; i++) {
    await burst(celeriac);
    await burst(bullmq);
  }
  const timed: Record<'celeriac' | 'bullmq', Burst[]> = { celeriac: [], bullmq: [] };
  for (let i = 0; i < rounds; i++) {
    timed.celeriac.push(await burst(celeriac));
    timed.bullmq.push(await burst(bullmq));
  }
  const what = shape === 'lone' ? `${TASKS} lone delays against ${TASKS} queue.add` : `${TASKS / GROUP_SIZE} groups of ${GROUP_SIZE} against as many addBulk`;
  console.log(`${what}, one process, no worker; medians of ${rounds} bursts after ${WARM_UP} of warm-up:\n`);
  console.log('| per burst | time | process CPU | GC pauses | Redis CPU | script calls | Redis µs per call |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const [system, bursts] of Object.entries(timed)) {
    const ms = (pick: (burst: Burst) => number): string => `${median(bursts, pick).toFixed(1)} ms`;
    const perCall = median(bursts, (b) => (b.scriptCalls === 0 ? 0 : b.scriptUs / b.scriptCalls));
    console.log(
      `| ${system} | ${ms((b) => b.ms)} | ${ms((b) => b.cpuMs)} | ${ms((b) => b.gcMs)} | ${ms((b) => b.redisCpuMs)} | ${median(bursts, (b) => b.scriptCalls)} | ${perCall.toFixed(1)} |`,
    );
  }
} finally {
  await app.close();
  await queue.close();
  admin.disconnect();
  await redis.stop();
}
