/**
 * A workflow as observers see it: `app.workflow(id)` from any of its result ids, and
 * `app.watch(id)` following its states live.
 */
import { chain, chord, group } from '@celeriac/canvas';
import { ResultNotFoundError, type NodeChange } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

const T = { timeout: 15_000 };

function setup() {
  const app = testApp();
  const add = app.task('add', (x: number, y: number) => x + y);
  const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
  const fail = app.task('fail', (..._args: unknown[]): number => {
    throw new RangeError('no');
  });
  return { app, add, tsum, fail };
}

describe('workflow snapshot', () => {
  it('describes every node, its links and its group, from any result id of the workflow', async () => {
    const { app, add, tsum } = setup();
    const res = await app.apply(chain(add.s(1, 1), chord([add.s(1), add.s(2)], tsum.s())));
    const before = await app.workflow(res.id);
    expect(before).toMatchObject({ id: res.id, size: 4, state: 'PENDING', truncated: false, result: res.id });
    expect(before.nodes.map((node) => [node.task, node.state])).toEqual([
      ['add', 'PENDING'],
      ['add', 'PENDING'],
      ['add', 'PENDING'],
      ['tsum', 'PENDING'],
    ]);
    const [first, left, right, body] = before.nodes;
    expect(left!.waitingOn).toEqual([first!.id]);
    expect(body!.waitingOn).toEqual([left!.id, right!.id]);
    expect(body!.parent).toBe(before.groups[0]!.id);
    expect(left!.group).toEqual({ id: before.groups[0]!.id, index: 0 });
    expect(before.edges).toEqual(
      expect.arrayContaining([
        { from: first!.id, to: left!.id, carries: 'result' },
        { from: left!.id, to: body!.id, carries: 'result' },
      ]),
    );
    expect(before.groups[0]).toMatchObject({ members: [left!.id, right!.id], parent: first!.id, size: 2, succeeded: 0 });

    app.worker({ concurrency: 2 });
    expect(await res.get(T)).toBe(7);
    // Any result id of the workflow leads to it: a header member's, for instance.
    const after = await app.workflow(left!.id);
    expect(after.state).toBe('SUCCESS');
    expect(after.nodes.map((node) => node.result)).toEqual(['2', '3', '4', '7']);
    expect(after.groups[0]).toMatchObject({ succeeded: 2, failed: 0 });
    expect(after.nodes.every((node) => node.waitingOn.length === 0 && typeof node.doneAt === 'number')).toBe(true);
  });

  it('says why a node failed and lists a large group by its progress only', async () => {
    const { app, add, tsum, fail } = setup();
    app.worker({ concurrency: 4 });
    const failed = await app.apply(chord([add.s(1, 1), fail.s()], tsum.s()));
    await failed.get(T).catch(() => undefined);
    const snapshot = await app.workflow(failed.id);
    expect(snapshot.state).toBe('FAILURE');
    expect(snapshot.nodes[1]!.error).toMatchObject({ name: 'RangeError', message: 'no' });
    expect(snapshot.nodes[2]!.error).toMatchObject({ name: 'ChordError' });

    const big = await app.apply(group(Array.from({ length: 1_500 }, (_, i) => add.si(i, 0))));
    await big.get(T);
    const summary = await app.workflow(big.id, { limit: 10 });
    expect(summary).toMatchObject({ size: 1_500, truncated: true, state: 'SUCCESS' });
    expect(summary.nodes).toHaveLength(10);
    expect(summary.groups[0]).toMatchObject({ size: 1_500, succeeded: 1_500 });
  });

  it('rejects an id no workflow knows', async () => {
    const { app } = setup();
    await expect(app.workflow('no-such-id')).rejects.toBeInstanceOf(ResultNotFoundError);
  });
});

describe('app.watch', () => {
  it('yields the current states, then each change, and ends when every node has ended', async () => {
    const { app, add } = setup();
    const res = await app.apply(chain(add.s(1, 1), add.s(1), add.s(1)));
    const seen: NodeChange[] = [];
    const watching = (async () => {
      for await (const change of app.watch(res.id)) seen.push(change);
    })();
    await expect.poll(() => seen.length, T).toBe(3); // the three PENDING states
    app.worker();
    await watching;
    expect(seen.filter((change) => change.state === 'SUCCESS').map((change) => change.index)).toEqual([0, 1, 2]);
    expect(seen.slice(0, 3).every((change) => change.state === 'PENDING')).toBe(true);
  });

  it('stops when its signal aborts', async () => {
    const { app, add } = setup();
    const res = await add.delay(1, 1);
    const controller = new AbortController();
    const seen: NodeChange[] = [];
    const watching = (async () => {
      for await (const change of app.watch(res.id, { signal: controller.signal })) seen.push(change);
    })();
    await expect.poll(() => seen.length, T).toBe(1);
    controller.abort();
    await watching;
    expect(seen).toEqual([{ index: 0, id: res.id, state: 'PENDING' }]);
  });
});

describe('queues', () => {
  it('lists every queue with its counts, and purges what has not started, revoking it so no waiter hangs', async () => {
    const { app, add } = setup();
    const a = await add.applyAsync({ args: [1, 1], queue: 'a' });
    const later = await add.applyAsync({ args: [2, 2], queue: 'b', countdown: 60 });
    const flow = await app.apply(chain(add.s(1, 1), add.s(1)), { queue: 'a' });
    const counts = await app.queues();
    expect(counts.map((queue) => queue.name)).toEqual(['a', 'b']);
    expect(counts.find((queue) => queue.name === 'a')).toMatchObject({ waiting: 2, active: 0 });
    expect(counts.find((queue) => queue.name === 'b')).toMatchObject({ delayed: 1 });

    expect(await app.purge(['a'])).toBe(2);
    await expect(a.get(T)).rejects.toMatchObject({ name: 'RevokedError' });
    await expect(flow.get(T)).rejects.toMatchObject({ name: 'RevokedError' });
    expect(await later.state()).toBe('PENDING');
    expect(await app.purge()).toBe(1);
    expect(await later.state()).toBe('REVOKED');
    expect((await app.queues()).every((queue) => queue.waiting + queue.delayed === 0)).toBe(true);
  });
});

describe('app.rerun', () => {
  it('sends a failed task again with the arguments it ran with, its incoming value included', async () => {
    const { app, add } = setup();
    let failNext = true;
    const flaky = app.task('flaky', (x: number, y: number) => {
      if (failNext) throw new Error('first time');
      return x * y;
    });
    app.worker();
    const res = await app.apply(chain(add.s(2, 3), flaky.s(10)));
    await expect(res.get(T)).rejects.toThrow('first time');
    failNext = false;
    const again = await app.rerun(res.id);
    expect(again.id).not.toBe(res.id);
    expect(await again.get(T)).toBe(50); // flaky(5, 10): the chain's value 5 came in first
    expect(await res.state()).toBe('FAILURE');
    await expect(app.rerun((await app.apply(group(add.s(1, 1), add.s(2, 2)))).id)).rejects.toThrow(/group/);
  });
});
