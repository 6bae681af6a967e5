/**
 * A process whose only task never returns: it takes one such job, closes its worker with a
 * deadline and its app, prints `closed`, and must then exit on its own — nothing of the handed-back
 * job (lock renewals, a blocking connection, a wait for the handler) may keep it alive.
 * Env: REDIS_URL, CELERIAC_PREFIX, CELERIAC_TASK_ID (the job to take).
 */
import { consoleLogger, createApp } from '@celeriac/runtime';

const url = process.env['REDIS_URL'];
const prefix = process.env['CELERIAC_PREFIX'];
if (url === undefined || prefix === undefined) throw new Error('REDIS_URL and CELERIAC_PREFIX are required');

const app = createApp({ redis: url, prefix, logger: consoleLogger('warn') });
let started!: () => void;
const running = new Promise<void>((resolve) => (started = resolve));
app.task('hang', () => {
  started();
  return new Promise<string>(() => {});
});
const worker = app.worker({ concurrency: 1, lockDuration: 1_000, stalledInterval: 500 });
await running;
await worker.close({ timeout: 300 });
await app.close();
process.stdout.write('closed\n');
