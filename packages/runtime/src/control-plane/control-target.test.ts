import { describe, expect, it } from 'vitest';
import { WorkerDouble } from '../../test/control-plane/worker-double.js';
import { ControlArgumentError } from '../errors.js';
import { checkArgs, controlHandlers } from './control-target.js';
import type { CommandRequest } from './mailbox.js';

/** Runs one handler of the table as the mailbox would; returns its reply and the follow-ups it queued. */
async function call(worker: WorkerDouble, command: string, args: unknown): Promise<{ reply: unknown; after: (() => void)[] }> {
  const after: (() => void)[] = [];
  const request: CommandRequest = { id: 'r1', command, sentAt: Date.now(), afterReply: (action) => after.push(action) };
  const handler = controlHandlers(worker)[command];
  if (handler === undefined) throw new Error(`no handler for ${command}`);
  return { reply: await handler(args, request), after };
}

describe('controlHandlers', () => {
  it('serves every inspect and control command', () => {
    expect(Object.keys(controlHandlers(new WorkerDouble('w1@h'))).sort()).toStrictEqual(
      [
        'active', 'active_queues', 'add_consumer', 'cancel_consumer', 'ping', 'pool_grow', 'pool_shrink', 'query_task',
        'rate_limit', 'registered', 'reserved', 'revoke', 'revoked', 'scheduled', 'shutdown', 'stats', 'time_limit',
      ].sort(),
    );
  });

  it("answers stats with the process's pid, uptime and rusage around the worker's counts", async () => {
    const worker = new WorkerDouble('w1@h');
    const { reply } = await call(worker, 'stats', {});
    expect(reply).toMatchObject({
      pid: process.pid,
      total: { add: 3 },
      failed: { add: 1 },
      pool: { kind: 'async', maxConcurrency: 2, processes: [] },
    });
    const stats = reply as { uptime: number; rusage: Record<string, number> };
    expect(stats.uptime).toBeGreaterThanOrEqual(5);
    expect(stats.rusage['utime']).toBeGreaterThan(0);
    expect(stats.rusage['maxrss']).toBeGreaterThan(1_000);
  });

  it('finds queried tasks where the worker holds them', async () => {
    const worker = new WorkerDouble('w1@h');
    worker.run('t-active');
    worker.waiting.push({ ...worker.run('t-reserved'), started: null, workerPid: null });
    worker.running.delete('t-reserved');
    const { reply } = await call(worker, 'query_task', { ids: ['t-active', 't-reserved', 'unknown'] });
    expect(Object.keys(reply as object)).toStrictEqual(['t-active', 't-reserved']);
    expect((reply as Record<string, [string, unknown]>)['t-active']![0]).toBe('active');
    expect((reply as Record<string, [string, unknown]>)['t-reserved']![0]).toBe('reserved');
  });

  it('replies to shutdown first and shuts down after the reply', async () => {
    const worker = new WorkerDouble('w1@h');
    const { reply, after } = await call(worker, 'shutdown', {});
    expect(reply).toStrictEqual({ ok: 'warm shutdown started' });
    expect(worker.shutdownCalls).toBe(0);
    after.forEach((action) => action());
    expect(worker.shutdownCalls).toBe(1);
  });

  it('sets, and with 0 or null removes, a known task\'s rate limit', async () => {
    const worker = new WorkerDouble('w1@h');
    expect((await call(worker, 'rate_limit', { task: 'add', rate: ' 10 / m ' })).reply).toStrictEqual({ ok: 'new rate limit set successfully' });
    expect(worker.rateLimits.get('add')).toBe('10/m');
    expect((await call(worker, 'rate_limit', { task: 'add', rate: 0 })).reply).toStrictEqual({ ok: 'rate limit disabled successfully' });
    expect(worker.rateLimits.get('add')).toBeNull();
  });

  it('refuses an unknown task, naming the registered ones', async () => {
    const worker = new WorkerDouble('w1@h');
    await expect(call(worker, 'time_limit', { task: 'nope', soft: 1, hard: 2 })).rejects.toThrow(
      'task: unknown task "nope" on worker w1@h (registered: add, mul)',
    );
    expect(worker.timeLimits.size).toBe(0);
  });

  it.each([
    ['rate_limit', { task: 'add', rate: 'fast' }, 'rate'],
    ['rate_limit', { task: 'add' }, 'rate'],
    ['time_limit', { task: 'add', soft: 5, hard: 1 }, 'arguments of time_limit'],
    ['time_limit', { task: 'add', soft: -1, hard: null }, 'soft'],
    ['revoke', { ids: 5, terminate: true }, 'ids'],
    ['revoke', { ids: [], terminate: false }, 'ids'],
    ['revoke', { ids: ['a'] }, 'terminate'],
    ['pool_grow', { n: 1.5 }, 'n'],
    ['add_consumer', { queue: '' }, 'queue'],
    ['query_task', { ids: ['x'], extra: 1 }, 'extra'],
    ['ping', null, 'arguments of ping'],
    ['ping', { surprise: true }, 'surprise'],
  ])('refuses bad arguments of %s with ControlArgumentError naming %j', async (command, args, argument) => {
    const worker = new WorkerDouble('w1@h');
    const failure = call(worker, command, args);
    await expect(failure).rejects.toBeInstanceOf(ControlArgumentError);
    await expect(failure).rejects.toMatchObject({ argument });
  });

  it('lets a worker refuse a command with its own error', async () => {
    const worker = new WorkerDouble('w1@h', { concurrency: 1 });
    await expect(call(worker, 'pool_shrink', { n: 1 })).rejects.toThrow('cannot shrink the pool of w1@h below 1');
  });

  it('returns only the fields of a task request', async () => {
    const worker = new WorkerDouble('w1@h');
    worker.running.set('t', { ...worker.run('t'), secret: 'internal' } as never);
    const { reply } = await call(worker, 'active', {});
    expect(Object.keys((reply as object[])[0]!).sort()).toStrictEqual(['args', 'id', 'kwargs', 'name', 'queue', 'retries', 'started', 'workerPid']);
  });
});

describe('checkArgs', () => {
  it('returns the checked arguments', () => {
    expect(checkArgs('revoke', { ids: ['a'], terminate: true })).toStrictEqual({ ids: ['a'], terminate: true });
  });
});
