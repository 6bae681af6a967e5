import { describe, expect, it } from 'vitest';
import type { Envelope } from './envelope.js';
import { LocalOutcomes } from './local-outcomes.js';

const success = (value: unknown): string => JSON.stringify({ s: 'SUCCESS', d: 1, v: value });
/** Lets the hand-over, queued with process.nextTick, run. */
const handedOver = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('LocalOutcomes', () => {
  it("hands a recorded outcome to the node's waiters only, each its own copy, once this moment's promises ran", async () => {
    const local = new LocalOutcomes();
    const first: Envelope[] = [];
    const second: Envelope[] = [];
    const other: Envelope[] = [];
    local.watch('w', 0, (envelope) => first.push(envelope));
    local.watch('w', 0, (envelope) => second.push(envelope));
    local.watch('w', 1, (envelope) => other.push(envelope));
    local.recorded('w', 0, success({ list: [1, 2] }));
    await Promise.resolve();
    expect(first).toEqual([]); // the worker's own continuations come first
    await handedOver();
    expect(first).toEqual([{ state: 'SUCCESS', value: { list: [1, 2] }, doneAt: 1 }]);
    expect(second).toEqual(first);
    expect((second[0] as { value: unknown }).value).not.toBe((first[0] as { value: unknown }).value);
    expect(other).toEqual([]);
  });

  it('stops handing over once a waiter stops, and keeps nothing for nodes no one waits for', async () => {
    const local = new LocalOutcomes();
    const heard: Envelope[] = [];
    const stop = local.watch('w', 0, (envelope) => heard.push(envelope));
    local.recorded('w', 0, success(1));
    stop(); // before the hand-over: the waiter ended another way
    stop(); // twice is harmless
    local.recorded('w', 0, success(2));
    await handedOver();
    expect(heard).toEqual([]);
    expect((local as unknown as { listeners: Map<string, unknown> }).listeners.size).toBe(0);
  });

  it('decodes nothing when no one waits', () => {
    const local = new LocalOutcomes();
    // Not an envelope: decoding it would throw.
    expect(() => local.recorded('w', 0, 'not json')).not.toThrow();
  });
});
