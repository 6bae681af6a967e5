import { describe, expect, it } from 'vitest';
import type { TaskState } from './envelope.js';
import { TimeoutError } from './errors.js';
import type { WorkflowMeta } from './plan.js';
import { WorkflowView, type ResultBackend } from './result.js';

/**
 * When `WorkflowView.wait` reads: the announcements on a workflow's channel are driven by hand
 * here, at exact moments (during a read, before the last member), which a real Redis cannot pin.
 */
function harness(states: Map<number, TaskState>) {
  let deliver: (message: string) => void = () => {};
  const reads: number[][] = [];
  const backend = {
    store: { keys: (id: string) => ({ events: `events:${id}` }) },
    eventsPattern: 'events:*',
    subscriber: {
      confirmed: () => true,
      listen: (_channel: string, listener: (message: string) => void) => {
        deliver = listener;
        return { ready: Promise.resolve(), close: () => {} };
      },
    },
    heard: () => undefined,
    unavailable: () => () => {},
    guard: <T>(run: () => Promise<T>) => run(),
    log: { warn: () => {} },
  } as unknown as ResultBackend;
  const view = new WorkflowView(backend, { id: 'wf' } as WorkflowMeta);
  /** Reads `states`; `during` runs while the read is in flight (announcements that cross it). */
  let during: (() => void) | undefined;
  const read = async (indices: readonly number[]): Promise<TaskState[]> => {
    reads.push([...indices]);
    const crossing = during;
    during = undefined;
    crossing?.();
    await Promise.resolve();
    return indices.map((index) => states.get(index) ?? 'PENDING');
  };
  const wait = (leaves: readonly number[], stopOnFailure = false) =>
    view.wait(leaves, { timeout: 1_000, stopOnFailure, what: () => 'the test', read });
  const announce = (index: number, state: TaskState = 'SUCCESS'): void => {
    states.set(index, state);
    deliver(`${index}:${state}`);
  };
  return { reads, wait, announce, deliver: (message: string) => deliver(message), crossRead: (run: () => void) => (during = run) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkflowView.wait', () => {
  it('reads once every pending leaf was announced, not once per announcement', async () => {
    const { reads, wait, announce } = harness(new Map());
    const done = wait(Array.from({ length: 100 }, (_, i) => i));
    await tick();
    for (let i = 0; i < 99; i++) announce(i);
    await tick();
    expect(reads).toHaveLength(1); // the read every wait starts with
    announce(99);
    await done;
    expect(reads).toHaveLength(2);
    expect(reads[1]).toHaveLength(100);
  });

  it('finishes when a leaf announced during a read is found ready by that read', async () => {
    const states = new Map<number, TaskState>();
    const { wait, announce, crossRead } = harness(states);
    // Leaf 0 ends while the first read is in flight: the read sees it, and its announcement arrives too.
    crossRead(() => announce(0));
    const done = wait([0, 1, 2]);
    await tick();
    announce(1);
    announce(2);
    await expect(done).resolves.toBeUndefined();
  });

  it('reads at once when a failure is announced, and stops there with stopOnFailure', async () => {
    const { reads, wait, announce } = harness(new Map());
    const done = wait([0, 1, 2], true);
    await tick();
    announce(1, 'FAILURE');
    await done;
    expect(reads).toEqual([[0, 1, 2], [1]]);
  });

  it('keeps waiting on leaves a forged announcement named: the read finds them pending', async () => {
    const { reads, wait, announce, deliver } = harness(new Map());
    const done = wait([0, 1]);
    await tick();
    deliver('0:SUCCESS'); // forged: nothing was recorded
    deliver('1:SUCCESS');
    await tick();
    expect(reads).toHaveLength(2);
    announce(0);
    announce(1);
    await done;
    expect(reads).toHaveLength(3);
  });

  it('times out when the announcements never come', async () => {
    const { wait } = harness(new Map());
    await expect(wait([0])).rejects.toBeInstanceOf(TimeoutError);
  });
});
