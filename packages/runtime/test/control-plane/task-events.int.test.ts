import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Presence,
  TaskEventReader,
  TaskEventWriter,
  type StoredTaskEvent,
  type TaskEventInput,
} from '../../src/control-plane/index.js';
import { taskEventsKey } from '../../src/keys.js';
import { connect, freePort, recordingLogger, redisUrl, testPrefix } from './helpers.js';

function writer(prefix: string, worker = 'w1@h', options: { maxLength?: number; logger?: ReturnType<typeof recordingLogger> } = {}): TaskEventWriter {
  return new TaskEventWriter({ redis: connect(), prefix, worker, logger: options.logger ?? recordingLogger(), ...(options.maxLength === undefined ? {} : { maxLength: options.maxLength }) });
}

function reader(prefix: string, logger = recordingLogger()): TaskEventReader {
  return new TaskEventReader({ redis: connect(), prefix, logger });
}

const started = (taskId: string): TaskEventInput => ({ type: 'task-started', taskId, name: 'add' });

/** A reader whose connections carry a client name, and ways to see them in CLIENT LIST. */
function namedReader(prefix: string, logger = recordingLogger()) {
  const name = `reader-${randomUUID()}`;
  const admin = connect();
  const clients = async () => String(await admin.client('LIST')).split('\n').filter((line) => line.includes(` name=${name} `));
  return {
    reader: new TaskEventReader({ redis: connect(redisUrl(), { connectionName: name }), prefix, logger }),
    /** Connections open under the name (the reader's own, plus one per tail). */
    count: async () => (await clients()).length,
    /** Resolves once a tail is blocked in XREAD, so what is written next is "live". */
    blocked: () => expect.poll(async () => (await clients()).some((line) => line.includes(' cmd=xread')), { timeout: 5_000 }).toBe(true),
  };
}

/** Reads `count` events from a tail, then ends it. */
async function take(iterator: AsyncGenerator<StoredTaskEvent>, count: number): Promise<StoredTaskEvent[]> {
  const events: StoredTaskEvent[] = [];
  if (count === 0) return events;
  for await (const event of iterator) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

describe('task events', () => {
  it("reads back each event type with Celery's fields, newest first", async () => {
    const prefix = testPrefix();
    const events = writer(prefix);
    const failure = new TypeError('x is not a number');
    events.emit({
      type: 'task-received',
      taskId: 't1',
      name: 'add',
      args: [2, 'y'.repeat(5_000)],
      kwargs: { k: 1 },
      retries: 0,
      rootId: 't0',
      parentId: 't0',
      workflowId: 'wf',
      groupId: null,
      queue: 'default',
      eta: 1_700_000_000_000,
    });
    events.emit(started('t1'));
    events.emit({ type: 'task-succeeded', taskId: 't1', name: 'add', result: { sum: 4 }, runtime: 12.5 });
    events.emit({ type: 'task-failed', taskId: 't2', name: 'add', error: failure, runtime: 3 });
    events.emit({ type: 'task-retried', taskId: 't3', name: 'add', error: 'plain string', retries: 1 });
    events.emit({ type: 'task-revoked', taskId: 't4', name: 'add', terminated: true, expired: false });
    await events.flush();

    const { events: page, next } = await reader(prefix).history();
    expect(next).toBeNull();
    expect(page.map((event) => event.type)).toStrictEqual(['task-revoked', 'task-retried', 'task-failed', 'task-succeeded', 'task-started', 'task-received']);
    const ids = page.map((event) => event.id);
    expect([...ids].sort().reverse()).toStrictEqual(ids);
    const received = page[5]!;
    expect(received).toMatchObject({ type: 'task-received', worker: 'w1@h', pid: process.pid, taskId: 't1', name: 'add', kwargs: '{"k":1}', retries: 0, rootId: 't0', parentId: 't0', workflowId: 'wf', groupId: null, queue: 'default', eta: 1_700_000_000_000, expires: null });
    expect(received.type === 'task-received' && received.args).toHaveLength(1024);
    expect(received.type === 'task-received' && received.args.startsWith('[2,"yyy')).toBe(true);
    expect(Math.abs(received.timestamp - Date.now())).toBeLessThan(5_000);
    expect(page[3]).toMatchObject({ type: 'task-succeeded', result: '{"sum":4}', runtime: 12.5 });
    expect(page[2]).toMatchObject({ type: 'task-failed', exception: 'TypeError: x is not a number', traceback: failure.stack, runtime: 3 });
    expect(page[1]).toMatchObject({ type: 'task-retried', exception: 'NonErrorThrown: "plain string"', traceback: '', retries: 1 });
    expect(page[0]).toMatchObject({ type: 'task-revoked', terminated: true, expired: false });
  });

  it('pages through history with the stream id cursor, newest first', async () => {
    const prefix = testPrefix();
    const events = writer(prefix);
    for (let i = 0; i < 250; i++) events.emit(started(`t${i}`));
    await events.flush();
    const history = reader(prefix);
    const seen: string[] = [];
    let before: string | undefined;
    const sizes: number[] = [];
    for (;;) {
      const page = await history.history({ limit: 100, ...(before === undefined ? {} : { before }) });
      sizes.push(page.events.length);
      seen.push(...page.events.map((event) => (event.type === 'task-started' ? event.taskId : '?')));
      if (page.next === null) break;
      before = page.next;
    }
    expect(sizes).toStrictEqual([100, 100, 50]);
    expect(seen).toStrictEqual(Array.from({ length: 250 }, (_, i) => `t${249 - i}`));
  });

  it('filters by type, task and worker, and bounds the entries one call scans', async () => {
    const prefix = testPrefix();
    const [w1, w2] = [writer(prefix, 'w1@h'), writer(prefix, 'w2@h')];
    w1.emit(started('t0'));
    await w1.flush(); // the oldest entry, whatever the two connections do next
    for (let i = 1; i < 300; i++) (i % 2 === 0 ? w1 : w2).emit(started(`t${i}`));
    w1.emit({ type: 'task-failed', taskId: 't0', name: 'add', error: new Error('boom') });
    await Promise.all([w1.flush(), w2.flush()]);
    const history = reader(prefix);
    expect((await history.history({ types: ['task-failed'] })).events.map((event) => event.type)).toStrictEqual(['task-failed']);
    expect((await history.history({ taskId: 't0' })).events.map((event) => event.type)).toStrictEqual(['task-failed', 'task-started']);
    const fromW2 = await history.history({ worker: 'w2@h', limit: 1_000 });
    expect(fromW2.events).toHaveLength(150);
    expect(fromW2.events.every((event) => event.worker === 'w2@h')).toBe(true);

    // A filter that matches only the oldest entry, scanning 100 entries per call: pages come back
    // empty with a cursor until the scan reaches it.
    let page = await history.history({ taskId: 't0', types: ['task-started'], limit: 1, maxScan: 100 });
    let calls = 1;
    while (page.events.length === 0 && page.next !== null) {
      page = await history.history({ taskId: 't0', types: ['task-started'], limit: 1, maxScan: 100, before: page.next });
      calls++;
    }
    expect(page.events.map((event) => event.type === 'task-started' && event.taskId)).toStrictEqual(['t0']);
    expect(calls).toBe(4);
  });

  it('caps the stream at about its maximum length', async () => {
    const prefix = testPrefix();
    const events = writer(prefix, 'w1@h', { maxLength: 1_000 });
    for (let i = 0; i < 5_000; i++) events.emit(started(`t${i}`));
    await events.flush();
    const length = await connect().xlen(taskEventsKey(prefix));
    // MAXLEN ~ trims whole stream nodes (100 entries each by default), never below the maximum.
    expect(length).toBeGreaterThanOrEqual(1_000);
    expect(length).toBeLessThan(1_200);
    const { events: newest } = await reader(prefix).history({ limit: 1 });
    expect(newest[0]).toMatchObject({ taskId: 't4999' });
  });

  it('tails live events in order, and resumes after the last id it saw', async () => {
    const prefix = testPrefix();
    const events = writer(prefix);
    events.emit(started('before-the-tail'));
    await events.flush();
    const { reader: live, blocked } = namedReader(prefix);
    const first = take(live.tail(), 250);
    await blocked();
    // Written in bursts, between and during the tail's reads: all arrive, in order, once.
    for (let burst = 0; burst < 5; burst++) {
      for (let i = 0; i < 50; i++) events.emit(started(`live-${burst * 50 + i}`));
      await events.flush();
    }
    const tailed = await first;
    expect(tailed.map((event) => event.type === 'task-started' && event.taskId)).toStrictEqual(Array.from({ length: 250 }, (_, i) => `live-${i}`));

    for (let i = 0; i < 3; i++) events.emit(started(`after-${i}`));
    await events.flush();
    const resumed = await take(reader(prefix).tail({ after: tailed.at(-1)!.id }), 3);
    expect(resumed.map((event) => event.type === 'task-started' && event.taskId)).toStrictEqual(['after-0', 'after-1', 'after-2']);
    const replay = await take(reader(prefix).tail({ after: '0' }), 2);
    expect(replay.map((event) => event.type === 'task-started' && event.taskId)).toStrictEqual(['before-the-tail', 'live-0']);
  });

  it('ends a tail and closes its connection at once when its signal aborts', async () => {
    const { reader: events, count, blocked } = namedReader(testPrefix());
    const controller = new AbortController();
    const ended = take(events.tail({ signal: controller.signal }), 1);
    await blocked();
    expect(await count()).toBe(2); // the reader's connection and the tail's
    const abortedAt = Date.now();
    controller.abort();
    expect(await ended).toStrictEqual([]);
    expect(Date.now() - abortedAt).toBeLessThan(1_000); // not the 5 s of a blocked XREAD
    await expect.poll(count, { timeout: 5_000 }).toBe(1);
  });

  it('closes the tail connection when the consumer breaks out of the loop', async () => {
    const prefix = testPrefix();
    const events = writer(prefix);
    const { reader: tailing, count, blocked } = namedReader(prefix);
    const got = take(tailing.tail(), 1);
    await blocked();
    events.emit(started('t'));
    expect(await got).toHaveLength(1);
    await expect.poll(count, { timeout: 5_000 }).toBe(1);
  });

  it('skips entries someone wrote into the stream by hand, in history and tail alike, logging once per reader', async () => {
    const prefix = testPrefix();
    const key = taskEventsKey(prefix);
    const raw = connect();
    const events = writer(prefix);
    events.emit(started('good-1'));
    await events.flush();
    const valid = JSON.parse(JSON.stringify({ type: 'task-started', worker: 'w', timestamp: 1, pid: 1, taskId: 'x', name: 'add' })) as Record<string, unknown>;
    const garbage: string[][] = [
      ['foo', 'bar'],
      ['e', 'not json'],
      ['e', 'null'],
      ['e', '[]'],
      ['e', '{"type":"task-started"}'],
      ['e', JSON.stringify({ ...valid, type: 'task-exploded' })],
      ['e', JSON.stringify({ ...valid, pid: -1 })],
      ['e', JSON.stringify({ ...valid, taskId: 5 })],
      ['e', JSON.stringify({ ...valid, worker: 'w'.repeat(10_000) })],
      ['e', 'x'.repeat(200_000)],
      ['e', JSON.stringify(valid), 'extra', 'field'],
      ['e', '{"__proto__":{"polluted":true},"type":"task-started"}'],
    ];
    const tailLogger = recordingLogger();
    const after = (await reader(prefix).history({ limit: 1 })).events[0]!.id;
    const tailed = take(reader(prefix, tailLogger).tail({ after }), 1);
    for (const fields of garbage) await raw.xadd(key, '*', ...fields);
    events.emit(started('good-2'));
    await events.flush();
    expect((await tailed).map((event) => event.type === 'task-started' && event.taskId)).toStrictEqual(['good-2']);
    const historyLogger = recordingLogger();
    const { events: page } = await reader(prefix, historyLogger).history();
    expect(page.map((event) => event.type === 'task-started' && event.taskId)).toStrictEqual(['good-2', 'good-1']);
    expect(historyLogger.lines.filter((line) => line.includes('skipped malformed entry'))).toHaveLength(1);
    expect(tailLogger.lines.filter((line) => line.includes('skipped malformed entry'))).toHaveLength(1);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('never throws or waits on the emitting path, even with Redis down, and drops events beyond the backlog', async () => {
    const logger = recordingLogger();
    // Nothing listens there; the offline queue holds the writes.
    const redis = connect(`redis://127.0.0.1:${await freePort()}`, { maxRetriesPerRequest: null });
    const events = new TaskEventWriter({ redis, prefix: testPrefix(), worker: 'w1@h', logger, maxPending: 100 });
    const begun = performance.now();
    for (let i = 0; i < 1_000; i++) events.emit(started(`t${i}`));
    expect(performance.now() - begun).toBeLessThan(500);
    expect(logger.lines).toStrictEqual(['warn: task events: 100 events are waiting for Redis; dropping new ones until it catches up']);
    const flushed = events.flush();
    redis.disconnect(); // fails the queued writes
    await flushed;
    expect(logger.lines.some((line) => line.startsWith('warn: task events: could not write 100 event(s) to Redis'))).toBe(true);
  });

  it('emits nothing it cannot encode, and says so', async () => {
    const prefix = testPrefix();
    const logger = recordingLogger();
    const events = writer(prefix, 'w1@h', { logger });
    events.emit({ type: 'task-succeeded', taskId: 't', name: 'add', result: 1, runtime: 1n as unknown as number });
    await events.flush();
    expect(logger.lines.join('\n')).toContain('task events: could not encode a task-succeeded event');
    expect(await connect().exists(taskEventsKey(prefix))).toBe(0);
  });

  it('refuses bad history and tail options with ControlArgumentError', async () => {
    const events = reader(testPrefix());
    await expect(events.history({ limit: 0 })).rejects.toMatchObject({ name: 'ControlArgumentError', argument: 'limit' });
    await expect(events.history({ limit: 5, maxScan: 4 })).rejects.toMatchObject({ argument: 'maxScan' });
    await expect(events.history({ before: 'yesterday' })).rejects.toMatchObject({ argument: 'before' });
    await expect(events.history({ types: ['task-exploded' as never] })).rejects.toMatchObject({ argument: 'types[0]' });
    expect(() => events.tail({ after: '1-2-3' })).toThrow(/after: expected a stream id/);
  });

  it('gets worker-online, worker-heartbeat and worker-offline from presence', async () => {
    const prefix = testPrefix();
    const events = writer(prefix, 'w1@h');
    const presence = new Presence({ redis: connect(), prefix, logger: recordingLogger() });
    const membership = presence.join(
      { name: 'w1@h', app: 'proj', queues: ['default'], concurrency: 1, pool: 'async', tasks: [] },
      { interval: 50, events, live: () => ({ active: 1, processed: 7, failed: 2 }) },
    );
    await membership.ready;
    const history = reader(prefix);
    await expect.poll(async () => (await history.history({ types: ['worker-heartbeat'] })).events.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    await membership.leave();
    await events.flush();
    const types = (await history.history({ limit: 1_000 })).events.map((event) => event.type).reverse();
    expect(types[0]).toBe('worker-online');
    expect(types.at(-1)).toBe('worker-offline');
    expect(new Set(types.slice(1, -1))).toStrictEqual(new Set(['worker-heartbeat']));
    const { events: [heartbeat] } = await history.history({ types: ['worker-heartbeat'], limit: 1 });
    expect(heartbeat).toMatchObject({ worker: 'w1@h', freq: 50, swIdent: 'celeriac', swVer: '0.1.0', active: 1, processed: 7, failed: 2 });
    expect(heartbeat?.type === 'worker-heartbeat' && heartbeat.loadavg).toHaveLength(3);
  });
});
