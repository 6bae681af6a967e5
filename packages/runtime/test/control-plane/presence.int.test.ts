import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Presence, type WorkerDescription } from '../../src/control-plane/index.js';
import { presenceKeys } from '../../src/keys.js';
import { connect, freePort, onCleanup, recordingLogger, redisUrl, startRedisOn, testPrefix } from './helpers.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const member = fileURLToPath(new URL('./fixtures/presence-member.ts', import.meta.url));

function describeWorker(name: string, extra: Partial<WorkerDescription> = {}): WorkerDescription {
  return { name, app: 'proj', queues: ['default'], concurrency: 4, pool: 'async', tasks: ['add', 'mul'], ...extra };
}

/** A presence on its own connection, as a separate process would have. */
function presence(prefix: string, options: { url?: string; retention?: number; logger?: ReturnType<typeof recordingLogger> } = {}): Presence {
  return new Presence({
    redis: connect(options.url),
    prefix,
    logger: options.logger ?? recordingLogger(),
    ...(options.retention === undefined ? {} : { retention: options.retention }),
  });
}

describe('presence', () => {
  it('lists the workers that joined, with their records and counters, online', async () => {
    const prefix = testPrefix();
    const w1 = presence(prefix).join(describeWorker('w1@h'), { interval: 200, live: () => ({ active: 1, processed: 10, failed: 2 }) });
    const w2 = presence(prefix).join(describeWorker('w2@h', { queues: ['math', 'io'], pool: 'processes' }), { interval: 200 });
    onCleanup(() => Promise.all([w1.leave(), w2.leave()]));
    await Promise.all([w1.ready, w2.ready]);
    const workers = await presence(prefix).workers();
    expect(workers.map((w) => w.name)).toStrictEqual(['w1@h', 'w2@h']);
    const [first, second] = workers;
    expect(first).toMatchObject({
      name: 'w1@h',
      app: 'proj',
      pid: process.pid,
      queues: ['default'],
      concurrency: 4,
      pool: 'async',
      tasks: ['add', 'mul'],
      heartbeatInterval: 200,
      online: true,
      active: 1,
      processed: 10,
      failed: 2,
    });
    expect(first!.versions).toMatchObject({ celeriac: '0.1.0', bullmq: '6.7.0', node: process.versions.node });
    expect(first!.versions.redis).toMatch(/^\d+\.\d+\.\d+/);
    expect(first!.heartbeatAge).toBeLessThan(1_000);
    expect(Math.abs(first!.startedAt - Date.now())).toBeLessThan(5_000);
    expect(second).toMatchObject({ queues: ['math', 'io'], pool: 'processes', online: true });
    expect(await presence(prefix).online()).toStrictEqual(['w1@h', 'w2@h']);
  });

  it('removes a worker at once when it leaves gracefully', async () => {
    const prefix = testPrefix();
    const staying = presence(prefix).join(describeWorker('w1@h'), { interval: 200 });
    const leaving = presence(prefix).join(describeWorker('w2@h'), { interval: 200 });
    onCleanup(() => staying.leave());
    await Promise.all([staying.ready, leaving.ready]);
    await leaving.leave();
    expect((await presence(prefix).workers()).map((w) => w.name)).toStrictEqual(['w1@h']);
  });

  it('shows a killed worker offline once its heartbeat is 3 intervals old, then forgets it after the retention', async () => {
    const prefix = testPrefix();
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', member, redisUrl(), prefix, 'doomed@h', '200'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onCleanup(() => void child.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`the presence fixture exited with ${code}`)));
    });
    const reader = presence(prefix, { retention: 1_000 });
    expect((await reader.workers())[0]).toMatchObject({ name: 'doomed@h', online: true, pid: child.pid });

    child.kill('SIGKILL');
    const killedAt = Date.now();
    await expect.poll(async () => (await reader.workers())[0]?.online, { timeout: 5_000, interval: 50 }).toBe(false);
    // Online for up to 3 × 200 ms after its last beat, and listed as offline until the retention.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(350);
    const offline = (await reader.workers())[0]!;
    expect(offline).toMatchObject({ name: 'doomed@h', online: false });
    expect(offline.heartbeatAge).toBeGreaterThan(600);
    await expect.poll(async () => (await reader.workers()).length, { timeout: 5_000, interval: 100 }).toBe(0);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(800);
  });

  it('carries fresh counters with every heartbeat', async () => {
    const prefix = testPrefix();
    let processed = 0;
    const w1 = presence(prefix).join(describeWorker('w1@h'), { interval: 50, live: () => ({ active: 0, processed: ++processed, failed: 0 }) });
    onCleanup(() => w1.leave());
    await w1.ready;
    const reader = presence(prefix);
    await expect.poll(async () => (await reader.workers())[0]?.processed ?? 0, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
  });

  it('announces the new record at once after update()', async () => {
    const prefix = testPrefix();
    const w1 = presence(prefix).join(describeWorker('w1@h'), { interval: 60_000 });
    onCleanup(() => w1.leave());
    await w1.ready;
    w1.update({ queues: ['default', 'extra'], concurrency: 5 });
    const reader = presence(prefix);
    await expect.poll(async () => (await reader.workers())[0]?.queues, { timeout: 5_000 }).toStrictEqual(['default', 'extra']);
    expect((await reader.workers())[0]!.concurrency).toBe(5);
  });

  it('announces itself again when Redis lost its record', async () => {
    const prefix = testPrefix();
    const w1 = presence(prefix).join(describeWorker('w1@h'), { interval: 50 });
    onCleanup(() => w1.leave());
    await w1.ready;
    const { seen, info, live } = presenceKeys(prefix);
    await connect().del(seen, info, live);
    const reader = presence(prefix);
    await expect.poll(async () => (await reader.workers()).map((w) => `${w.name} ${w.tasks.join(',')}`), { timeout: 5_000 }).toStrictEqual(['w1@h add,mul']);
  });

  it('joins once Redis comes up when the worker started while Redis was down', async () => {
    const prefix = testPrefix();
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const w1 = new Presence({ redis: connect(url, { maxRetriesPerRequest: 1 }), prefix, logger: recordingLogger() }).join(describeWorker('w1@h'), { interval: 100 });
    onCleanup(() => w1.leave());
    let ready = false;
    w1.ready.then(() => (ready = true), () => {});
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ready).toBe(false);
    await startRedisOn(port);
    await w1.ready;
    const workers = await presence(prefix, { url }).workers();
    expect(workers).toMatchObject([{ name: 'w1@h', online: true }]);
    expect(workers[0]!.versions.redis).toMatch(/^\d+\./);
  });

  it('skips records someone wrote by hand, logging once', async () => {
    const prefix = testPrefix();
    // No heartbeat during the test: the counters written by hand stay.
    const w1 = presence(prefix).join(describeWorker('w1@h'), { interval: 60_000, live: () => ({ active: 1, processed: 5, failed: 1 }) });
    onCleanup(() => w1.leave());
    await w1.ready;
    const { seen, info, live } = presenceKeys(prefix);
    const raw = connect();
    const now = Date.now();
    await raw.zadd(seen, now, 'garbage', now, 'partial', now, 'missing', now, 'impostor', now, '__proto__');
    await raw.hset(info, 'garbage', 'not json', 'partial', '{"name":"partial"}', 'impostor', (await raw.hget(info, 'w1@h'))!);
    await raw.hset(info, '__proto__', JSON.stringify({ polluted: true }));
    await raw.zadd(seen, now, 'huge');
    await raw.hset(info, 'huge', JSON.stringify({ ...JSON.parse((await raw.hget(info, 'w1@h'))!), name: 'huge', tasks: ['t'.repeat(900)].concat(Array.from({ length: 2_000 }, () => 'x'.repeat(900))) }));
    await raw.hset(live, 'garbage', 'null', 'w1@h', '{"active":"many"}');
    const logger = recordingLogger();
    const workers = await presence(prefix, { logger }).workers();
    expect(workers.map((w) => w.name)).toStrictEqual(['w1@h']);
    // Its counters were overwritten with garbage: listed with zeros until its next heartbeat.
    expect(workers[0]).toMatchObject({ active: 0, processed: 0, failed: 0 });
    expect(logger.lines.filter((line) => line.includes('presence: skipped'))).toHaveLength(1);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('warns when another live process uses the same worker name', async () => {
    const prefix = testPrefix();
    const logger = recordingLogger();
    const first = presence(prefix).join(describeWorker('twin@h'), { interval: 200 });
    onCleanup(() => first.leave());
    await first.ready;
    const second = presence(prefix, { logger }).join(describeWorker('twin@h'), { interval: 200 });
    onCleanup(() => second.leave());
    await second.ready;
    expect(logger.lines.join('\n')).toContain(`another process (instance ${first.record.instance}) is online under the worker name twin@h`);
  });

  it('keeps its keys under the prefix, in one hash slot, expiring after the retention', async () => {
    const prefix = testPrefix();
    const keys = Object.values(presenceKeys(prefix));
    const tags = keys.map((key) => /\{([^}]*)\}/.exec(key)?.[1]);
    expect(new Set(tags)).toStrictEqual(new Set([`${prefix}:workers`]));
    expect(keys.every((key) => key.startsWith(`${prefix}:`))).toBe(true);
    const w1 = presence(prefix, { retention: 10_000 }).join(describeWorker('w1@h'), { interval: 200 });
    onCleanup(() => w1.leave());
    await w1.ready;
    const raw = connect();
    for (const key of keys) {
      const ttl = await raw.pttl(key);
      expect(ttl).toBeGreaterThan(5_000);
      expect(ttl).toBeLessThanOrEqual(10_000);
    }
  });

  it('refuses an interval whose online window is not shorter than the retention', () => {
    expect(() => presence(testPrefix(), { retention: 1_000 }).join(describeWorker('w1@h'), { interval: 500 })).toThrow(/must be shorter than the retention/);
    expect(() => presence(testPrefix()).join(describeWorker('w1@h'), { interval: 0 })).toThrow(/interval: expected whole milliseconds >= 10/);
  });
});
