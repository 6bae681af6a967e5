/**
 * Everything else the runtime does, on a Redis Cluster of three masters: results rebuilt by id in
 * another app, waits on their own channels, revoke with terminate, retries, countdown and eta, rate limits, replace, the control
 * plane, task events, listing workflows and queues (which SCAN every master), and workflow state
 * spread over every master.
 */
import { chain, group, withOptions } from '@celeriac/canvas';
import { RevokedError, type TaskContext } from '@celeriac/runtime';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { clusterApp, clusterClient, useCluster } from './helpers.js';

const T = { timeout: 30_000 };
const run = promisify(execFile);
const reader = fileURLToPath(new URL('../fixtures/read-result.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const cluster = useCluster();

describe('the runtime on a Redis Cluster', () => {
  it('rebuilds a result and its .parent by id in another app', async () => {
    const app = clusterApp(cluster());
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker();
    const res = await app.apply(chain(add.si(1, 1), add.s(2)), { taskId: 'user-chosen-id' });
    expect(await res.get(T)).toBe(4);
    const other = clusterApp(cluster(), { prefix: app.prefix });
    const again = await other.result('user-chosen-id');
    expect(await again.get(T)).toBe(4);
    expect(await again.parent!.get(T)).toBe(2);
    expect((await other.result(res.parent.id)).id).toBe(res.parent.id);
    // Ids chosen for inner steps are pointers in their own slots, written apart from the workflow's.
    for (let k = 0; k < 20; k++) {
      const inner = await app.apply(chain(withOptions(add.si(k, 1), { taskId: `first-${k}` }), add.s(1)));
      expect(await inner.get(T)).toBe(k + 2);
      expect(await (await other.result(`first-${k}`)).get(T)).toBe(k + 1);
    }
  });

  it("waits on each result's own channel with resultSubscription: 'result'", async () => {
    const app = clusterApp(cluster(), { resultSubscription: 'result' });
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker();
    for (let i = 0; i < 10; i++) expect(await (await add.delay(i, i)).get(T)).toBe(2 * i);
    const res = await app.apply(chain(add.si(2, 2), group(add.s(1), add.s(2))));
    expect(await res.get(T)).toEqual([5, 6]);
  });

  it('lets another process rebuild a result and walk its .parent chain from the cluster alone', async () => {
    const running = cluster();
    const app = clusterApp(running);
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker();
    const res = await app.apply(chain(add.si(2, 2), add.s(4), add.s(8)));
    expect(await res.get(T)).toBe(16);
    const url = `redis+cluster://${running.seeds.map(({ host, port }) => `${host}:${port}`).join(',')}`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', reader, url, app.prefix, res.id], { cwd: root });
    expect(JSON.parse(stdout)).toEqual([16, 8, 4]);
  });

  it('revokes a running task with terminate', async () => {
    const app = clusterApp(cluster());
    const long = app.task('long', (ctx: TaskContext) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('stopped'))), { bind: true });
    const worker = app.worker({ trackStarted: true });
    await worker.waitUntilReady();
    const res = await long.delay();
    await expect.poll(() => res.state(), T).toBe('STARTED');
    await res.revoke({ terminate: true });
    await expect(res.get(T)).rejects.toBeInstanceOf(RevokedError);
  });

  it('retries, counts down, waits for an eta, and limits the rate', async () => {
    const app = clusterApp(cluster());
    let attempts = 0;
    const flaky = app.task('flaky', (ctx: TaskContext) => {
      attempts++;
      if (ctx.retries < 2) ctx.retry({ countdown: 0.1 });
      return ctx.retries;
    }, { bind: true, maxRetries: 3 });
    const stamp = app.task('stamp', () => Date.now());
    const limited = app.task('limited', () => Date.now(), { rateLimit: '10/s' });
    app.worker({ concurrency: 10 });
    expect(await (await flaky.delay()).get(T)).toBe(2);
    expect(attempts).toBe(3);
    const sent = Date.now();
    const counted = await stamp.applyAsync({ countdown: 0.5 });
    const timed = await stamp.applyAsync({ eta: new Date(sent + 700) });
    expect((await counted.get(T)) - sent).toBeGreaterThanOrEqual(450);
    expect((await timed.get(T)) - sent).toBeGreaterThanOrEqual(650);
    const starts = await (await app.apply(group(Array.from({ length: 6 }, () => limited.si())))).get(T);
    const sorted = [...starts].sort((a, b) => a - b);
    // Six starts at most ten a second, across workers: the last starts at least ~0.5 s after the first.
    expect(sorted[5]! - sorted[0]!).toBeGreaterThanOrEqual(400);
  });

  it('replaces a task with a canvas', async () => {
    const app = clusterApp(cluster());
    const add = app.task('add', (x: number, y: number) => x + y);
    const replacer = app.task('replacer', (ctx: TaskContext, x: number) => ctx.replace(chain(add.s(x, 1), add.s(2))), { bind: true });
    app.worker();
    const res = await app.apply(chain(replacer.s(1), add.s(10)));
    expect(await res.get(T)).toBe(14);
  });

  it('answers remote control and writes task events', async () => {
    const app = clusterApp(cluster());
    const add = app.task('add', (x: number, y: number) => x + y);
    const worker = app.worker({ name: 'w1@cluster', taskEvents: true });
    await worker.waitUntilReady();
    await expect.poll(async () => Object.keys(await app.control.inspect({ timeout: 2_000 }).ping()), T).toEqual(['w1@cluster']);
    expect(await app.control.inspect({ timeout: 5_000 }).registered()).toEqual({ 'w1@cluster': ['add'] });
    const res = await add.delay(1, 2);
    expect(await res.get(T)).toBe(3);
    await expect.poll(async () => (await app.events.history({ taskId: res.id })).events.map((event) => event.type), T).toEqual([
      'task-succeeded',
      'task-started',
      'task-received',
    ]);
    expect((await app.control.workers()).map((w) => w.name)).toEqual(['w1@cluster']);
  });

  it('spreads 1 000 workflows over every master, and lists them from all of them', async () => {
    const running = cluster();
    const app = clusterApp(running);
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker({ concurrency: 50 });
    const results = await Promise.all(Array.from({ length: 1_000 }, (_, k) => app.apply(chain(add.si(k, 1), add.s(1)))));
    const values = await Promise.all(results.map((res) => res.get({ timeout: 120_000 })));
    expect(values).toEqual(Array.from({ length: 1_000 }, (_, k) => k + 2));
    const counts = await running.countKeys(`${app.prefix}:wf:*`);
    const masters = await running.masters();
    expect(masters).toHaveLength(3);
    for (const master of masters) expect(counts.get(master.port) ?? 0).toBeGreaterThan(500);
    const page = await app.workflows({ limit: 10 });
    expect(page.scanned).toBe(1_000);
    expect(page.workflows).toHaveLength(10);
  }, 180_000);

  it('lists queues on every master and purges them', async () => {
    const app = clusterApp(cluster());
    const add = app.task('add', (x: number, y: number) => x + y);
    const queues = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    const waiting = await Promise.all(queues.map((queue) => add.applyAsync({ args: [1, 1], queue })));
    expect((await app.queues()).map(({ name, waiting: count }) => [name, count])).toEqual(
      [...queues].sort().map((name) => [name, 1]),
    );
    expect(await app.purge()).toBe(5);
    for (const res of waiting) await expect(res.get(T)).rejects.toBeInstanceOf(RevokedError);
  });

  it('runs everything as the least-privilege ACL user of the README, on every node', async () => {
    const running = cluster();
    for (const { port } of running.servers) {
      const admin = new Redis(port, '127.0.0.1');
      await admin.call('ACL', 'SETUSER', 'celeriac', 'on', '>s3cret', '~celeriac:*', '&celeriac:*', '+@all', '-@dangerous', '+info');
      admin.disconnect();
    }
    const seeds = running.seeds.map(({ host, port }) => `${host}:${port}`).join(',');
    const app = clusterApp(running, { redis: `redis+cluster://celeriac:s3cret@${seeds}`, prefix: 'celeriac' });
    const add = app.task('add', (x: number, y: number) => x + y);
    const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
    const worker = app.worker({ name: 'acl@cluster', taskEvents: true, queues: ['default', 'math'], outboxSweepInterval: 300 });
    await worker.waitUntilReady();
    const res = await app.apply(chain(group(add.si(1, 1), withOptions(add.si(2, 2), { queue: 'math' })), tsum.s(), add.s(1)));
    expect(await res.get(T)).toBe(7);
    expect(await app.control.inspect({ timeout: 5_000 }).registered()).toEqual({ 'acl@cluster': ['add', 'tsum'] });
    expect((await app.queues()).map(({ name }) => name)).toEqual(['default', 'math']);
    expect((await app.workflows()).workflows.length).toBe(1);
    await expect.poll(async () => (await app.events.history({ limit: 5 })).events.length, T).toBeGreaterThan(0);
    // Tasks whose jobs were lost (removed here by an admin), spread over the masters by their
    // workflows: the outbox sweep SCANs every master, as this user, and enqueues them.
    const lost = await Promise.all(Array.from({ length: 6 }, (_, k) => app.apply(withOptions(add.si(k, 1), { queue: 'elsewhere' }))));
    const queue = new Queue('elsewhere', { connection: clusterClient(running), prefix: 'celeriac:q:{elsewhere}' });
    for (const res of lost) expect(await queue.remove(res.id)).toBe(1);
    await queue.close();
    await worker.addConsumer('elsewhere');
    expect(await Promise.all(lost.map((res) => res.get(T)))).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
