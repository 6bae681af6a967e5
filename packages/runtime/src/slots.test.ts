import { describe, expect, it } from 'vitest';
import { Slots } from './slots.js';

/** A task that records when it starts and ends when `finish` is called. */
function gate(log: string[], name: string): { task: () => Promise<string>; finish: () => void; fail: (error: Error) => void } {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return {
    task: async () => {
      log.push(`start ${name}`);
      await done;
      return name;
    },
    finish,
    fail,
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Slots', () => {
  it('starts a task in the caller’s turn when a slot is free', () => {
    const log: string[] = [];
    const slots = new Slots(2);
    void slots.run(gate(log, 'a').task);
    // No await: the task has already started.
    expect(log).toEqual(['start a']);
  });

  it('runs at most size tasks at once, the waiting ones in the order they asked', async () => {
    const log: string[] = [];
    const slots = new Slots(2);
    const gates = ['a', 'b', 'c', 'd'].map((name) => gate(log, name));
    const results = gates.map((g) => slots.run(g.task));
    await turn();
    expect(log).toEqual(['start a', 'start b']);
    gates[1]!.finish();
    await turn();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    gates[0]!.finish();
    gates[2]!.finish();
    gates[3]!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
    expect(log).toEqual(['start a', 'start b', 'start c', 'start d']);
  });

  it('gives the slot of a task that fails on, and the caller gets its error', async () => {
    const log: string[] = [];
    const slots = new Slots(1);
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const first = slots.run(a.task);
    const second = slots.run(b.task);
    a.fail(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await turn();
    expect(log).toEqual(['start a', 'start b']);
    b.finish();
    expect(await second).toBe('b');
    // A task that throws before its first await frees its slot too.
    await expect(
      slots.run(() => {
        throw new Error('at once');
      }),
    ).rejects.toThrow('at once');
    expect(await slots.run(async () => 'after')).toBe('after');
  });

  it('starts waiting tasks when it grows, and lets running ones finish when it shrinks', async () => {
    const log: string[] = [];
    const slots = new Slots(1);
    const gates = ['a', 'b', 'c', 'd'].map((name) => gate(log, name));
    const results = gates.map((g) => slots.run(g.task));
    slots.resize(3);
    await turn();
    expect(log).toEqual(['start a', 'start b', 'start c']);
    slots.resize(1);
    gates[0]!.finish();
    gates[1]!.finish();
    await turn();
    // Two of three ended, but one slot is left and c still holds it.
    expect(log).toEqual(['start a', 'start b', 'start c']);
    gates[2]!.finish();
    await turn();
    expect(log).toEqual(['start a', 'start b', 'start c', 'start d']);
    gates[3]!.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd']);
  });
});
