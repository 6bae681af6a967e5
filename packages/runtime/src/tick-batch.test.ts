import { describe, expect, it } from 'vitest';
import { TickBatcher } from './tick-batch.js';

/**
 * A batcher that doubles numbers, recording each batch it sends; its first send fails with `fail`
 * when given, and a negative number is an item that fails alone.
 */
function doubler(fail?: Error, maxItems?: number) {
  const sent: [string, number[]][] = [];
  const batcher = new TickBatcher<number, number, number>(
    async (key, items) => {
      sent.push([key, [...items]]);
      if (fail !== undefined && sent.length === 1) throw fail;
      return items.map((item) => item * 2);
    },
    (_item, reply) => {
      if (reply < 0) throw new RangeError(`bad reply ${reply}`);
      return reply;
    },
    maxItems,
  );
  return { batcher, sent };
}

describe('TickBatcher', () => {
  it('sends the calls of one moment as one batch per key, in the order they were made', async () => {
    const { batcher, sent } = doubler();
    const results = await Promise.all([batcher.add('a', 1), batcher.add('b', 10), batcher.add('a', 2), batcher.add('a', 3)]);
    expect(results).toEqual([2, 20, 4, 6]);
    expect(sent).toEqual([
      ['a', [1, 2, 3]],
      ['b', [10]],
    ]);
  });

  it('gathers calls made by continuations resumed in the same moment, and no later ones', async () => {
    const { batcher, sent } = doubler();
    const resumed = Promise.resolve();
    const first = Promise.all([1, 2, 3].map((n) => resumed.then(() => batcher.add('a', n))));
    expect(await first).toEqual([2, 4, 6]);
    expect(await batcher.add('a', 4)).toBe(8);
    expect(sent).toEqual([
      ['a', [1, 2, 3]],
      ['a', [4]],
    ]);
  });

  it('rejects only the item whose reply cannot be used', async () => {
    const { batcher } = doubler();
    const results = await Promise.allSettled([batcher.add('a', 1), batcher.add('a', -1), batcher.add('a', 3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(RangeError);
  });

  it('splits a batch larger than its limit into requests of at most that many items, in order', async () => {
    const { batcher, sent } = doubler(undefined, 2);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add('a', n)));
    expect(results).toEqual([2, 4, 6, 8, 10]);
    expect(sent).toEqual([
      ['a', [1, 2]],
      ['a', [3, 4]],
      ['a', [5]],
    ]);
  });

  it('rejects every item of a batch whose request failed, and the next batch goes on', async () => {
    const down = new Error('connection lost');
    const { batcher, sent } = doubler(down);
    const results = await Promise.allSettled([batcher.add('a', 1), batcher.add('a', 2)]);
    expect(results).toEqual([
      { status: 'rejected', reason: down },
      { status: 'rejected', reason: down },
    ]);
    expect(await batcher.add('a', 5)).toBe(10);
    expect(sent).toEqual([
      ['a', [1, 2]],
      ['a', [5]],
    ]);
  });
});
