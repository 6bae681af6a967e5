import { chain, chord, group, withOptions } from '@celeriac/canvas';
import { AsyncResult, GroupResult, ResultNotFoundError, TimeoutError, createApp } from '@celeriac/runtime';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';

const T = { timeout: 15_000 };

describe('results', () => {
  it('assigns every id at apply time, so the .parent chain exists before anything runs', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
    expect(res.parent!.parent!.id).toEqual(expect.any(String));
    expect(await res.state()).toBe('PENDING');
    expect(await res.parent!.parent!.state()).toBe('PENDING');
    app.worker();
    expect(await res.get(T)).toBe(16);
  });

  it('rebuilds a result with its .parent chain from Redis alone in another app instance', async () => {
    const producer = testApp();
    const add = producer.task('add', (x: number, y: number) => x + y);
    const tsum = producer.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
    producer.worker();
    const res = await producer.apply(chain(add.s(2, 2), group(add.s(1), add.s(2)), chord([add.si(1, 1)], tsum.s())));
    await res.get(T).catch(() => undefined);

    // A separate app shares nothing in memory with the producer: only Redis.
    const observer = createApp({ redis: redisUrl(), prefix: producer.prefix });
    try {
      const again = await observer.result(res.id);
      expect(again).toBeInstanceOf(AsyncResult);
      expect(again.id).toBe(res.id);
      const header = again.parent as GroupResult;
      expect(header).toBeInstanceOf(GroupResult);
      expect(header.id).toBe((res.parent as GroupResult).id);
      const previousGroup = header.parent as GroupResult;
      expect(previousGroup.results.map((r) => r.id)).toEqual((res.parent!.parent as GroupResult).results.map((r) => r.id));
      expect(await previousGroup.get(T)).toEqual([5, 6]);
      expect(await (previousGroup.parent as AsyncResult).get(T)).toBe(4);
      const member = await observer.result(previousGroup.results[1]!.id);
      expect(await member.get(T)).toBe(6);
      const byGroupId = await observer.result(previousGroup.id);
      expect(byGroupId).toBeInstanceOf(GroupResult);
    } finally {
      await observer.close();
    }
  });

  it('finds results by derived ids and by ids a user chose for inner tasks', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker();
    const res = await app.apply(chain(withOptions(add.s(1, 1), { taskId: 'first-step' }), group(add.s(1), add.s(2))));
    expect(await res.get(T)).toEqual([3, 4]);
    expect(res.parent!.id).toBe('first-step');
    expect(await (await app.result('first-step')).get(T)).toBe(2);
    const member = (res as GroupResult).results[1]!;
    expect(member.id.startsWith(`${res.id}.`)).toBe(true);
    expect(await (await app.result(member.id)).get(T)).toBe(4);
    await expect(app.result(`${res.id}.99`)).rejects.toBeInstanceOf(ResultNotFoundError);
  });

  it('reports state transitions and readiness, STARTED with trackStarted', async () => {
    const app = testApp();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const wait = app.task('wait', async () => {
      await gate;
      return 'done';
    });
    app.worker({ trackStarted: true });
    const res = await wait.delay();
    await expect.poll(() => res.state(), { timeout: 10_000 }).toBe('STARTED');
    expect(await res.ready()).toBe(false);
    release();
    expect(await res.get(T)).toBe('done');
    expect(await res.state()).toBe('SUCCESS');
    expect(await res.ready()).toBe(true);
    expect(await res.successful()).toBe(true);
  });

  it('leaves a running task PENDING without trackStarted, as Celery does', async () => {
    const app = testApp();
    let started = false;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const wait = app.task('wait', async () => {
      started = true;
      await gate;
      return 'done';
    });
    app.worker();
    const res = await wait.delay();
    await expect.poll(() => started, { timeout: 10_000 }).toBe(true);
    expect(await res.state()).toBe('PENDING');
    release();
    expect(await res.get(T)).toBe('done');
  });

  it('get()s begun before the app started its worker hear the results that worker records', async () => {
    // Waits begun with no worker of the app in the process watch for no hand-over in memory
    // (local-outcomes.ts): they must not take the announcements of this worker's recordings for
    // hand-overs to come, or they would wait for ever.
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    // 300 at once: with 100, a worker's reply came before its announcement too often to show it.
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => add.delay(i, i)));
    const values = Promise.all(results.map((res) => res.get(T)));
    await new Promise((resolve) => setTimeout(resolve, 50)); // every wait is under way
    app.worker({ concurrency: 50 });
    expect(await values).toEqual(Array.from({ length: 300 }, (_, i) => 2 * i));
  });

  it('rejects get() with TimeoutError when the timeout passes first', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const res = await add.delay(1, 1); // no worker: it never runs
    const started = Date.now();
    await expect(res.get({ timeout: 200 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('rejects result() with ResultNotFoundError for an id nobody applied', async () => {
    const app = testApp();
    await expect(app.result('no-such-id')).rejects.toBeInstanceOf(ResultNotFoundError);
  });

  it('expires results after resultTtl', async () => {
    const app = testApp({ resultTtl: 1 });
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker();
    const res = await add.delay(1, 1);
    expect(await res.get(T)).toBe(2);
    const redis = new Redis(redisUrl());
    try {
      const ttl = await redis.ttl(`${app.prefix}:wf:{${res.id}}:result`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1);
    } finally {
      redis.disconnect();
    }
    await expect.poll(() => app.result(res.id).then(() => 'found', (e: unknown) => e), { timeout: 5_000, interval: 250 }).toBeInstanceOf(
      ResultNotFoundError,
    );
  });

  it('leaves no workflow key without a TTL, whatever the workflow did', async () => {
    const app = testApp({ resultTtl: 300 });
    const add = app.task('add', (x: number, y: number) => x + y);
    const fail = app.task('fail', (..._args: unknown[]): number => {
      throw new Error('boom');
    });
    app.worker({ concurrency: 4 });
    const named = withOptions(add.si(0, 0), { taskId: 'named-callback' }); // a user id: a pointer key
    const ok = await app.apply(chain(withOptions(add.s(1, 1), { link: [named] }), group(add.s(1), add.s(2)), chord([add.si(1, 1)], add.si(2, 2))));
    let errbackRan = false;
    const note = app.task('note', (_failedId: string) => (errbackRan = true));
    const bad = await app.apply(chain(add.s(1, 1), fail.s(), add.s(1)), { linkError: [note.s()] });
    await ok.get(T);
    await bad.get(T).catch(() => undefined);
    await expect.poll(async () => (await app.result('named-callback')).ready(), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => errbackRan, { timeout: 5_000 }).toBe(true);
    const redis = new Redis(redisUrl());
    try {
      // Workflow state and id pointers (queues are BullMQ's, worker presence the control plane's).
      const keys = (await redis.keys(`${app.prefix}:*`)).filter((key) => /^[^:]+:(wf|id):\{/.test(key));
      expect(keys.length).toBeGreaterThan(10);
      const ttls = await Promise.all(keys.map(async (key) => [key, await redis.ttl(key)] as const));
      expect(ttls.filter(([, ttl]) => !(ttl > 0 && ttl <= 300))).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('applies the same taskId twice without running it twice', async () => {
    const app = testApp();
    let runs = 0;
    const count = app.task('count', () => ++runs);
    app.worker();
    const first = await count.applyAsync({ taskId: 'fixed-id' });
    expect(await first.get(T)).toBe(1);
    const second = await count.applyAsync({ taskId: 'fixed-id' });
    expect(second.id).toBe('fixed-id');
    expect(await second.get(T)).toBe(1);
    expect(runs).toBe(1);
  });

  it('stores only the ids users chose and finds results by derived ids', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker();
    const res = await app.apply(withOptions(group(add.si(1, 1), withOptions(add.si(2, 2), { taskId: 'mine' }), add.si(3, 3)), { taskId: 'wf' }));
    expect((await app.internals.store.meta('wf'))!.nodes).toEqual([{ task: 'add' }, { id: 'mine', task: 'add' }, { task: 'add' }]);
    expect(await res.get(T)).toEqual([2, 4, 6]);
    expect(await (await app.result('wf.2')).get(T)).toBe(6);
  });

  it('waits for a 2 000-member group without polling and returns values in order', async () => {
    const app = testApp();
    const identity = app.task('identity', (x: number) => x);
    app.worker({ concurrency: 50 });
    const n = 2_000;
    const res = await app.apply(group(Array.from({ length: n }, (_, i) => identity.s(i))));
    expect(await res.get({ timeout: 60_000 })).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
