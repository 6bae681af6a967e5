/**
 * What observation costs: the Redis commands a task's events and a worker's heartbeat send, and
 * their time. The counts are pinned; the times are printed for the README (on a shared 2-core
 * machine they only bound the order of magnitude).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Presence, TaskEventWriter, type TaskEventInput } from '../../src/control-plane/index.js';
import { taskEventsKey } from '../../src/keys.js';
import { monitorCommands } from '../../../../test/monitor-feed.js';
import { connect, onCleanup, recordingLogger, redisUrl, testPrefix } from './helpers.js';

/** Records the commands Redis runs for one client (MONITOR), until `caughtUp` has seen a marker. */
async function watch(client: string): Promise<{ commands: string[][]; caughtUp(): Promise<void> }> {
  const admin = connect();
  const address = /addr=(\S+)/.exec(String(await admin.client('LIST')).split('\n').find((line) => line.includes(` name=${client} `)) ?? '')?.[1];
  if (address === undefined) throw new Error(`no client named ${client}`);
  const commands: string[][] = [];
  const feed = await monitorCommands(redisUrl(), ({ args, source }) => {
    if (source === address) commands.push(args);
  });
  onCleanup(() => feed.close());
  return { commands, caughtUp: () => feed.caughtUp() };
}

/** A task's events as a worker would emit them: received, started, succeeded. */
function taskEvents(i: number): TaskEventInput[] {
  const taskId = `task-${i}`;
  return [
    { type: 'task-received', taskId, name: 'add', args: [i, i], kwargs: {}, retries: 0, rootId: taskId, parentId: null, workflowId: taskId, groupId: null, queue: 'default' },
    { type: 'task-started', taskId, name: 'add' },
    { type: 'task-succeeded', taskId, name: 'add', result: 2 * i, runtime: 0.4 },
  ];
}

function report(line: string): void {
  // eslint-disable-next-line no-console -- the measurement is this test's output
  console.log(`[cost] ${line}`);
}

describe('cost of observation', () => {
  it('sends the events of one event-loop turn in one script call, one stream entry each', async () => {
    const prefix = testPrefix();
    const name = `events-${randomUUID()}`;
    const redis = connect(redisUrl(), { connectionName: name });
    await redis.ping();
    const events = new TaskEventWriter({ redis, prefix, worker: 'w1@h', logger: recordingLogger() });
    const monitored = await watch(name);
    // 1 000 tasks finishing in the same turn (a busy worker), then 10 tasks one turn each.
    for (let i = 0; i < 1_000; i++) for (const event of taskEvents(i)) events.emit(event);
    await events.flush();
    await monitored.caughtUp();
    const busy = monitored.commands.splice(0);
    for (let i = 0; i < 10; i++) {
      for (const event of taskEvents(i)) events.emit(event);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await events.flush();
    await monitored.caughtUp();
    const quiet = monitored.commands.splice(0);
    const calls = (commands: string[][]) => commands.filter(([command]) => command === 'evalsha' || command === 'eval');
    // 3 000 events in batches of at most 500: 6 calls; one turn per task: one call per task.
    expect(busy.map(([command]) => command).every((command) => command === 'evalsha' || command === 'eval')).toBe(true);
    expect(calls(busy)).toHaveLength(6);
    expect(calls(quiet)).toHaveLength(10);
    expect(await redis.xlen(taskEventsKey(prefix))).toBe(3_030);
    expect(busy[0]!.slice(3, 5)).toStrictEqual([taskEventsKey(prefix), '100000']);
    report(`events: ${calls(busy).length} commands for 1 000 tasks finishing in one turn (3 000 events), 1 command per task when each has a turn of its own`);
  });

  it('measures 10 000 emits, events off, and the stream memory per event', async () => {
    const prefix = testPrefix();
    const redis = connect();
    const events = new TaskEventWriter({ redis, prefix, worker: 'w1@h', logger: recordingLogger() });
    const inputs = Array.from({ length: 3_334 }, (_, i) => taskEvents(i)).flat().slice(0, 10_000);
    const begun = performance.now();
    for (const input of inputs) events.emit(input);
    const emitted = performance.now() - begun;
    await events.flush();
    const written = performance.now() - begun;
    expect(await redis.xlen(taskEventsKey(prefix))).toBe(10_000);
    const bytes = Number(await redis.memory('USAGE', taskEventsKey(prefix)));
    const off = undefined as TaskEventWriter | undefined;
    const offBegun = performance.now();
    for (const input of inputs) off?.emit(input);
    const offTime = performance.now() - offBegun;
    report(`10 000 emits: ${emitted.toFixed(1)} ms on the emitting path (${((emitted / 10_000) * 1000).toFixed(1)} µs each), all written after ${written.toFixed(1)} ms`);
    report(`events off: 10 000 skipped emits take ${offTime.toFixed(2)} ms`);
    report(`stream memory: ${bytes} bytes for 10 000 events (${Math.round(bytes / 10_000)} B each; ~${Math.round((bytes / 10_000) * 100_000 / 1e6)} MB at the default 100 000)`);
    expect(emitted).toBeLessThan(written);
  });

  it('sends one script call per heartbeat', async () => {
    const prefix = testPrefix();
    const name = `presence-${randomUUID()}`;
    const redis = connect(redisUrl(), { connectionName: name });
    await redis.ping();
    const presence = new Presence({ redis, prefix, logger: recordingLogger() });
    const monitored = await watch(name);
    const membership = presence.join(
      { name: 'w1@h', app: 'proj', queues: ['default'], concurrency: 10, pool: 'async', tasks: Array.from({ length: 50 }, (_, i) => `task.number.${i}`) },
      { interval: 20, live: () => ({ active: 3, processed: 12_345, failed: 6 }) },
    );
    onCleanup(() => membership.leave());
    await membership.ready;
    await expect.poll(() => monitored.commands.filter(([command]) => command === 'evalsha').length, { timeout: 5_000 }).toBeGreaterThanOrEqual(10);
    await membership.leave();
    await monitored.caughtUp();
    const kinds = monitored.commands.map(([command]) => command ?? '');
    // An INFO for the Redis version and the first script load (EVAL once, then EVALSHA) at announce,
    // one EVALSHA per heartbeat, and MULTI ZREM HDEL HDEL EXEC to leave.
    expect(kinds.filter((command) => !['evalsha', 'eval'].includes(command))).toStrictEqual(['info', 'multi', 'zrem', 'hdel', 'hdel', 'exec']);
    const beats = monitored.commands.filter(([command]) => command === 'evalsha');
    const plain = beats.filter((args) => args[8] === '');
    expect(plain.length).toBeGreaterThanOrEqual(9);
    const announce = monitored.commands.find(([command, , , , , , , , record]) => (command === 'eval' || command === 'evalsha') && record !== '') ?? [];
    report(`heartbeat: 1 EVALSHA of ${plain[0]!.join(' ').length} bytes; the record (${String(announce[8]).length} bytes with 50 tasks) goes only with an announce`);

    const timed = new Presence({ redis: connect(), prefix, logger: recordingLogger() });
    const counters = '{"active":0,"processed":0,"failed":0,"instance":"x"}';
    const names = Array.from({ length: 100 }, (_, i) => `worker-${i}@h`);
    for (const name of names) await timed.beat(name, counters, JSON.stringify({ ...membership.record, name }), 'x', 6_000);
    const begun = performance.now();
    for (let i = 0; i < 1_000; i++) await timed.beat(names[i % 100]!, counters, '', 'x', 6_000);
    report(`heartbeat: ${((performance.now() - begun) / 1_000).toFixed(3)} ms per beat, round trip included (1 000 in a row)`);
    expect(await timed.workers()).toHaveLength(100);
    const listed = performance.now();
    for (let i = 0; i < 100; i++) await timed.workers();
    report(`workers(): ${((performance.now() - listed) / 100).toFixed(3)} ms per listing of 100 workers (50 tasks each)`);
  });
});
