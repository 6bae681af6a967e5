import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createControlPlane, Mailbox, type CommandHandlers } from '../../src/control-plane/index.js';
import { controlChannel, replyChannel } from '../../src/keys.js';
import { ChannelSubscriber } from '../../src/subscriber.js';
import { RateLimitedLog } from '../../src/logger.js';
import { connect, freePort, recordingLogger, redisUrl, startRedisOn, testPrefix, testSubscriber } from './helpers.js';

/** A mailbox on its own connections, as a separate process would have. */
function mailboxOn(redis: Redis, prefix: string, logger = recordingLogger()): Mailbox {
  return new Mailbox({ redis, subscriber: testSubscriber(redis, logger), prefix, logger });
}

function mailbox(prefix: string, options: { logger?: ReturnType<typeof recordingLogger> } = {}): Mailbox {
  return mailboxOn(connect(), prefix, options.logger);
}

const pong: CommandHandlers = { ping: () => ({ ok: 'pong' }) };

describe('mailbox', () => {
  it('collects one reply per worker, keyed by name, as soon as every expected worker answered', async () => {
    const prefix = testPrefix();
    await Promise.all([mailbox(prefix).serve('w1@h', pong).ready, mailbox(prefix).serve('w2@h', pong).ready]);
    const started = Date.now();
    const replies = await mailbox(prefix).broadcast('ping', {}, { timeout: 5_000, expected: ['w1@h', 'w2@h'] });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(Object.fromEntries(replies)).toStrictEqual({
      'w1@h': { ok: true, value: { ok: 'pong' } },
      'w2@h': { ok: true, value: { ok: 'pong' } },
    });
  });

  it('waits for the whole timeout when it does not know whom to expect', async () => {
    const prefix = testPrefix();
    await mailbox(prefix).serve('w1@h', pong).ready;
    const started = Date.now();
    const replies = await mailbox(prefix).broadcast('ping', {}, { timeout: 400 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect([...replies.keys()]).toStrictEqual(['w1@h']);
  });

  it('reaches only the workers named in the destination', async () => {
    const prefix = testPrefix();
    const calls: string[] = [];
    const serve = (name: string) => mailbox(prefix).serve(name, { ping: () => (calls.push(name), { ok: 'pong' }) }).ready;
    await Promise.all([serve('w1@h'), serve('w2@h'), serve('w3@h')]);
    const replies = await mailbox(prefix).broadcast('ping', {}, { destination: ['w2@h', 'w3@h'], timeout: 5_000 });
    expect([...replies.keys()].sort()).toStrictEqual(['w2@h', 'w3@h']);
    // A last broadcast to w1 only, after which w1 would have handled the earlier one too.
    await mailbox(prefix).broadcast('ping', {}, { destination: 'w1@h', timeout: 5_000 });
    expect(calls.sort()).toStrictEqual(['w1@h', 'w2@h', 'w3@h']);
  });

  it('sends no reply for a command sent with reply: false', async () => {
    const prefix = testPrefix();
    let ran = 0;
    await mailbox(prefix).serve('w1@h', { note: () => (ran++, 'done'), ...pong }).ready;
    const watcher = connect();
    const seen: string[] = [];
    watcher.on('pmessage', (_pattern: string, channel: string) => seen.push(channel));
    await watcher.psubscribe(`${prefix}:control:reply:*`);
    expect((await mailbox(prefix).broadcast('note', {}, { reply: false })).size).toBe(0);
    await expect.poll(() => ran, { timeout: 5_000 }).toBe(1);
    // The worker answers the ping after the first command, so a reply to that one would arrive first.
    await mailbox(prefix).broadcast('ping', {}, { destination: 'w1@h', timeout: 5_000 });
    await expect.poll(() => seen.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    expect(seen).toHaveLength(1);
  });

  it('replies with the name and message of what a handler threw, and refuses unknown commands', async () => {
    const prefix = testPrefix();
    await mailbox(prefix).serve('w1@h', {
      fail: () => {
        throw new RangeError('out of range');
      },
      reject: () => Promise.reject(new Error('async failure')),
      odd: () => {
        throw 42;
      },
    }).ready;
    const client = mailbox(prefix);
    const ask = async (command: string) => (await client.broadcast(command, {}, { destination: 'w1@h', timeout: 5_000 })).get('w1@h');
    expect(await ask('fail')).toStrictEqual({ ok: false, error: { name: 'RangeError', message: 'out of range' } });
    expect(await ask('reject')).toStrictEqual({ ok: false, error: { name: 'Error', message: 'async failure' } });
    expect(await ask('odd')).toStrictEqual({ ok: false, error: { name: 'NonErrorThrown', message: '42' } });
    for (const unknown of ['nope', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(await ask(unknown)).toStrictEqual({
        ok: false,
        error: { name: 'UnknownCommandError', message: `unknown control command "${unknown}"; this worker serves: fail, odd, reject` },
      });
    }
  });

  it('drops garbage, null, wrong shapes and huge messages on the control channel, logging once, and still answers', async () => {
    const prefix = testPrefix();
    const logger = recordingLogger();
    const ran: unknown[] = [];
    await mailbox(prefix, { logger }).serve('w1@h', { ...pong, revoke: (args) => void ran.push(args) }).ready;
    const raw = connect();
    const valid = { celeriac: 'control', v: 1, id: 'abc', command: 'ping', args: {}, destination: null, reply: true, sentAt: 1 };
    const hostile = [
      'not json at all',
      'null',
      '[]',
      '"a string"',
      '42',
      '{"type":"revoke","ids":5}',
      '{"type":"revoke"}',
      '{"type":"revoke","ids":["x"],"terminate":"yes"}',
      '{"type":"revoke","ids":[{"toString":1}],"terminate":true}',
      JSON.stringify({ ...valid, v: 2 }),
      JSON.stringify({ ...valid, id: '../../wf:{victim}:events' }),
      JSON.stringify({ ...valid, destination: 'w1@h' }),
      JSON.stringify({ ...valid, destination: [7] }),
      JSON.stringify({ ...valid, command: '' }),
      JSON.stringify({ ...valid, reply: 'yes' }),
      '{"__proto__":{"polluted":true},"celeriac":"control"}',
      'x'.repeat(2 << 20),
      JSON.stringify({ ...valid, args: 'y'.repeat(2 << 20) }),
      '{"celeriac":"control","v":1,"id":"a"' + ',"x":['.repeat(10_000),
    ];
    const client = mailbox(prefix);
    // Each hostile message, then a well-formed command: every one of those is answered.
    for (const message of hostile) {
      await raw.publish(controlChannel(prefix), message);
      const [replies] = await Promise.all([
        client.broadcast('ping', {}, { destination: 'w1@h', timeout: 5_000 }),
        raw.publish(controlChannel(prefix), message),
      ]);
      expect(replies.get('w1@h')).toStrictEqual({ ok: true, value: { ok: 'pong' } });
    }
    expect(ran).toStrictEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const dropped = logger.lines.filter((line) => line.includes('dropped'));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatch(/^warn: control: dropped a /);
  });

  it('drops forged and malformed replies, keeping the well-formed ones', async () => {
    const prefix = testPrefix();
    const forger = connect();
    // This worker publishes garbage on the request's reply channel before its real reply.
    await mailbox(prefix).serve('w1@h', {
      ping: async (_args, request) => {
        const channel = replyChannel(prefix, request.id);
        const reply = { celeriac: 'reply', v: 1, id: request.id, worker: 'w1@h', ok: true, value: 'forged' };
        for (const message of [
          'garbage',
          'null',
          JSON.stringify({ ...reply, id: 'another-request' }),
          JSON.stringify({ ...reply, worker: '' }),
          JSON.stringify({ ...reply, ok: false }),
          JSON.stringify({ ...reply, ok: false, error: { name: 1, message: 'x' } }),
          'z'.repeat(17 << 20),
        ]) {
          await forger.publish(channel, message);
        }
        await forger.publish(channel, JSON.stringify({ ...reply, worker: '__proto__', value: { polluted: true } }));
        return { ok: 'pong' };
      },
    }).ready;
    const logger = recordingLogger();
    const replies = await mailbox(prefix, { logger }).broadcast('ping', {}, { destination: ['w1@h', '__proto__'], timeout: 5_000 });
    expect(replies.get('w1@h')).toStrictEqual({ ok: true, value: { ok: 'pong' } });
    expect(replies.get('__proto__')).toStrictEqual({ ok: true, value: { polluted: true } });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(logger.lines.filter((line) => line.includes('dropped'))).toHaveLength(1);
  });

  it('answers once Redis comes up, when the worker started while Redis was down, and again after Redis restarts', async () => {
    const prefix = testPrefix();
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    // A connection that fails commands after one retry makes the failed-SUBSCRIBE case (the bug of
    // issue #13) happen within this test; with ioredis's default of 20 retries it takes ~20 s.
    const worker = mailboxOn(connect(url, { maxRetriesPerRequest: 1 }), prefix);
    const served = worker.serve('w1@h', pong);
    let ready = false;
    served.ready.then(() => (ready = true), () => {});
    // Long enough for ioredis's first attempts (and a first failed SUBSCRIBE) to have happened.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ready).toBe(false);

    const redis = await startRedisOn(port);
    await served.ready;
    const ask = async (): Promise<unknown> => {
      const redis = connect(url);
      const subscriber = new ChannelSubscriber(redis, new RateLimitedLog(recordingLogger()));
      const client = new Mailbox({ redis, subscriber, prefix, logger: recordingLogger() });
      try {
        return (await client.broadcast('ping', {}, { destination: 'w1@h', timeout: 1_000 })).get('w1@h');
      } finally {
        await subscriber.close();
      }
    };
    expect(await ask()).toStrictEqual({ ok: true, value: { ok: 'pong' } });

    await redis.stop();
    await startRedisOn(port);
    await expect.poll(ask, { timeout: 15_000, interval: 200 }).toStrictEqual({ ok: true, value: { ok: 'pong' } });
  });

  it('rejects with ControlTimeoutError, within the timeout, when Redis is unreachable', async () => {
    const prefix = testPrefix();
    const client = mailboxOn(connect(`redis://127.0.0.1:${await freePort()}`), prefix);
    const started = Date.now();
    await expect(client.broadcast('ping', {}, { timeout: 300 })).rejects.toMatchObject({ name: 'ControlTimeoutError', code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a bad destination or timeout before sending anything', async () => {
    const client = mailbox(testPrefix());
    await expect(client.broadcast('ping', {}, { destination: [] })).rejects.toMatchObject({ name: 'ControlArgumentError', argument: 'destination' });
    await expect(client.broadcast('ping', {}, { destination: ['ok', ''] })).rejects.toMatchObject({ argument: 'destination[1]' });
    await expect(client.broadcast('ping', {}, { timeout: -1 })).rejects.toMatchObject({ argument: 'timeout' });
  });

  it('opens one command and one subscriber connection for a caller, and closes the subscriber', async () => {
    const name = `cli-${randomUUID()}`;
    const admin = connect();
    const count = async () => String(await admin.client('LIST')).split('\n').filter((line) => line.includes(` name=${name} `)).length;
    const prefix = testPrefix();
    await mailbox(prefix).serve('w1@h', pong).ready;
    const base = new Redis(redisUrl(), { connectionName: name });
    const subscriber = new ChannelSubscriber(base, new RateLimitedLog(recordingLogger()));
    const plane = createControlPlane({ redis: base, subscriber, prefix, logger: recordingLogger() });
    await plane.control.inspect().ping();
    await plane.control.workers();
    await plane.events.history();
    expect(await count()).toBe(2);
    await subscriber.close();
    await base.quit();
    await expect.poll(count, { timeout: 5_000 }).toBe(0);
  });
});
