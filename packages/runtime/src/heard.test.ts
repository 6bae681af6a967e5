import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeardSinceApply } from './heard.js';
import { eventsChannelReader, workflowKeys } from './keys.js';
import type { ChannelSubscriber, PatternListener } from './subscriber.js';

const PATTERN = 'app:*';
const channelOf = (workflowId: string): string => workflowKeys('app', workflowId).events;

/** A subscriber whose pattern is confirmed, recording its pattern listeners and how often they were closed. */
function fakeSubscriber() {
  const listeners = new Set<PatternListener>();
  const lost = new Set<() => void>();
  let opened = 0;
  let closed = 0;
  const subscriber = {
    confirmed: (pattern: string) => pattern === PATTERN,
    listenPattern: (_pattern: string, listener: PatternListener, onLost: () => void) => {
      opened++;
      listeners.add(listener);
      lost.add(onLost);
      return {
        close: () => {
          closed++;
          listeners.delete(listener);
          lost.delete(onLost);
        },
      };
    },
  } as unknown as ChannelSubscriber;
  const publish = (channel: string, message: string): void => {
    for (const listener of listeners) listener(channel, message);
  };
  const loseMessages = (): void => {
    for (const callback of lost) callback();
  };
  return { subscriber, publish, loseMessages, counts: () => ({ opened, closed, listening: listeners.size }) };
}

function heardWith(fake: ReturnType<typeof fakeSubscriber>, limits?: { keepMs: number; maxFollowed: number }): HeardSinceApply {
  return new HeardSinceApply(fake.subscriber, PATTERN, eventsChannelReader('app'), limits);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('HeardSinceApply', () => {
  it('records the indices announced on a followed workflow, through one listener on the pattern', () => {
    const fake = fakeSubscriber();
    const heard = heardWith(fake);
    heard.follow('w1');
    heard.follow('w2');
    fake.publish(channelOf('w1'), '0:SUCCESS');
    fake.publish(channelOf('w1'), '3:FAILURE');
    fake.publish(channelOf('w1'), 'not an announcement');
    fake.publish(channelOf('w9'), '1:SUCCESS'); // a workflow this app did not apply
    fake.publish('app:control', '1:SUCCESS'); // not a workflow's channel
    expect(heard.heard('w1')).toMatchObject({ complete: true, announced: new Set([0, 3]) });
    expect(heard.heard('w2')).toMatchObject({ complete: true, announced: new Set() });
    expect(heard.heard('w9')).toBeUndefined();
    expect(fake.counts()).toEqual({ opened: 1, closed: 0, listening: 1 });
  });

  it("follows nothing when the app has no pattern subscription (resultSubscription: 'result')", () => {
    const fake = fakeSubscriber();
    const heard = new HeardSinceApply(fake.subscriber, undefined, eventsChannelReader('app'));
    heard.follow('w1');
    fake.publish(channelOf('w1'), '0:SUCCESS');
    expect(heard.heard('w1')).toBeUndefined();
    expect(fake.counts().opened).toBe(0);
  });

  it('vouches for nothing once messages may have been lost', () => {
    const fake = fakeSubscriber();
    const heard = heardWith(fake);
    heard.follow('w1');
    heard.follow('w2');
    fake.publish(channelOf('w1'), '0:SUCCESS');
    fake.loseMessages();
    fake.publish(channelOf('w2'), '0:SUCCESS');
    expect(heard.heard('w1')?.complete).toBe(false);
    expect(heard.heard('w2')).toMatchObject({ complete: false, announced: new Set() });
  });

  it('gives up on a workflow with more announcements than it keeps', () => {
    const fake = fakeSubscriber();
    const heard = heardWith(fake);
    heard.follow('big');
    for (let i = 0; i <= 1_000; i++) fake.publish(channelOf('big'), `${i}:SUCCESS`);
    expect(heard.heard('big')).toMatchObject({ complete: false, announced: new Set() });
  });

  it('drops the oldest workflows first beyond its limit', () => {
    const fake = fakeSubscriber();
    const heard = heardWith(fake, { keepMs: 60_000, maxFollowed: 3 });
    for (let k = 1; k <= 5; k++) heard.follow(`w${k}`);
    expect(['w1', 'w2', 'w3', 'w4', 'w5'].map((id) => heard.heard(id) !== undefined)).toEqual([false, false, true, true, true]);
  });

  it('keeps dropping in order across many more workflows than it holds', () => {
    const fake = fakeSubscriber();
    const heard = heardWith(fake, { keepMs: 60_000, maxFollowed: 10 });
    const count = 5_000; // past the point where the queue of ids forgets the dropped ones
    for (let k = 0; k < count; k++) heard.follow(`w${k}`);
    expect(heard.heard(`w${count - 11}`)).toBeUndefined();
    for (let k = count - 10; k < count; k++) expect(heard.heard(`w${k}`)).toBeDefined();
    expect(fake.counts()).toEqual({ opened: 1, closed: 0, listening: 1 });
  });

  it('forgets a workflow once it has been followed for longer than it keeps them, and lets the pattern go with the last', () => {
    vi.useFakeTimers();
    const fake = fakeSubscriber();
    const heard = heardWith(fake, { keepMs: 1_000, maxFollowed: 100 });
    heard.follow('old');
    vi.advanceTimersByTime(1_001);
    expect(heard.heard('old')).toBeUndefined();
    heard.follow('new');
    expect(heard.heard('new')).toBeDefined();
    // The old one was dropped before the new one was followed: nothing was followed in between.
    expect(fake.counts()).toEqual({ opened: 2, closed: 1, listening: 1 });
    heard.close();
    expect(fake.counts().listening).toBe(0);
  });

  it('follows nothing while the pattern is not confirmed', () => {
    const fake = fakeSubscriber();
    const heard = new HeardSinceApply(fake.subscriber, 'another:*', eventsChannelReader('app'));
    heard.follow('w1');
    expect(heard.heard('w1')).toBeUndefined();
  });
});

describe('eventsChannelReader', () => {
  it("reads back the workflow of its app's events channels, and nothing else", () => {
    const read = eventsChannelReader('app');
    for (const id of ['5b0c4f3e-8d1a-4c57-9d8e-2f0a6a1b9c3d', 'a{b}c', 'x}:events']) expect(read(workflowKeys('app', id).events)).toBe(id);
    expect(read(workflowKeys('other', 'w1').events)).toBeUndefined();
    expect(read(workflowKeys('app', 'w1').state)).toBeUndefined();
    expect(read('app:wf:{}:events')).toBeUndefined();
    expect(read('app:control')).toBeUndefined();
  });
});
