/**
 * A chain hop's latency in steady state: `npm run bench`'s chain scenario times one chain of 100
 * after a 2 000-hop warm-up in fresh processes, which also measures how fast V8 warms the worker up.
 * This times many chains in a row after the same warm-up, producer and worker in separate
 * processes, and prints the first timed chain's hop beside the median of all.
 *
 *   npm run bench:hop                 # 20 chains of warm-up, 30 timed
 *   npm run bench:hop -- 20 100       # warm-up chains, timed chains
 *
 * To compare two commits, run it from a worktree of each, alternating (see bench/README.md).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chain } from '@celeriac/canvas';
import { createApp } from '@celeriac/runtime';
import { startPrivateRedis } from '../scripts/private-redis.js';
import { requireShippedPackages } from './lib/shipped.js';

requireShippedPackages('bench:hop');

const STEPS = 100;
const PREFIX = 'hop';

function benchApp(url: string) {
  const app = createApp({ name: 'hop', redis: url, prefix: PREFIX, resultTtl: 3600 });
  return { app, add: app.task('add', (x: number, y: number) => x + y) };
}

/** The worker process: runs until killed. */
async function worker(url: string): Promise<void> {
  const { app } = benchApp(url);
  await app.worker({ concurrency: 50, name: 'hop@%h' }).waitUntilReady();
  process.send!('ready');
}

/** Applies one chain of {@link STEPS} and returns its time per hop, in ms. */
async function timeChain(tasks: ReturnType<typeof benchApp>): Promise<number> {
  const start = process.hrtime.bigint();
  const res = await tasks.app.apply(chain([tasks.add.s(0, 1), ...Array.from({ length: STEPS - 1 }, () => tasks.add.s(1))]));
  const value = await res.get({ timeout: 60_000 });
  if (value !== STEPS) throw new Error(`the chain returned ${String(value)}, not ${STEPS}`);
  return Number(process.hrtime.bigint() - start) / 1e6 / STEPS;
}

async function main(warmUp: number, timed: number): Promise<void> {
  const redis = await startPrivateRedis();
  const child = fork(fileURLToPath(import.meta.url), ['--worker', redis.url], { execArgv: process.execArgv });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the worker exited with code ${String(code)}`)));
    });
    const tasks = benchApp(redis.url);
    for (let i = 0; i < warmUp; i++) await timeChain(tasks);
    const hops: number[] = [];
    for (let i = 0; i < timed; i++) hops.push(await timeChain(tasks));
    const sorted = [...hops].sort((a, b) => a - b);
    const at = (q: number): string => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3);
    console.log(`hop, first timed chain: ${hops[0]!.toFixed(3)} ms; median of ${timed}: ${at(0.5)} ms (p25 ${at(0.25)}, p75 ${at(0.75)})`);
    await tasks.app.close();
  } finally {
    child.kill('SIGKILL');
    await redis.stop();
  }
}

if (process.argv[2] === '--worker') {
  await worker(process.argv[3]!);
} else {
  const [warmUp = 20, timed = 30] = process.argv.slice(2).map(Number);
  await main(warmUp, timed);
}
