import { describe, expect, it } from 'vitest';
import type { TaskState } from './envelope.js';
import { TimeoutError } from './errors.js';
import type { WorkflowMeta } from './plan.js';
import type { RateLimitedLog } from './logger.js';
import { WorkflowView, type ResultBackend } from './result.js';
import type { ChannelSubscriber } from './subscriber.js';
import { Waiters } from './wait.js';

/**
 * When `WorkflowView.wait` reads: the announcements on a workflow's channel are driven by hand
 * here, at exact moments (during a read, before the last member), which a real Redis cannot pin.
 * A wait hears them through the app's table of waits (`riding`) or through a subscription of its own.
 */
function harness(states: Map<number, TaskState>, riding: boolean) {
  let deliver: (message: string) => void = () => {};
  const reads: number[][] = [];
  /** Reads `states`; `during` runs while the read is in flight (announcements that cross it). */
  let during: (() => void) | undefined;
  const read = async (_workflowId: string, indices: readonly number[]): Promise<TaskState[]> => {
    reads.push([...indices]);
    const crossing = during;
    during = undefined;
    crossing?.();
    await Promise.resolve();
    return indices.map((index) => states.get(index) ?? 'PENDING');
  };
  let patternConfirmed = riding;
  let patternLost: () => void = () => {};
  const subscriber = {
    confirmed: () => patternConfirmed,
    listen: (_channel: string, listener: (message: string) => void) => {
      deliver = listener;
      return { ready: Promise.resolve(), close: () => {} };
    },
    listenPattern: (_pattern: string, listener: (channel: string, message: string) => void, lost: () => void) => {
      deliver = (message) => listener('events:wf', message);
      patternLost = lost;
      return { close: () => {} };
    },
  } as unknown as ChannelSubscriber;
  const log = { warn: () => {} } as unknown as RateLimitedLog;
  const backend = {
    store: { eventsChannel: (id: string) => `events:${id}`, states: read },
    eventsPattern: 'events:*',
    waiters: new Waiters(subscriber, 'events:*', (channel) => channel.slice('events:'.length), log),
    subscriber,
    heard: () => undefined,
    unavailable: () => {},
    stopUnavailable: () => {},
    guard: <T>(run: () => Promise<T>) => run(),
    log,
  } as unknown as ResultBackend;
  const view = new WorkflowView(backend, { id: 'wf', groups: [{ id: 'the group' }] } as unknown as WorkflowMeta);
  const wait = (leaves: readonly number[], stopOnFailure = false) => view.wait({ g: 0 }, leaves, 1_000, stopOnFailure);
  const announce = (index: number, state: TaskState = 'SUCCESS'): void => {
    states.set(index, state);
    deliver(`${index}:${state}`);
  };
  /** Redis refuses the pattern (an ACL changed while the connection was down). */
  const refuse = (): void => {
    patternConfirmed = false;
    patternLost();
  };
  return { reads, wait, announce, refuse, deliver: (message: string) => deliver(message), crossRead: (run: () => void) => (during = run) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe.each([
  ['riding the app\'s table', true],
  ['on its own subscription', false],
])('WorkflowView.wait, %s', (_, riding) => {
  it('reads once every pending leaf was announced, not once per announcement', async () => {
    const { reads, wait, announce } = harness(new Map(), riding);
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
    const { wait, announce, crossRead } = harness(states, riding);
    // Leaf 0 ends while the first read is in flight: the read sees it, and its announcement arrives too.
    crossRead(() => announce(0));
    const done = wait([0, 1, 2]);
    await tick();
    announce(1);
    announce(2);
    await expect(done).resolves.toBeUndefined();
  });

  it('reads at once when a failure is announced, and stops there with stopOnFailure', async () => {
    const { reads, wait, announce } = harness(new Map(), riding);
    const done = wait([0, 1, 2], true);
    await tick();
    announce(1, 'FAILURE');
    await done;
    expect(reads).toEqual([[0, 1, 2], [1]]);
  });

  it('keeps waiting on leaves a forged announcement named: the read finds them pending', async () => {
    const { reads, wait, announce, deliver } = harness(new Map(), riding);
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
    const { wait } = harness(new Map(), riding);
    await expect(wait([0])).rejects.toThrow(new TimeoutError('Group the group', 1_000));
  });
});

describe('Waiters', () => {
  it('moves its waits to subscriptions of their own when Redis refuses the pattern, and each reads everything once confirmed', async () => {
    const { reads, wait, announce, refuse } = harness(new Map(), true);
    const done = wait([0, 1]);
    await tick();
    expect(reads).toEqual([[0, 1]]);
    refuse();
    await tick();
    // Announcements made meanwhile were lost: the wait reads again once its own channel is confirmed.
    expect(reads).toEqual([[0, 1], [0, 1]]);
    announce(0);
    announce(1); // heard on the wait's own subscription
    await done;
    expect(reads).toEqual([[0, 1], [0, 1], [0, 1]]);
  });
});
