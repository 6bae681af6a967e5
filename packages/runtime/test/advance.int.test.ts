/**
 * The store's atomic steps, driven directly: what a redelivered job or a second worker would do.
 * These pin the exactly-once rules the crash test relies on, without the timing of real crashes.
 */
import { randomUUID } from 'node:crypto';
import { chain, chord, compile, group, signature, withOptions, type Canvas } from '@celeriac/canvas';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { freeze } from '../src/plan.js';
import { monitor, redisUrl, testApp } from './helpers.js';

const success = (value: unknown): string => `{"s":"SUCCESS","d":0,"v":${JSON.stringify(value)}}`;
const failure = (message: string): string =>
  JSON.stringify({ s: 'FAILURE', d: 0, e: { name: 'Error', message, task: 't', id: 'x' } });

describe('workflow store', () => {
  it('releases a chain successor once however often its predecessor is recorded', async () => {
    const app = testApp();
    const res = await app.apply(chain(signature('a'), signature('b')));
    const store = app.internals.store;
    const first = await store.advance(res.id, 0, success(1));
    expect(first.status).toBe(0);
    expect(first.released.map((r) => r.index)).toEqual([1]);
    expect(first.released[0]!.inputs).toEqual([1]);
    // A redelivery: nothing new is released, but the successor still waiting in the outbox is returned.
    const again = await store.advance(res.id, 0, success(999));
    expect(again.status).toBe(1);
    expect(again.released.map((r) => r.index)).toEqual([1]);
    expect(await store.releaseCounts(res.id)).toEqual({ 1: 1 });
    // Once the successor has run, a late redelivery returns nothing to enqueue.
    await store.advance(res.id, 1, success(2));
    expect((await store.advance(res.id, 0, success(1))).released).toEqual([]);
    expect(await res.get({ timeout: 1_000 })).toBe(2);
  });

  it('records nothing for a workflow Redis no longer holds, and says why', async () => {
    const app = testApp();
    const res = await app.apply(chain(signature('a'), signature('b')));
    const store = app.internals.store;
    const keys = Object.values(store.keys(res.id)).filter((key) => !key.endsWith(':events'));
    const redis = new Redis(redisUrl());
    try {
      await redis.del(...keys); // expired (or deleted) while its task ran
      await expect(store.advance(res.id, 0, success(1))).rejects.toThrow(/workflow .* does not exist in Redis/);
      expect(await redis.exists(...keys)).toBe(0); // no key recreated without its TTL
    } finally {
      redis.disconnect();
    }
  });

  it('returns only the indices of a release larger than the inline limit, first time and on redelivery', async () => {
    const app = testApp();
    const res = await app.apply(chain(signature('seed'), group(Array.from({ length: 11 }, (_, k) => signature('m', [k])))));
    const store = app.internals.store;
    const members = Array.from({ length: 11 }, (_, k) => k + 1);
    expect(await store.advance(res.id, 0, success(5), 10)).toEqual({ status: 0, released: [], releasedIndices: members });
    const again = await store.advance(res.id, 0, success(5), 11); // within the limit: specs and inputs
    expect(again.status).toBe(1);
    expect(again.released.map((node) => [node.index, node.inputs])).toEqual(members.map((index) => [index, [5]]));
    expect(await store.releaseCounts(res.id)).toEqual(Object.fromEntries(members.map((index) => [index, 1])));
  });

  it('releases a chord body only on the last header completion, once, with ordered inputs', async () => {
    const app = testApp();
    const res = await app.apply(chord([signature('h'), signature('h'), signature('h')], signature('body')));
    const store = app.internals.store;
    expect((await store.advance(res.id, 2, success('c'))).released).toEqual([]);
    expect((await store.advance(res.id, 2, success('c'))).status).toBe(1);
    expect((await store.advance(res.id, 0, success('a'))).released).toEqual([]);
    const last = await store.advance(res.id, 1, success('b'));
    expect(last.released.map((r) => [r.index, r.inputs])).toEqual([[3, ['a', 'b', 'c']]]);
    expect(await store.releaseCounts(res.id)).toEqual({ 3: 1 });
  });

  it('records the successes of one moment in one call, each as if alone and in order, the same node twice included', async () => {
    const app = testApp();
    const res = await app.apply(chord([signature('h'), signature('h'), signature('h')], signature('body')));
    const other = await app.apply(chain(signature('a'), signature('b')));
    const store = app.internals.store;
    const monitored = await monitor();
    // Made in one moment: on one Redis server, one advance for both workflows (the chord's node 2 twice).
    const [a, b, twice, last, chainHop] = await Promise.all([
      store.advance(res.id, 0, success('a')),
      store.advance(res.id, 2, success('c')),
      store.advance(res.id, 2, success('c again')),
      store.advance(res.id, 1, success('b')),
      store.advance(other.id, 0, success(1)),
    ]);
    await monitored.caughtUp();
    expect([a.status, b.status, twice.status, last.status, chainHop.status]).toEqual([0, 0, 1, 0, 0]);
    expect([a.released, b.released, twice.released]).toEqual([[], [], []]);
    expect(last.released.map((r) => [r.index, r.inputs])).toEqual([[3, ['a', 'b', 'c']]]);
    expect(chainHop.released.map((r) => [r.index, r.inputs])).toEqual([[1, [1]]]);
    expect(await store.releaseCounts(res.id)).toEqual({ 3: 1 });
    const advances = monitored.executed.filter((c) => c.args[0]!.startsWith('eval') && c.args.some((arg) => arg.startsWith('{"s":"SUCCESS"')));
    expect(advances.map((c) => c.args.filter((arg) => arg.startsWith('{"s":"SUCCESS"')).length)).toEqual([5]);
  });

  it('records at most 200 successes per call, however many were reached in one moment', async () => {
    const app = testApp();
    const res = await app.apply(chord(Array.from({ length: 450 }, (_, k) => signature('h', [k])), signature('body')));
    const store = app.internals.store;
    const monitored = await monitor();
    const recorded = await Promise.all(Array.from({ length: 450 }, (_, k) => store.advance(res.id, k, success(k))));
    await monitored.caughtUp();
    expect(recorded.map((r) => r.status)).toEqual(Array.from({ length: 450 }, () => 0));
    expect(recorded[449]!.released.map((r) => [r.index, r.inputs.length])).toEqual([[450, 450]]);
    const advances = monitored.executed.filter((c) => c.args[0]!.startsWith('eval') && c.args.some((arg) => arg.startsWith('{"s":"SUCCESS"')));
    expect(advances.map((c) => c.args.filter((arg) => arg.startsWith('{"s":"SUCCESS"')).length)).toEqual([200, 200, 50]);
  });

  it('keeps the TTL of each workflow in a shared call, and publishes each success on its own workflow', async () => {
    const app = testApp();
    const first = await app.apply(chain(signature('a'), signature('b')));
    const second = await app.apply(chain(signature('a'), signature('b')));
    const store = app.internals.store;
    const [one, two] = await Promise.all([store.advance(first.id, 0, success(1)), store.advance(second.id, 0, success(2))]);
    expect([one.released[0]!.inputs, two.released[0]!.inputs]).toEqual([[1], [2]]);
    await Promise.all([store.advance(first.id, 1, success('x')), store.advance(second.id, 1, success('y'))]);
    expect([await first.get({ timeout: 1_000 }), await second.get({ timeout: 1_000 })]).toEqual(['x', 'y']);
    const redis = new Redis(redisUrl());
    try {
      for (const id of [first.id, second.id]) {
        const ttls = await Promise.all(Object.values(store.keys(id)).filter((key) => !key.endsWith(':events')).map((key) => redis.ttl(key)));
        expect(ttls.every((ttl) => ttl > 0)).toBe(true);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('fails only the successes of a workflow whose keys Redis refuses, when a shared call is refused', async () => {
    const app = testApp();
    const broken = await app.apply(chain(signature('a'), signature('b')));
    const before = await app.apply(chain(signature('a'), signature('b')));
    const after = await app.apply(chain(signature('a'), signature('b')));
    const store = app.internals.store;
    const redis = new Redis(redisUrl());
    try {
      // A key of the wrong type makes the script stop with an error half-way through the call.
      await redis.del(store.keys(broken.id).state);
      await redis.set(store.keys(broken.id).state, 'not a hash');
    } finally {
      redis.disconnect();
    }
    const [first, lost, last] = await Promise.allSettled([
      store.advance(before.id, 0, success(1)),
      store.advance(broken.id, 0, success(1)),
      store.advance(after.id, 0, success(1)),
    ]);
    expect(lost).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/WRONGTYPE/) } });
    // Recorded by the refused call already (RECORDED before the error, then ALREADY_RECORDED), released once.
    for (const kept of [first, last]) {
      expect(kept.status).toBe('fulfilled');
      if (kept.status === 'fulfilled') expect(kept.value.released.map((node) => node.index)).toEqual([1]);
    }
    expect(await store.releaseCounts(before.id)).toEqual({ 1: 1 });
    expect(await store.releaseCounts(after.id)).toEqual({ 1: 1 });
  });

  it("reads the outcomes of the same moment in one call, and a workflow whose keys Redis refuses fails only its own read", async () => {
    const app = testApp();
    const [done, broken, pending] = await Promise.all([app.apply(signature('a')), app.apply(signature('a')), app.apply(signature('a'))]);
    const store = app.internals.store;
    await store.advance(done.id, 0, success(7));
    const redis = new Redis(redisUrl());
    const monitored = await monitor();
    /** Calls Redis has refused with a WRONGTYPE error. */
    const wrongTypes = async (): Promise<number> => Number(/errorstat_WRONGTYPE:count=(\d+)/.exec(await redis.info('errorstats'))?.[1] ?? 0);
    try {
      await redis.del(store.keys(broken.id).result);
      await redis.set(store.keys(broken.id).result, 'not a hash');
      const refusedBefore = await wrongTypes();
      const [first, lost, last] = await Promise.allSettled([store.outcome(done.id, 0), store.outcome(broken.id, 0), store.outcome(pending.id, 0)]);
      expect(first).toMatchObject({ status: 'fulfilled', value: ['SUCCESS', { state: 'SUCCESS', value: 7 }] });
      expect(lost).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/WRONGTYPE/) } });
      expect(last).toMatchObject({ status: 'fulfilled', value: ['PENDING', null] });
      // Refused twice: the shared call, then the broken workflow's own.
      expect((await wrongTypes()) - refusedBefore).toBe(2);
      await monitored.caughtUp();
    } finally {
      redis.disconnect();
    }
    // One call for the three, then one per workflow (EVAL the first time the script runs here).
    const reads = monitored.executed.filter(
      (c) => (c.args[0] === 'evalsha' || c.args[0] === 'eval') && c.args.some((arg) => arg.endsWith(':result')) && !c.args.some((arg) => arg.endsWith(':graph')),
    );
    expect(reads.map((c) => Number(c.args[2]) / 2)).toEqual([3, 1, 1, 1]);
  });

  it('rejects only the successes of a workflow Redis no longer holds, not those sent with them', async () => {
    const app = testApp();
    const gone = await app.apply(chain(signature('a'), signature('b')));
    const kept = await app.apply(chain(signature('a'), signature('b')));
    const store = app.internals.store;
    const redis = new Redis(redisUrl());
    try {
      await redis.del(...Object.values(store.keys(gone.id)).filter((key) => !key.endsWith(':events')));
    } finally {
      redis.disconnect();
    }
    const [lost, recorded] = await Promise.allSettled([store.advance(gone.id, 0, success(1)), store.advance(kept.id, 0, success(1))]);
    expect(lost.status).toBe('rejected');
    expect(recorded).toMatchObject({ status: 'fulfilled', value: { status: 0 } });
  });

  it('never releases anything after a node failed, and fails downstream once', async () => {
    const app = testApp();
    const res = await app.apply(chain(signature('a'), signature('b'), signature('c')));
    const store = app.internals.store;
    expect((await store.fail(res.id, 0, failure('boom'), failure('chord'))).status).toBe(0);
    expect((await store.fail(res.id, 0, failure('boom'), failure('chord'))).status).toBe(1);
    expect((await store.advance(res.id, 0, success(1))).status).toBe(2);
    expect(await store.states(res.id, [0, 1, 2])).toEqual(['FAILURE', 'FAILURE', 'FAILURE']);
    expect(await store.releaseCounts(res.id)).toEqual({});
  });

  it('writes the plans of one moment in one call, each atomically: one whose workflow exists is left as it was', async () => {
    const app = testApp();
    const store = app.internals.store;
    const plan = (canvas: Canvas) => freeze(compile(canvas), () => undefined)!;
    const taken = `taken-${randomUUID()}`;
    expect(await store.createWhole(plan(withOptions(signature('x', [1]), { taskId: taken })))).toBe(true);
    const first = plan(chain(signature('a', [1]), signature('b')));
    const last = plan(group(signature('c', [2]), signature('c', [3])));
    const monitored = await monitor();
    const replies = await store.writeWhole([first, plan(withOptions(signature('x', [2]), { taskId: taken })), last].map((p) => store.encodeWhole(p)));
    await monitored.caughtUp();
    expect(replies).toEqual([1, 0, 1]);
    expect(monitored.executed.filter((c) => c.args[0] === 'evalsha' || c.args[0] === 'eval')).toHaveLength(1);
    // The existing workflow kept its own plan.
    expect((await store.specs(taken, [0]))[0]!.args).toEqual([1]);
    // The others were written whole, with their entries in the outbox and a TTL on every key. A
    // flat group can release nothing: it has no deps hash and no released hash.
    expect((await store.meta(first.meta.id))!.nodes).toHaveLength(2);
    expect(await store.outbox(first.meta.id)).toEqual([expect.objectContaining({ index: 0 })]);
    expect((await store.outbox(last.meta.id)).map((node) => node.index).sort()).toEqual([0, 1]);
    const redis = new Redis(redisUrl());
    try {
      for (const [id, keys] of [[first.meta.id, 6], [last.meta.id, 4]] as const) {
        const ttls = await Promise.all(Object.values(store.keys(id)).filter((key) => !key.endsWith(':events')).map((key) => redis.ttl(key)));
        expect(ttls.filter((ttl) => ttl > 0)).toHaveLength(keys);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('writes a plan larger than one slice completely, publishes it once, and applies it idempotently', async () => {
    const app = testApp();
    const n = 2_500; // three slices of 1 000
    const canvas = group(Array.from({ length: n }, (_, i) => signature('id', [i])));
    const res = await app.apply(withOptions(canvas, { taskId: 'big-group' }));
    const store = app.internals.store;
    expect((await store.meta(res.id))!.nodes).toHaveLength(n);
    expect(await store.outbox(res.id)).toHaveLength(n);
    expect((await store.specs(res.id, [0, n - 1])).map((spec) => spec!.args)).toEqual([[0], [n - 1]]);
    const again = await app.apply(withOptions(canvas, { taskId: 'big-group' }));
    expect(again.id).toBe(res.id);
    app.task('id', (x: number) => x);
    app.worker({ concurrency: 50 });
    expect(await res.get({ timeout: 30_000 })).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('keeps a finished node finished when a late delivery marks it started', async () => {
    const app = testApp();
    const res = await app.apply(signature('a'));
    const store = app.internals.store;
    expect(await store.mark(res.id, 0, 'STARTED')).toBeNull();
    await store.advance(res.id, 0, success(1));
    expect(await store.mark(res.id, 0, 'STARTED')).toBe('SUCCESS');
    expect(await res.state()).toBe('SUCCESS');
  });
});
