/**
 * Invariant 4 as an abuser would test it: bad handlers, garbage in Redis and hostile payloads,
 * mixed into a stream of good workflows. Each bad job fails alone with a readable error; the
 * worker keeps running; every good workflow ends right with each successor released once; no
 * payload reaches a prototype.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fromCelery, signature } from '@celeriac/canvas';
import { CanvasError, consoleLogger, createApp, PayloadTooLargeError, TaskError, type AnyResult, type App } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../../../scripts/private-redis.js';
import { SIZE, seededForTest, sleep, type Rng } from './lib/seed.js';
import { registerTasks } from './lib/tasks.js';
import { verify, waitAll } from './lib/verify.js';
import { mixedWorkflows } from './lib/workflows.js';

const FILE = 'packages/runtime/test/faults/abuse.faults.test.ts';
const T = { timeout: 30_000 };
const HANG_AND_CLOSE = fileURLToPath(new URL('./lib/hang-and-close.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
let redis: PrivateRedis;
let ledger: Redis;
const apps: App[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  ledger = new Redis(redis.url, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});
afterAll(async () => {
  ledger?.disconnect();
  await redis?.stop();
});

let prefixes = 0;
function newApp(options: { maxPayloadSize?: number } = {}): App {
  const app = createApp({ redis: redis.url, prefix: `faults-abuse-${++prefixes}`, logger: consoleLogger('silent'), ...options });
  apps.push(app);
  registerTasks(app, ledger);
  return app;
}

const circular = (): Record<string, unknown> => {
  const value: Record<string, unknown> = { name: 'loop' };
  value['self'] = value;
  return value;
};

/** Handlers that throw what is not an Error: the stored failure must show it readably. */
const THROWS: readonly [string, () => unknown, RegExp][] = [
  ['a string', () => 'disk on fire', /a non-Error value was thrown: 'disk on fire'/],
  ['null', () => null, /a non-Error value was thrown: null/],
  ['undefined', () => undefined, /a non-Error value was thrown: undefined/],
  ['an object', () => ({ code: 42, reason: 'quota' }), /a non-Error value was thrown: \{ code: 42, reason: 'quota' \}/],
  ['a circular object', circular, /a non-Error value was thrown: <ref \*1> \{ name: 'loop', self: \[Circular \*1\] \}/],
  ['a number', () => 7, /a non-Error value was thrown: 7/],
];

/** Handlers that return what JSON cannot carry faithfully: EncodeError naming the path. */
const RETURNS: readonly [string, () => unknown, RegExp][] = [
  ['a Map', () => new Map([['a', 1]]), /raised EncodeError: result: expected JSON, got a Map/],
  ['a Set', () => ({ tags: new Set(['x']) }), /raised EncodeError: result\.tags: expected JSON, got a Set/],
  ['NaN', () => ({ a: [1, 2, NaN] }), /raised EncodeError: result\.a\[2\]: expected JSON, got NaN/],
  ['Infinity', () => [0, Infinity], /raised EncodeError: result\[1\]: expected JSON, got Infinity/],
  ['-Infinity', () => ({ low: -Infinity }), /raised EncodeError: result\.low: expected JSON, got -Infinity/],
  ['a BigInt', () => ({ n: 10n }), /raised EncodeError: result\.n: expected JSON, got a bigint/],
  ['a function', () => () => 1, /raised EncodeError: result: expected JSON, got a function/],
  ['a function inside an object', () => ({ ok: true, then: { run: () => 1 } }), /raised EncodeError: result\.then\.run: expected JSON, got a function/],
  ['a cycle', circular, /raised EncodeError: result\.self: circular reference/],
  ['undefined inside an array', () => [1, undefined], /raised EncodeError: result\[1\]/],
  ['a Date', () => ({ at: new Date(0) }), /raised EncodeError: result\.at: expected JSON, got a Date/],
  ['a class instance', () => new (class Point { x = 1 })(), /raised EncodeError: result: expected JSON/],
];

describe('bad handlers beside good workflows', () => {
  it('fail alone with readable errors; every good workflow ends right, each successor released once', async () => {
    const rng = seededForTest(FILE);
    const app = newApp();
    const bad: [string, RegExp, string][] = [];
    for (const [what, value, shown] of THROWS) {
      const name = `throws ${what}`;
      app.task(name, () => {
        throw value();
      });
      bad.push([name, shown, 'NonErrorThrown']);
    }
    for (const [what, value, shown] of RETURNS) {
      const name = `returns ${what}`;
      app.task(name, () => value() as never);
      bad.push([name, shown, 'EncodeError']);
    }
    app.task('returns undefined', () => undefined);
    app.worker({ concurrency: 4 });

    // Good and bad interleaved, in a seeded order.
    const cases = mixedWorkflows(rng, SIZE);
    const order = [...cases.map((_, i) => ({ good: i })), ...bad.map((_, i) => ({ bad: i }))].sort(() => rng.next() - 0.5);
    const good: AnyResult[] = new Array<AnyResult>(cases.length);
    const failed: Promise<unknown>[] = new Array<Promise<unknown>>(bad.length);
    for (const item of order) {
      if ('good' in item) good[item.good] = await app.apply(cases[item.good]!.canvas);
      else failed[item.bad] = (await app.apply(signature(bad[item.bad]![0]))).get(T).catch((e: unknown) => e);
    }
    const nothing = await app.apply(signature('returns undefined'));

    for (const [i, [name, shown, remoteName]] of bad.entries()) {
      const error = await failed[i];
      expect(error, name).toBeInstanceOf(TaskError);
      expect((error as TaskError).remoteName, name).toBe(remoteName);
      expect((error as TaskError).message, name).toMatch(shown);
    }
    expect(await nothing.get(T)).toBeNull(); // a top-level undefined is Celery's None
    const verdict = await verify(app, ledger, cases, good, await waitAll(good, 60_000));
    expect(verdict.problems).toEqual([]);
    expect(verdict.reruns).toBe(0);
  });

  it('fails a handler that blocks the event loop past its hard timeLimit with TimeLimitExceeded, though it could not be stopped', async () => {
    const app = newApp();
    const spin = app.task('spin', (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until); // synchronous: no timer can interrupt it in this process
      return 'finished';
    }, { timeLimit: 0.3 });
    app.worker();
    await expect((await spin.delay(1_000)).get(T)).rejects.toMatchObject({ remoteName: 'TimeLimitExceeded' });
    expect(await (await spin.delay(0)).get(T)).toBe('finished');
  });

  it('hands back the job of a handler that never ends when close() reaches its deadline, and the process exits on its own', async () => {
    const app = newApp();
    const stuck = await app.apply(signature('hang'));
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', HANG_AND_CLOSE], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redis.url, CELERIAC_PREFIX: app.prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = sleep(20_000).then(() => 'still running');
    const ended = await Promise.race([exit, deadline]);
    if (ended === 'still running') child.kill('SIGKILL');
    expect(ended, output).toBe(0);
    expect(output).toBe('closed\n'); // and nothing reported after its close
    // The job it held was handed back, not lost: another worker runs it.
    app.task('hang', () => 'ran again');
    app.worker();
    expect(await stuck.get(T)).toBe('ran again');
  });
});

/** Seeded bytes that are no JSON at all (control characters, lone surrogates, quotes…). */
function noise(rng: Rng): string {
  return Array.from({ length: rng.int(1, 200) }, () => String.fromCharCode(rng.int(0, 0xffff))).join('');
}

describe('garbage written into jobs in Redis', () => {
  it('fails each such job alone with InvalidJobError; the worker and every other workflow go on', async () => {
    const rng = seededForTest(FILE);
    const app = newApp();
    const garbage = [
      '{"v":1, not json',
      'null',
      '[]',
      '"a string"',
      '{}',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      noise(rng),
      noise(rng),
    ];
    // Jobs wait in their queue (no worker yet) while their data is overwritten.
    const victims = await Promise.all(garbage.map((_, i) => app.apply(signature('add', [i, i]))));
    const raw = new Redis(redis.url);
    try {
      for (const [i, victim] of victims.entries()) {
        expect(await raw.hset(`${app.prefix}:q:default:${victim.id}`, 'data', garbage[i]!)).toBe(0);
      }
    } finally {
      raw.disconnect();
    }
    const cases = mixedWorkflows(rng, SIZE);
    const good: AnyResult[] = [];
    for (const { canvas } of cases) good.push(await app.apply(canvas));
    app.worker({ concurrency: 4 });

    for (const [i, victim] of victims.entries()) {
      await expect(victim.get(T), `garbage ${i}`).rejects.toMatchObject({ remoteName: 'InvalidJobError' });
    }
    const verdict = await verify(app, ledger, cases, good, await waitAll(good, 60_000));
    expect(verdict.problems).toEqual([]);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('__proto__ and constructor in payloads', () => {
  const hostile = (): unknown => JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');

  it('never reach a prototype: refused in args, kwargs and Celery messages at apply, in results, and in job data', async () => {
    const app = newApp();
    app.task('echo', (value: unknown) => value);
    app.task('returns hostile', () => hostile() as never);
    app.worker({ concurrency: 2 });
    const raw = { kind: 'signature', task: 'echo', args: [], kwargs: {}, options: {}, immutable: false };

    await expect(app.apply({ ...raw, args: [hostile()] } as never)).rejects.toThrow(CanvasError);
    await expect(app.apply({ ...raw, kwargs: { options: hostile() } } as never)).rejects.toThrow(CanvasError);
    await expect(app.apply(signature('echo'), { args: [hostile() as never] })).rejects.toThrow(CanvasError);
    await expect(app.apply(signature('echo'), { kwargs: hostile() as never })).rejects.toThrow(CanvasError);
    const celery = JSON.parse('{"task":"echo","args":[{"__proto__":{"polluted":true}}],"kwargs":{},"options":{},"subtask_type":null,"immutable":false}') as unknown;
    expect(() => fromCelery(celery)).toThrow(CanvasError);

    const returned = await (await app.apply(signature('returns hostile'))).get(T).catch((e: unknown) => e);
    expect(returned).toMatchObject({ remoteName: 'EncodeError' });
    expect((returned as Error).message).toMatch(/raised EncodeError: result\.__proto__/);

    // Written into a job's data by hand, past every check apply makes.
    app.task('waits', (value: unknown) => value);
    const other = newApp();
    const forged = await other.apply(signature('echo', ['placeholder']));
    const key = `${other.prefix}:q:default:${forged.id}`;
    const rawRedis = new Redis(redis.url);
    try {
      const data = (await rawRedis.hget(key, 'data'))!;
      expect(data).toContain('"placeholder"');
      await rawRedis.hset(key, 'data', data.replace('"placeholder"', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'));
    } finally {
      rawRedis.disconnect();
    }
    other.task('echo', (value: unknown) => value);
    other.worker();
    const outcome = await forged.get(T).catch((e: unknown) => e);
    expect(outcome).toMatchObject({ remoteName: 'InvalidJobError' });
    expect((outcome as Error).message).toMatch(/args\[0\]\.__proto__, a key that could reach a prototype/);

    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('payload size', () => {
  it('takes 10 MB of arguments and refuses more than the default limit (16 MiB) at apply, naming it', async () => {
    const app = newApp();
    const length = app.task('length', (text: string) => text.length);
    app.worker();
    const tenMegabytes = 'x'.repeat(10 * 1024 * 1024);
    expect(await (await length.delay(tenMegabytes)).get(T)).toBe(tenMegabytes.length);
    const refused = await length.delay('y'.repeat(16 * 1024 * 1024 + 1)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PayloadTooLargeError);
    expect((refused as Error).message).toMatch(/more than maxPayloadSize \(16777216\)/);
  });
});
