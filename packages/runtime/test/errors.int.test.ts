import { CanvasError, chain, chord, group, signature } from '@celeriac/canvas';
import { ChordError, NotRegisteredError, PayloadTooLargeError, TaskError, type TaskContext } from '@celeriac/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';

const T = { timeout: 15_000 };

class ExpectedError extends Error {
  override name = 'ExpectedError';
}

function setup() {
  const app = testApp();
  const add = app.task('add', (x: number, y: number) => x + y);
  const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
  const fail = app.task('fail', (..._args: unknown[]): number => {
    throw new ExpectedError('Task expected to fail');
  });
  const worker = app.worker({ concurrency: 4 });
  return { app, add, tsum, fail, worker };
}

describe('failures', () => {
  it('rejects get() with a TaskError carrying the task name, id, remote error name, message and stack', async () => {
    const { fail } = setup();
    const res = await fail.delay();
    const error = await res.get(T).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskError);
    expect(error).toMatchObject({ task: 'fail', taskId: res.id, remoteName: 'ExpectedError', code: 'TASK_FAILED' });
    expect((error as TaskError).message).toContain('Task expected to fail');
    expect((error as TaskError).remoteStack).toContain('ExpectedError');
    expect(await res.state()).toBe('FAILURE');
    expect(await res.failed()).toBe(true);
  });

  it('stops a chain at the failing step and marks every later step failed with the same error', async () => {
    const { app, add, fail } = setup();
    const res = await app.apply(chain(add.s(1, 2), fail.s(), add.s(3), add.s(4)));
    await expect(res.get(T)).rejects.toMatchObject({ remoteName: 'ExpectedError', task: 'fail' });
    await expect(res.parent!.get(T)).rejects.toMatchObject({ remoteName: 'ExpectedError' });
    await expect(res.parent!.parent!.get(T)).rejects.toMatchObject({ remoteName: 'ExpectedError' });
    expect(await res.parent!.parent!.parent!.get(T)).toBe(3);
    expect(await res.state()).toBe('FAILURE');
    expect(await res.get({ ...T, propagate: false })).toBeInstanceOf(TaskError);
  });

  it('fails a chord body with a ChordError naming the failed header member, never running it', async () => {
    const { app, add, fail, tsum } = setup();
    const ran = app.task('never', (_values: number[]) => 'ran');
    const res = await app.apply(chord([add.s(1, 1), fail.s(), add.s(2, 2)], ran.s()));
    // Following parents (Celery's default), the original header error is raised.
    await expect(res.get(T)).rejects.toMatchObject({ remoteName: 'ExpectedError' });
    const failedMember = (res.parent as { results: readonly { id: string }[] }).results[1]!.id;
    const error = await res.get({ ...T, followParents: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChordError);
    expect((error as ChordError).failedId).toBe(failedMember);
    expect((error as ChordError).message).toContain(failedMember);
    expect((error as ChordError).cause).toBeInstanceOf(TaskError);
    expect(await res.state()).toBe('FAILURE');
    void tsum;
  });

  it('lets the other group members finish when one fails, and raises the failure from the group', async () => {
    const { app, add, fail } = setup();
    const res = await app.apply(group(add.s(1, 1), fail.s(), add.s(2, 2)));
    await expect(res.get(T)).rejects.toMatchObject({ remoteName: 'ExpectedError' });
    const values = await res.get({ ...T, propagate: false });
    expect(values[0]).toBe(2);
    expect(values[1]).toBeInstanceOf(TaskError);
    expect(values[2]).toBe(4);
    expect(await res.completedCount()).toBe(2);
  });

  it('fails everything downstream of a failure inside a nested chain, so no waiter hangs', async () => {
    const { app, add, fail, tsum } = setup();
    const res = await app.apply(chain(add.s(1, 1), group(chain(add.s(1), fail.s()), add.s(2)), tsum.s(), add.s(1)));
    await expect(res.get(T)).rejects.toMatchObject({ remoteName: 'ExpectedError' });
    // Following parents, the original error wins; without, the join reports the chord failure.
    await expect(res.parent!.get(T)).rejects.toMatchObject({ remoteName: 'ExpectedError' });
    await expect(res.parent!.get({ ...T, followParents: false })).rejects.toBeInstanceOf(ChordError);
    expect(await res.parent!.parent!.get({ ...T, propagate: false })).toEqual([expect.any(TaskError), 4]);
  });

  it('fails an unregistered task with NotRegisteredError naming it and the registered tasks', async () => {
    const { app } = setup();
    const res = await app.apply(signature('no.such.task', [1]));
    const error = await res.get(T).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotRegisteredError);
    expect((error as Error).message).toContain('no.such.task');
    expect((error as Error).message).toContain('add');
    // Celery's and Celeriac's own built-ins are not the user's: they are not listed.
    expect((error as Error).message).not.toMatch(/celery\.|celeriac\./);
  });

  it('refuses args that are not JSON at apply time, naming the path', async () => {
    const { app, add } = setup();
    // Hand-built canvases (e.g. from JSON) are validated by apply…
    const raw = { kind: 'signature', task: 'add', args: [1, 2n], kwargs: {}, options: {}, immutable: false };
    await expect(app.apply(raw as never)).rejects.toThrow(/args\[1\]: expected JSON/);
    // …and sending a task directly rejects the same way.
    await expect(add.delay(1, (() => 2) as never)).rejects.toThrow(CanvasError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await expect(add.applyAsync({ args: [cyclic as never, 1] })).rejects.toThrow(CanvasError);
    // Builders refuse them as early as possible.
    expect(() => signature('add', [1, Symbol('x') as never])).toThrow(CanvasError);
    // Nothing else was lost: the app still works.
    expect(await (await add.delay(1, 2)).get(T)).toBe(3);
  });

  it('fails a task whose return value JSON cannot carry faithfully with an EncodeError naming the path', async () => {
    const app = testApp();
    const returns = (name: string, value: unknown) => app.task(name, () => value as number);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    const cases: [string, unknown, RegExp][] = [
      ['bigint', 10n, /result: expected JSON, got a bigint/],
      ['nan', { a: [1, 2, NaN] }, /result\.a\[2\]: expected JSON, got NaN/],
      ['infinity', [Infinity], /result\[0\]/],
      ['map', new Map([[1, 2]]), /result: expected JSON, got a Map/],
      ['set', { s: new Set() }, /result\.s: expected JSON, got a Set/],
      ['fn', { f: () => 1 }, /result\.f: expected JSON, got a function/],
      ['cycle', cycle, /result\.self: circular reference/],
      ['nested undefined', { u: undefined }, /result\.u/],
    ];
    for (const [name, value] of cases) returns(name, value);
    const nothing = app.task('nothing', () => undefined);
    app.worker({ concurrency: 4 });
    for (const [name, , message] of cases) {
      const error = await (await app.apply(signature(name))).get(T).catch((e: unknown) => e);
      expect(error, name).toMatchObject({ remoteName: 'EncodeError' });
      expect((error as Error).message, name).toMatch(message);
    }
    // A top-level undefined is Celery's None.
    expect(await (await nothing.delay()).get(T)).toBeNull();
  });

  it('refuses arguments and results larger than maxPayloadSize with PayloadTooLargeError, and takes 10 MB by default', async () => {
    const small = testApp({ maxPayloadSize: 1_000_000 });
    const echo = small.task('echo', (text: string) => text);
    const grow = small.task('grow', (n: number) => 'x'.repeat(n));
    small.worker();
    const big = 'y'.repeat(1_000_001);
    const refused = await echo.delay(big).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PayloadTooLargeError);
    expect((refused as Error).message).toMatch(/the arguments of task echo\[.*\] takes 1000\d{3} bytes of JSON, more than maxPayloadSize \(1000000\)/);
    await expect((await grow.delay(2_000_000)).get(T)).rejects.toMatchObject({ remoteName: 'PayloadTooLargeError' });
    expect(await (await grow.delay(10)).get(T)).toBe('xxxxxxxxxx');

    const roomy = testApp();
    const length = roomy.task('length', (text: string) => text.length);
    roomy.worker();
    const tenMegabytes = 'z'.repeat(10 * 1024 * 1024);
    expect(await (await length.delay(tenMegabytes)).get(T)).toBe(tenMegabytes.length);
  });

  it('runs error callbacks once, with the failed task id prepended', async () => {
    const app = testApp();
    const seen: string[] = [];
    const onError = app.task('on_error', (failedId: string, tag: string) => {
      seen.push(`${tag}:${failedId}`);
      return failedId;
    });
    const fail = app.task('fail', (..._args: unknown[]): number => {
      throw new ExpectedError('boom');
    });
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker({ concurrency: 2 });
    const res = await app.apply(chain(add.s(1, 1), fail.s(), add.s(1)), { linkError: [onError.s('chain')] });
    await expect(res.get(T)).rejects.toThrow(TaskError);
    const failedId = res.parent!.id;
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual([`chain:${failedId}`]);
  });

  it('runs a chord body\'s error callback once when its header fails', async () => {
    const app = testApp();
    let calls = 0;
    const onError = app.task('on_error', (_id: string) => ++calls);
    const fail = app.task('fail', (): number => {
      throw new ExpectedError('boom');
    });
    const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
    app.worker({ concurrency: 2 });
    const res = await app.apply(chord([fail.s(), fail.s()], tsum.s()), { linkError: [onError.s()] });
    await expect(res.get(T)).rejects.toThrow();
    await expect.poll(() => calls, { timeout: 10_000 }).toBe(1);
  });

  it('skips a job whose stored data is garbage and keeps working', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const worker = app.worker();
    await worker.waitUntilReady();
    const queue = new Queue('default', { connection: new Redis(redisUrl(), { maxRetriesPerRequest: null }), prefix: `${app.prefix}:q` });
    const garbage = await queue.add('add', { nonsense: true });
    await expect.poll(async () => (await queue.getJob(garbage.id!))?.failedReason ?? '', { timeout: 10_000 }).toMatch(/not written by Celeriac/);
    expect(await (await add.delay(2, 2)).get(T)).toBe(4);
    await queue.close();
    await (queue.opts.connection as Redis).quit();
  });

  it('keeps a bound handler\'s failure from affecting another workflow', async () => {
    const app = testApp();
    const flaky = app.task('flaky', (ctx: TaskContext, x: number) => {
      if (x < 0) throw new ExpectedError(`negative in ${ctx.id}`);
      return x;
    }, { bind: true });
    app.worker({ concurrency: 2 });
    const [bad, good] = await Promise.all([flaky.delay(-1), flaky.delay(1)]);
    await expect(bad.get(T)).rejects.toThrow(TaskError);
    expect(await good.get(T)).toBe(1);
  });
});
