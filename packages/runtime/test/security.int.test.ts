/**
 * What a producer or anyone who can publish on Redis channels could try: forging another
 * workflow's result through the runtime's reserved task names, killing workers with malformed
 * control messages, and making waiters believe a forged completion. Each is refused, and the
 * victim's result stays right.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chain, fromCelery, group, signature } from '@celeriac/canvas';
import { CanvasError, TimeoutError } from '@celeriac/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';

const T = { timeout: 15_000 };
const fixture = fileURLToPath(new URL('./fixtures/crash-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const clients: Redis[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const client of clients.splice(0)) client.disconnect();
});

function client(): Redis {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  clients.push(redis);
  return redis;
}

function startWorker(prefix: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', fixture], {
    cwd: root,
    env: { ...process.env, REDIS_URL: redisUrl(), CELERIAC_PREFIX: prefix },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker did not start in 20 s')), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
  });
}

/** Payloads a hostile or broken publisher might send on any channel. */
const GARBAGE = [
  '{"type":"revoke","ids":5}',
  'null',
  '{"type":"revoke"}',
  '{"type":"revoke","ids":[1,2],"terminate":"yes"}',
  '[]',
  'not json at all',
  '0:SUCCESS',
  '99999999999999999999:FAILURE',
  '{"__proto__":{"polluted":true},"type":"revoke","ids":[],"terminate":false}',
  'x'.repeat(1_000_000),
];

describe('reserved task names', () => {
  it('refuses the built-in steps of replace in a user canvas, by every route, and the victim keeps its result', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const victim = await app.apply(chain(add.si(1, 1)), { countdown: 1 });
    const target = { w: victim.id, i: 0, id: victim.id, task: 'add' };
    for (const task of ['celeriac.replaced', 'celeriac.replace_failed', 'celeriac.release']) {
      expect(() => signature(task, [665], target)).toThrow(CanvasError);
      const literal = { kind: 'signature', task, args: [665], kwargs: target, options: {}, immutable: false } as const;
      await expect(app.apply(literal)).rejects.toBeInstanceOf(CanvasError);
      expect(() => chain(add.si(1, 1), literal as never)).toThrow(CanvasError);
      await expect(app.apply({ kind: 'chain', tasks: [add.si(1, 1), literal], options: {} })).rejects.toBeInstanceOf(CanvasError);
      await expect(
        (async () => app.apply(fromCelery({ task, args: [665], kwargs: target, options: {}, subtask_type: null, immutable: false })))(),
      ).rejects.toBeInstanceOf(CanvasError);
    }
    app.worker({ concurrency: 2 });
    expect(await victim.get(T)).toBe(2);
  });

  it('refuses a built-in step written into a queue by hand, and changes nothing', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const victim = await add.applyAsync({ args: [1, 1], countdown: 1 });
    const queue = new Queue('default', { connection: client(), prefix: `${app.prefix}:q` });
    try {
      const forged = await queue.add(
        'celeriac.replaced',
        {
          v: 1, w: victim.id, i: 0, id: 'forged', task: 'celeriac.replaced', args: [665],
          kwargs: { w: victim.id, i: 0, id: victim.id, task: 'add' },
          rootId: victim.id, parentId: null, groupId: null, groupIndex: null, o: {}, r: 0,
        },
        { jobId: 'forged' },
      );
      app.worker({ concurrency: 2 });
      await expect.poll(async () => (await queue.getJob(forged.id!))?.failedReason ?? '', T).toMatch(/Refused job forged/);
      expect(await victim.get(T)).toBe(2);
    } finally {
      await queue.close();
    }
  });
});

describe('messages on channels', () => {
  it('drops malformed control messages: no worker exits and every result stays right', async () => {
    const app = testApp();
    const child = await startWorker(app.prefix);
    const publisher = client();
    const step = (x: number, y: number) => signature('step', [x, y]);
    const results = await Promise.all(Array.from({ length: 10 }, (_, k) => app.apply(chain(step(k, 1), signature('step', [1])))));
    for (const message of GARBAGE) await publisher.publish(`${app.prefix}:control`, message);
    expect(await Promise.all(results.map((result) => result.get(T)))).toEqual(Array.from({ length: 10 }, (_, k) => k + 2));
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
  });

  it('does not believe a forged completion: a waiter reads the state it was told about', async () => {
    const warnings: string[] = [];
    const ignore = (): void => {};
    const app = testApp({ logger: { debug: ignore, info: ignore, warn: (message) => warnings.push(message), error: ignore } });
    const add = app.task('add', (x: number, y: number) => x + y);
    const res = await add.delay(1, 1); // no worker yet: it stays PENDING
    const publisher = client();
    const waiting = res.get({ timeout: 1_500 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the waiter is subscribed
    for (const message of GARBAGE) await publisher.publish(`${app.prefix}:wf:{${res.id}}:events`, message);
    expect(await waiting).toBeInstanceOf(TimeoutError);
    expect(await res.state()).toBe('PENDING');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    // Malformed ones are reported, once a minute at most.
    expect(warnings.filter((line) => line.includes('dropped a malformed message on the channel of workflow'))).toHaveLength(1);
    app.worker();
    expect(await res.get(T)).toBe(2);
  });

  it('does not believe forged completions of a whole group: the read they trigger finds the members pending, and it waits on', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const res = await app.apply(group(Array.from({ length: 20 }, (_, i) => add.si(i, i)))); // no worker yet
    const publisher = client();
    const waiting = res.get({ timeout: 1_500 }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the waiter is subscribed
    // Every member announced, as the waiter waits for before reading; and one failure, read at once.
    for (let i = 0; i < 20; i++) await publisher.publish(`${app.prefix}:wf:{${res.id}}:events`, `${i}:SUCCESS`);
    await publisher.publish(`${app.prefix}:wf:{${res.id}}:events`, '3:FAILURE');
    expect(await waiting).toBeInstanceOf(TimeoutError);
    expect(await res.completedCount()).toBe(0);
    app.worker();
    expect(await res.get(T)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * i));
  });
});
