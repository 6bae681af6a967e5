import { describe, expect, it } from 'vitest';
import type { Envelope } from './envelope.js';
import { LocalOutcomes, type OutcomeWatcher } from './local-outcomes.js';

const success = (value: unknown): string => JSON.stringify({ s: 'SUCCESS', d: 1, v: value });
/** A watcher that keeps what it is handed in `into`. */
const keeper = (into: (Envelope | undefined)[]): OutcomeWatcher => ({ handed: (envelope) => into.push(envelope) });
/** Lets the hand-over, queued with process.nextTick, run. */
const handedOver = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));

describe('LocalOutcomes', () => {
  it("hands a recorded outcome to the node's waiters only, each its own copy, once this moment's promises ran", async () => {
    const local = new LocalOutcomes();
    const first: (Envelope | undefined)[] = [];
    const second: (Envelope | undefined)[] = [];
    const other: (Envelope | undefined)[] = [];
    local.watch('w', 0, keeper(first));
    local.watch('w', 0, keeper(second));
    local.watch('w', 1, keeper(other));
    local.recording('w', 0)(success({ list: [1, 2] }));
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
    const heard: (Envelope | undefined)[] = [];
    const watcher = keeper(heard);
    local.watch('w', 0, watcher);
    local.watch('w', 0, watcher); // twice is harmless
    local.recording('w', 0)(success(1));
    local.unwatch('w', 0, watcher); // before the hand-over: the waiter ended another way
    local.unwatch('w', 0, watcher); // twice is harmless
    local.recording('w', 0)(success(2));
    await handedOver();
    expect(heard).toEqual([]);
    expect((local as unknown as { watchers: { size: number } }).watchers.size).toBe(0);
  });

  it('decodes nothing when no one waits', () => {
    const local = new LocalOutcomes();
    // Not an envelope: decoding it would throw.
    expect(() => local.recording('w', 0)('not json')).not.toThrow();
  });

  it('knows which nodes it is recording until each recording settles, and a recording that records nothing tells the waiters to read', async () => {
    const local = new LocalOutcomes();
    const heard: (Envelope | undefined)[] = [];
    local.watch('w', 0, keeper(heard));
    expect(local.isRecording('w', 0)).toBe(false);
    const first = local.recording('w', 0);
    const duplicate = local.recording('w', 0); // the same job delivered twice to this app's workers
    expect(local.isRecording('w', 0)).toBe(true);
    expect(local.isRecording('w', 1)).toBe(false);
    duplicate(undefined); // ALREADY_RECORDED, or an error: nothing recorded by this one
    expect(local.isRecording('w', 0)).toBe(true);
    first(success(3));
    expect(local.isRecording('w', 0)).toBe(false);
    await handedOver();
    expect(heard).toEqual([undefined, { state: 'SUCCESS', value: 3, doneAt: 1 }]);
  });
});
