/**
 * `app.workflows()`: the workflows Redis holds, newest first, read from the store — what the
 * monitor lists when workers send no task events.
 */
import { chain, chord, group } from '@celeriac/canvas';
import { InvalidArgumentError } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

const T = { timeout: 15_000 };

describe('app.workflows', () => {
  it('lists workflows newest first, with their state and counts by state', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
    const fail = app.task('fail', (): number => {
      throw new RangeError('no');
    });
    const done = await app.apply(chain(add.s(1, 1), add.s(2)));
    const failed = await app.apply(chord([add.s(1, 1), fail.s()], tsum.s()));
    app.worker({ concurrency: 2 });
    await done.get(T);
    await expect(failed.get(T)).rejects.toThrow();
    // Not started: no worker consumes this queue.
    const waiting = await app.apply(group(add.s(1, 1), add.s(2, 2)), { queue: 'nobody' });

    const { workflows, next, scanned } = await app.workflows();
    expect(scanned).toBe(3);
    expect(next).toBeNull();
    expect(workflows.map((w) => w.id)).toEqual([waiting.id, failed.id, done.id]);
    expect(workflows[0]).toMatchObject({ task: 'add', tasks: ['add'], size: 2, state: 'PENDING', counts: { PENDING: 2 } });
    expect(workflows[1]).toMatchObject({ task: 'add', tasks: ['add', 'fail', 'tsum'], size: 3, state: 'FAILURE' });
    expect(workflows[1]!.counts.SUCCESS).toBe(1);
    expect(workflows[1]!.counts.FAILURE).toBeGreaterThanOrEqual(1);
    expect(workflows[2]).toMatchObject({ id: done.id, rootId: `${done.id}.0`, size: 2, state: 'SUCCESS', counts: { SUCCESS: 2 } });
    expect(workflows[2]!.createdAt).toBeLessThanOrEqual(workflows[1]!.createdAt);
  });

  it('pages with the cursor it returns, and sees no other prefix', async () => {
    const app = testApp({ prefix: `t*[x]?-${Math.random().toString(36).slice(2)}` });
    const other = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    other.task('add', (x: number, y: number) => x + y);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await app.apply(add.s(i, i))).id);
      // An apply can take less than a millisecond; workflows created in the same one are ordered
      // by id, not by apply order, so each gets its own millisecond here.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await other.apply(add.s(1, 1));

    const seen: string[] = [];
    let before: string | undefined;
    for (let page = 0; page < 10; page++) {
      const list = await app.workflows({ limit: 3, before });
      expect(list.scanned).toBe(7);
      seen.push(...list.workflows.map((w) => w.id));
      if (list.next === null) break;
      before = list.next;
    }
    expect(seen).toEqual([...ids].reverse());
    expect((await other.workflows()).workflows).toHaveLength(1);
  });

  it('rejects a bad limit or cursor with InvalidArgumentError', async () => {
    const app = testApp();
    await expect(app.workflows({ limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(app.workflows({ limit: 1.5 })).rejects.toThrow(/limit/);
    await expect(app.workflows({ before: 'yesterday' })).rejects.toThrow(/before/);
  });
});
