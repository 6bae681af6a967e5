import { describe, expect, it } from 'vitest';
import { ControlArgumentError, isCommandFailure, Mailbox, type ControlPlane, type WorkerControl } from '../../src/control-plane/index.js';
import { taskEventsKey } from '../../src/keys.js';
import { connect, onCleanup, recordingLogger, testPlane, testPrefix, testSubscriber } from './helpers.js';
import { WorkerDouble } from './worker-double.js';

/** A worker process: its own control plane, attached with a test double of the worker. */
async function startWorker(prefix: string, worker: WorkerDouble, taskEvents = false): Promise<WorkerControl> {
  const plane = testPlane({ prefix });
  const attached = plane.attachWorker(worker, {
    description: { app: 'proj', queues: worker.queues(), concurrency: worker.concurrency, pool: 'async', tasks: worker.registered() },
    live: () => ({ active: worker.running.size, processed: 3, failed: 1 }),
    heartbeatInterval: 200,
    taskEvents,
  });
  onCleanup(() => attached.close());
  await attached.ready;
  return attached;
}

/** Two workers and a caller (the CLI or the monitor) under one prefix. */
async function cluster(): Promise<{ prefix: string; w1: WorkerDouble; w2: WorkerDouble; caller: ControlPlane }> {
  const prefix = testPrefix();
  const w1 = new WorkerDouble('w1@h');
  const w2 = new WorkerDouble('w2@h', { tasks: ['add', 'mul', 'sub'], queues: ['default', 'math'] });
  await Promise.all([startWorker(prefix, w1), startWorker(prefix, w2)]);
  return { prefix, w1, w2, caller: testPlane({ prefix }) };
}

describe('remote control and inspect', () => {
  it("answers inspect registered in Celery's --json shape, as soon as every online worker replied", async () => {
    const { caller } = await cluster();
    const started = Date.now();
    const registered = await caller.control.inspect({ timeout: 5_000 }).registered();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(JSON.parse(JSON.stringify(registered))).toStrictEqual({ 'w1@h': ['add', 'mul'], 'w2@h': ['add', 'mul', 'sub'] });
  });

  it('lists workers from presence', async () => {
    const { caller } = await cluster();
    const workers = await caller.control.workers();
    expect(workers.map(({ name, online, queues, active, processed }) => ({ name, online, queues, active, processed }))).toStrictEqual([
      { name: 'w1@h', online: true, queues: ['default'], active: 0, processed: 3 },
      { name: 'w2@h', online: true, queues: ['default', 'math'], active: 0, processed: 3 },
    ]);
  });

  it('answers every inspect question with its typed reply', async () => {
    const { w1, caller } = await cluster();
    const running = w1.run('t-run', 'add', [2, 2]);
    const waiting = { ...running, id: 't-wait', started: null, workerPid: null };
    w1.waiting.push(waiting);
    w1.delayed.push({ eta: 1_700_000_000_000, priority: 3, request: { ...waiting, id: 't-later' } });
    w1.revokedIds.add('t-gone');
    const inspect = caller.control.inspect({ destination: 'w1@h', timeout: 5_000 });
    expect(await inspect.ping()).toStrictEqual({ 'w1@h': { ok: 'pong' } });
    expect(await inspect.active()).toStrictEqual({ 'w1@h': [running] });
    expect(await inspect.reserved()).toStrictEqual({ 'w1@h': [waiting] });
    expect(await inspect.scheduled()).toStrictEqual({ 'w1@h': [{ eta: 1_700_000_000_000, priority: 3, request: { ...waiting, id: 't-later' } }] });
    expect(await inspect.revoked()).toStrictEqual({ 'w1@h': ['t-gone'] });
    expect(await inspect.activeQueues()).toStrictEqual({ 'w1@h': [{ name: 'default' }] });
    expect(await inspect.queryTask(['t-run', 't-later', 'unknown'])).toStrictEqual({
      'w1@h': { 't-run': ['active', running], 't-later': ['scheduled', { ...waiting, id: 't-later' }] },
    });
    const stats = (await inspect.stats())['w1@h'];
    if (stats === undefined || isCommandFailure(stats)) throw new Error(`no stats: ${JSON.stringify(stats)}`);
    expect(stats).toMatchObject({ pid: process.pid, total: { add: 3 }, failed: { add: 1 }, pool: { kind: 'async', maxConcurrency: 2, processes: [] } });
    expect(stats.uptime).toBeGreaterThanOrEqual(5);
    expect(stats.rusage.maxrss).toBeGreaterThan(0);
  });

  it('runs each control command on the workers it addresses', async () => {
    const { w1, w2, caller } = await cluster();
    const { control } = caller;
    const to1 = { destination: 'w1@h', timeout: 5_000 };
    expect(await control.rateLimit('add', '10/m', to1)).toStrictEqual({ 'w1@h': { ok: 'new rate limit set successfully' } });
    expect(w1.rateLimits.get('add')).toBe('10/m');
    expect(w2.rateLimits.size).toBe(0);
    expect(await control.timeLimit('add', { soft: 1, hard: 2 }, to1)).toStrictEqual({ 'w1@h': { ok: 'time limits set successfully' } });
    expect(w1.timeLimits.get('add')).toStrictEqual({ soft: 1, hard: 2 });
    expect(await control.addConsumer('math', to1)).toStrictEqual({ 'w1@h': { ok: 'add consumer math' } });
    expect(await control.addConsumer('math', to1)).toStrictEqual({ 'w1@h': { ok: 'already consuming from math' } });
    expect(await control.cancelConsumer('math', to1)).toStrictEqual({ 'w1@h': { ok: 'no longer consuming from math' } });
    expect(await control.poolGrow(3, to1)).toStrictEqual({ 'w1@h': { ok: 'pool will grow' } });
    expect(w1.concurrency).toBe(5);
    expect(await control.poolShrink(2, to1)).toStrictEqual({ 'w1@h': { ok: 'pool will shrink' } });
    expect(w1.concurrency).toBe(3);

    w1.run('t-a');
    w2.run('t-a');
    const revoked = await control.revoke(['t-a', 't-b'], { terminate: true, timeout: 5_000 });
    expect(revoked).toStrictEqual({
      'w1@h': { ok: 'tasks t-a, t-b flagged as revoked (and terminated if running)' },
      'w2@h': { ok: 'tasks t-a, t-b flagged as revoked (and terminated if running)' },
    });
    expect([w1.terminated, w2.terminated]).toStrictEqual([['t-a'], ['t-a']]);

    expect(await control.shutdown({ destination: 'w2@h', timeout: 5_000 })).toStrictEqual({ 'w2@h': { ok: 'warm shutdown started' } });
    await expect.poll(() => w2.shutdownCalls, { timeout: 5_000 }).toBe(1);
    expect(w1.shutdownCalls).toBe(0);
  });

  it("puts a worker's error in place of its value, Celery's {error}", async () => {
    const { caller } = await cluster();
    const replies = await caller.control.rateLimit('sub', '1/s', { timeout: 5_000 });
    expect(replies['w2@h']).toStrictEqual({ ok: 'new rate limit set successfully' });
    expect(replies['w1@h']).toStrictEqual({ name: 'ControlArgumentError', error: 'task: unknown task "sub" on worker w1@h (registered: add, mul)' });
    expect(isCommandFailure(replies['w1@h'])).toBe(true);
    expect(isCommandFailure(replies['w2@h'])).toBe(false);
    const shrunk = await caller.control.poolShrink(5, { destination: 'w1@h', timeout: 5_000 });
    expect(shrunk['w1@h']).toStrictEqual({ name: 'RangeError', error: 'cannot shrink the pool of w1@h below 1 (it runs 2)' });
  });

  it('refuses bad arguments before sending, and workers refuse them too', async () => {
    const { w1, prefix, caller } = await cluster();
    await expect(caller.control.rateLimit('add', 'fast')).rejects.toBeInstanceOf(ControlArgumentError);
    await expect(caller.control.poolGrow(0)).rejects.toMatchObject({ argument: 'n' });
    await expect(caller.control.revoke([])).rejects.toMatchObject({ argument: 'ids' });
    await expect(caller.control.inspect().queryTask([''])).rejects.toMatchObject({ argument: 'ids.0' });
    // Past the client's checks, straight onto the channel: each worker answers with the problem.
    const redis = connect();
    const raw = new Mailbox({ redis, subscriber: testSubscriber(redis), prefix, logger: recordingLogger() });
    const bad = await raw.broadcast('revoke', { ids: 5, terminate: true }, { destination: 'w1@h', timeout: 5_000 });
    expect(bad.get('w1@h')).toMatchObject({ ok: false, error: { name: 'ControlArgumentError' } });
    const huge = await raw.broadcast('rate_limit', { task: 'add', rate: '1'.repeat(500_000) + 'x' }, { destination: 'w1@h', timeout: 5_000 });
    expect(huge.get('w1@h')).toMatchObject({ ok: false, error: { name: 'ControlArgumentError' } });
    expect(w1.revokedIds.size).toBe(0);
    expect(w1.rateLimits.size).toBe(0);
    expect(await caller.control.ping({ destination: 'w1@h', timeout: 5_000 })).toStrictEqual({ 'w1@h': { ok: 'pong' } });
  });

  it('reports a reply that fails its schema as MalformedReplyError, keeping the others', async () => {
    const { prefix, caller } = await cluster();
    const redis = connect();
    const rogue = new Mailbox({ redis, subscriber: testSubscriber(redis), prefix, logger: recordingLogger() });
    await rogue.serve('rogue@h', { registered: () => 'not a list', stats: () => ({ pid: 'one' }) }).ready;
    const registered = await caller.control.inspect({ timeout: 1_000 }).registered();
    expect(registered['w1@h']).toStrictEqual(['add', 'mul']);
    expect(registered['rogue@h']).toMatchObject({ name: 'MalformedReplyError' });
    expect((registered['rogue@h'] as { error: string }).error).toMatch(/^the worker's reply to "registered" is malformed: /);
  });

  it('sends a command without waiting when reply is false', async () => {
    const { w1, caller } = await cluster();
    expect(await caller.control.addConsumer('io', { reply: false })).toStrictEqual({});
    await expect.poll(() => w1.queues(), { timeout: 5_000 }).toContain('io');
  });

  it('writes no task-event key for a worker attached without events, and stops answering once closed', async () => {
    const prefix = testPrefix();
    const quiet = await startWorker(prefix, new WorkerDouble('quiet@h'));
    expect(quiet.events).toBeUndefined();
    const caller = testPlane({ prefix });
    expect(await caller.control.ping({ timeout: 5_000 })).toStrictEqual({ 'quiet@h': { ok: 'pong' } });
    expect(await connect().exists(taskEventsKey(prefix))).toBe(0);
    await quiet.close();
    expect(await caller.control.workers()).toStrictEqual([]);
    expect(await caller.control.ping({ timeout: 300 })).toStrictEqual({});
  });

  it('gives a worker attached with task events a writer, and records its lifecycle', async () => {
    const prefix = testPrefix();
    const loud = await startWorker(prefix, new WorkerDouble('loud@h'), true);
    loud.events?.emit({ type: 'task-started', taskId: 't1', name: 'add' });
    await loud.close();
    const { events } = await testPlane({ prefix }).events.history({ types: ['worker-online', 'task-started', 'worker-offline'] });
    expect(events.map((event) => `${event.type} ${event.worker}`)).toStrictEqual(['worker-offline loud@h', 'task-started loud@h', 'worker-online loud@h']);
  });
});
