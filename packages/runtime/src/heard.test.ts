import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeardSinceApply } from './heard.js';
import type { ChannelSubscriber, MessageListener } from './subscriber.js';

const PATTERN = 'app:wf:*';

/** A subscriber whose pattern is confirmed, recording each channel's listeners and closed subscriptions. */
function fakeSubscriber() {
  const listeners = new Map<string, MessageListener>();
  const closed: string[] = [];
  const subscriber = {
    confirmed: (pattern: string) => pattern === PATTERN,
    listen: (channel: string, listener: MessageListener) => {
      listeners.set(channel, listener);
      return { ready: Promise.resolve(), close: () => closed.push(channel) };
    },
  } as unknown as ChannelSubscriber;
  const publish = (channel: string, message: string): void => listeners.get(channel)?.(message);
  return { subscriber, publish, closed };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('HeardSinceApply', () => {
  it('records the indices announced on a followed workflow', () => {
    const { subscriber, publish } = fakeSubscriber();
    const heard = new HeardSinceApply(subscriber, PATTERN);
    heard.follow('w1', 'ch:w1');
    publish('ch:w1', '0:SUCCESS');
    publish('ch:w1', '3:FAILURE');
    publish('ch:w1', 'not an announcement');
    expect(heard.heard('w1')).toMatchObject({ complete: true, announced: new Set([0, 3]) });
    expect(heard.heard('w2')).toBeUndefined();
  });

  it("follows nothing when the app has no pattern subscription (resultSubscription: 'result')", () => {
    const { subscriber, publish } = fakeSubscriber();
    const heard = new HeardSinceApply(subscriber, undefined);
    heard.follow('w1', 'ch:w1');
    publish('ch:w1', '0:SUCCESS');
    expect(heard.heard('w1')).toBeUndefined();
  });

  it('drops the oldest workflows first beyond its limit, closing their subscriptions', () => {
    const { subscriber, closed } = fakeSubscriber();
    const heard = new HeardSinceApply(subscriber, PATTERN, { keepMs: 60_000, maxFollowed: 3 });
    for (let k = 1; k <= 5; k++) heard.follow(`w${k}`, `ch:w${k}`);
    expect(closed).toEqual(['ch:w1', 'ch:w2']);
    expect(['w1', 'w2', 'w3', 'w4', 'w5'].map((id) => heard.heard(id) !== undefined)).toEqual([false, false, true, true, true]);
  });

  it('keeps dropping in order across many more workflows than it holds', () => {
    const { subscriber, closed } = fakeSubscriber();
    const heard = new HeardSinceApply(subscriber, PATTERN, { keepMs: 60_000, maxFollowed: 10 });
    const count = 5_000; // past the point where the queue of ids forgets the dropped ones
    for (let k = 0; k < count; k++) heard.follow(`w${k}`, `ch:w${k}`);
    expect(closed).toEqual(Array.from({ length: count - 10 }, (_, k) => `ch:w${k}`));
    expect(heard.heard(`w${count - 11}`)).toBeUndefined();
    for (let k = count - 10; k < count; k++) expect(heard.heard(`w${k}`)).toBeDefined();
  });

  it('forgets a workflow once it has been followed for longer than it keeps them', () => {
    vi.useFakeTimers();
    const { subscriber, closed } = fakeSubscriber();
    const heard = new HeardSinceApply(subscriber, PATTERN, { keepMs: 1_000, maxFollowed: 100 });
    heard.follow('old', 'ch:old');
    vi.advanceTimersByTime(1_001);
    expect(heard.heard('old')).toBeUndefined();
    heard.follow('new', 'ch:new');
    expect(closed).toEqual(['ch:old']);
    expect(heard.heard('new')).toBeDefined();
  });

  it('follows nothing while the pattern is not confirmed', () => {
    const { subscriber } = fakeSubscriber();
    const heard = new HeardSinceApply(subscriber, 'another:*');
    heard.follow('w1', 'ch:w1');
    expect(heard.heard('w1')).toBeUndefined();
  });
});
