/**
 * The subscriber's listeners of a whole pattern (`listenPattern`), as heard.ts uses them: every
 * message on a matching channel reaches them through the pattern's one PSUBSCRIBE, which they hold
 * like a channel does, and they are told when messages may have been lost.
 */
import { describe, expect, it } from 'vitest';
import { connect, freePort, redisUrl, startRedisOn, testPrefix, testSubscriber } from './control-plane/helpers.js';

/** Polls `check` until it holds (at most five seconds). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ChannelSubscriber.listenPattern', () => {
  it('delivers every matching channel with its name, beside the channels riding the same pattern, on one PSUBSCRIBE', async () => {
    const admin = connect(redisUrl());
    const patterns = async (): Promise<number> => Number(await admin.call('PUBSUB', 'NUMPAT'));
    const before = await patterns();
    const redis = connect();
    const subscriber = testSubscriber(redis);
    const prefix = testPrefix();
    const pattern = `${prefix}:*`;
    const heard: string[] = [];
    const perChannel: string[] = [];
    const all = subscriber.listenPattern(pattern, (channel, message) => heard.push(`${channel} ${message}`), () => {});
    const one = subscriber.listen(`${prefix}:a`, (message) => perChannel.push(message), undefined, pattern);
    await until(() => subscriber.confirmed(pattern), 'the pattern to be confirmed');
    await one.ready;
    expect(await patterns()).toBe(before + 1);
    await admin.publish(`${prefix}:a`, 'one');
    await admin.publish(`${prefix}:b`, 'two');
    await admin.publish('elsewhere:c', 'three');
    await until(() => heard.length === 2 && perChannel.length === 1, 'the messages');
    expect(heard).toEqual([`${prefix}:a one`, `${prefix}:b two`]);
    expect(perChannel).toEqual(['one']);

    // Closing the pattern's listener leaves the channel's: the pattern is still held for it.
    all.close();
    await admin.publish(`${prefix}:a`, 'four');
    await until(() => perChannel.length === 2, 'the channel listener');
    expect(heard).toHaveLength(2);
    expect(subscriber.confirmed(pattern)).toBe(true);
    one.close();
  });

  it('says messages may have been lost when the pattern is subscribed again after Redis came back', async () => {
    const port = await freePort();
    const own = await startRedisOn(port);
    const redis = connect(own.url);
    const subscriber = testSubscriber(redis);
    const pattern = 'app:*';
    let lost = 0;
    const heard: string[] = [];
    subscriber.listenPattern(pattern, (channel, message) => heard.push(`${channel} ${message}`), () => lost++);
    await until(() => subscriber.confirmed(pattern), 'the pattern to be confirmed');
    expect(lost).toBe(0);

    await own.stop();
    await until(() => !subscriber.confirmed(pattern), 'the subscriber to notice');
    const again = await startRedisOn(port);
    await until(() => subscriber.confirmed(pattern), 'the pattern to be confirmed again');
    expect(lost).toBe(1);
    const admin = connect(again.url);
    await admin.publish('app:x', 'after');
    await until(() => heard.length === 1, 'a message after the restart');
    expect(heard).toEqual(['app:x after']);
  });
});
