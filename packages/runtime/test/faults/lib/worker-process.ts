/**
 * A worker process for the fault suite: the suite's tasks, one worker, and nothing else, so that
 * a SIGKILL takes down everything it had in flight. Prints `ready` once it takes jobs.
 * Env: REDIS_URL, CELERIAC_PREFIX; CELERIAC_LOCK_MS and CELERIAC_STALLED_MS (default: the
 * runtime's own defaults, 10 s and 5 s); CELERIAC_CONCURRENCY (default 4); CELERIAC_PAUSE_MS, a
 * task's pause as `min,max` milliseconds (default 2,25); CELERIAC_SWEEP_MS, the outbox sweep's
 * interval (default the runtime's, a minute); CELERIAC_QUEUES, comma-separated (default `default`).
 */
import { consoleLogger, createApp } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { registerTasks } from './tasks.js';

const url = process.env['REDIS_URL'];
const prefix = process.env['CELERIAC_PREFIX'];
if (url === undefined || prefix === undefined) throw new Error('REDIS_URL and CELERIAC_PREFIX are required');
const ms = (name: string): number | undefined => (process.env[name] === undefined ? undefined : Number(process.env[name]));

const app = createApp({ redis: url, prefix, logger: consoleLogger('silent') });
const pause = (process.env['CELERIAC_PAUSE_MS'] ?? '2,25').split(',').map(Number) as [number, number];
// Outages are the suite's doing: the ledger waits them out without reporting each attempt.
registerTasks(app, new Redis(url, { maxRetriesPerRequest: null }).on('error', () => {}), pause);
const worker = app.worker({
  concurrency: ms('CELERIAC_CONCURRENCY') ?? 4,
  lockDuration: ms('CELERIAC_LOCK_MS'),
  stalledInterval: ms('CELERIAC_STALLED_MS'),
  outboxSweepInterval: ms('CELERIAC_SWEEP_MS'),
  queues: process.env['CELERIAC_QUEUES']?.split(','),
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
