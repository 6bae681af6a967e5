/**
 * What a step costs in Redis requests, counted with MONITOR: the cost model of the README's
 * Performance section (bench/README.md, "Round trips"), pinned so that a change that sends one
 * request per member where one per batch will do fails here, not only in a benchmark.
 */
import { randomUUID } from 'node:crypto';
import { chain, chord, group, withOptions, type Canvas } from '@celeriac/canvas';
import type { App } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { monitor, testApp, type Executed } from './helpers.js';

const T = { timeout: 20_000 };

/** Counts the requests of one workflow in `executed` by what they do. */
function costs(executed: readonly Executed[], prefix: string, workflowId: string) {
  const workflowKey = (name: string): string => `${prefix}:wf:{${workflowId}}:${name}`;
  const script = (c: Executed): boolean => c.args[0] === 'evalsha' || c.args[0] === 'eval';
  const count = (test: (c: Executed) => boolean): number => executed.filter(test).length;
  const envelopes = (c: Executed): number => c.args.filter((a) => a.startsWith('{"s":"SUCCESS"')).length;
  const advance = (c: Executed): boolean => script(c) && c.args.includes(workflowKey('graph')) && envelopes(c) > 0;
  return {
    /** advance.lua calls: each records one or more successes (their envelopes are arguments). */
    advances: count(advance),
    /** Successes those calls carried. */
    successes: executed.filter(advance).reduce((total, c) => total + envelopes(c), 0),
    /** mark.lua: STARTED, which first deliveries skip. */
    marks: count((c) => script(c) && c.args.includes('STARTED')),
    /** BullMQ's add script, whose data is a Celeriac job of this workflow. */
    adds: count((c) => script(c) && c.args.includes(`${prefix}:q:default:wait`) && c.args.some((a) => a.includes(`"w":"${workflowId}"`))),
    /** Reads of the states hash by a client (HMGET): what a waiter reads after announcements. */
    stateReads: count((c) => c.args[0] === 'hmget' && c.args[1] === workflowKey('state')),
    /**
     * Reads of the results hash by a client: HMGET/HGET, or an outcome-n.lua call that reads one of
     * its nodes. The other scripts read it too, but MONITOR lists those apart.
     */
    resultReads: count(
      (c) =>
        ((c.args[0] === 'hmget' || c.args[0] === 'hget') && c.args[1] === workflowKey('result')) ||
        (outcomeRead(c) && c.args.includes(workflowKey('state')) && c.args.includes(workflowKey('result'))),
    ),
  };
}

/**
 * Whether `c` is an outcome-n.lua call: KEYS a state hash and a result hash per node, ARGV the
 * nodes' indices (mark-2.lua, the other script keyed by a state and a result hash, takes three).
 */
function outcomeRead(c: Executed): boolean {
  if (c.args[0] !== 'evalsha' && c.args[0] !== 'eval') return false;
  const keys = Number(c.args[2]);
  return keys > 0 && keys % 2 === 0 && c.args.length === 3 + keys + keys / 2 && c.args[3]!.endsWith(':state');
}

/** An app with `add` and `sum`, and a worker running `concurrency` jobs at once. */
/**
 * An app with `add` and `sum`, and a worker running `concurrency` jobs at once: in an app of its own
 * (producer and worker apart, the costs the README lists), or, `inProcess`, in the same app.
 */
async function setUp(concurrency: number, { inProcess = false } = {}) {
  const tasks = (app: App) => ({
    add: app.task('add', (x: number, y: number) => x + y),
    sum: app.task('sum', (values: number[]) => values.reduce((a, b) => a + b, 0)),
  });
  const app = testApp();
  const workerApp = inProcess ? app : testApp({ prefix: app.prefix });
  if (!inProcess) tasks(workerApp);
  await workerApp.worker({ concurrency }).waitUntilReady();
  return { app, ...tasks(app) };
}

/** Applies `canvas`, waits for its value, and counts the requests it cost. */
async function measure(app: App, canvas: Canvas) {
  const monitored = await monitor();
  const res = await app.apply(canvas);
  const value = await res.get(T);
  await monitored.caughtUp();
  return { value, requests: costs(monitored.executed, app.prefix, res.id) };
}

describe('requests per step', () => {
  it('a lone task: its plan is one script call, and its add follows it on the same connection without waiting', async () => {
    const { app, add } = await setUp(1);
    const monitored = await monitor();
    const res = await add.delay(2, 3);
    expect(await res.get(T)).toBe(5);
    await monitored.caughtUp();
    const workflow = `${app.prefix}:wf:{${res.id}}:`;
    const writes = monitored.executed.filter((c) => c.args.some((a) => a.startsWith(workflow)) && c.args.some((a) => a.startsWith('{"v":1')));
    const addAt = monitored.executed.findIndex((c) => c.args.includes(`${app.prefix}:q:default:wait`) && c.args.some((a) => a.includes(`"w":"${res.id}"`)));
    // One request writes the whole plan (no staging keys, no rename), then the entry's add.
    expect(writes).toHaveLength(1);
    expect(writes[0]!.args[0]).toMatch(/^eval/);
    const writeAt = monitored.executed.indexOf(writes[0]!);
    expect(addAt).toBeGreaterThan(writeAt);
    expect(monitored.executed[addAt]!.source).toBe(writes[0]!.source);
    const before = monitored.executed.slice(0, addAt).filter((c) => c.source === writes[0]!.source && c.args.some((a) => a.startsWith(workflow)));
    expect(before).toEqual([writes[0]]);
  });

  it('a node whose id the user chose: its pointer and the plan go first, then its add, on one connection', async () => {
    const { app, add } = await setUp(1);
    const first = `first-${randomUUID()}`;
    const monitored = await monitor();
    const res = await app.apply(chain(withOptions(add.s(1, 1), { taskId: first }), add.s(2)));
    expect(await res.get(T)).toBe(4);
    await monitored.caughtUp();
    const { executed } = monitored;
    const pointerAt = executed.findIndex((c) => c.args[0] === 'set' && c.args[1] === `${app.prefix}:id:{${first}}`);
    const planAt = executed.findIndex((c) => c.args.includes(`${app.prefix}:wf:{${res.id}}:graph`));
    const addAt = executed.findIndex((c) => c.args.includes(`${app.prefix}:q:default:wait`) && c.args.some((a) => a.includes(`"id":"${first}"`)));
    expect(pointerAt).toBeGreaterThanOrEqual(0);
    expect(planAt).toBeGreaterThan(pointerAt);
    expect(addAt).toBeGreaterThan(planAt);
    expect(new Set([pointerAt, planAt, addAt].map((at) => executed[at]!.source)).size).toBe(1);
  });

  it('applies of one moment: their plans share requests of up to 50, each written before its adds, on one connection', async () => {
    const { app, add } = await setUp(50);
    const monitored = await monitor();
    await null; // from a microtask, as most bursts are: the adds must still follow their plans
    const results = await Promise.all(Array.from({ length: 120 }, (_, i) => add.delay(i, i)));
    expect(await Promise.all(results.map((res) => res.get(T)))).toEqual(Array.from({ length: 120 }, (_, i) => 2 * i));
    await monitored.caughtUp();
    const { executed } = monitored;
    // create-whole-n.lua: six keys per plan, the first a graph hash.
    const isPlan = (c: Executed): boolean => (c.args[0] === 'evalsha' || c.args[0] === 'eval') && Number(c.args[2]) % 6 === 0 && c.args[3]!.endsWith(':graph') && !c.args.some((arg) => arg.startsWith('{"s":'));
    const plans = executed.flatMap((c, at) => (isPlan(c) ? [at] : []));
    expect(plans.map((at) => Number(executed[at]!.args[2]) / 6)).toEqual([50, 50, 20]);
    for (const res of results) {
      const planAt = plans.find((at) => executed[at]!.args.includes(`${app.prefix}:wf:{${res.id}}:graph`));
      const addAt = executed.findIndex((c) => c.args.includes(`${app.prefix}:q:default:wait`) && c.args.some((arg) => arg.includes(`"w":"${res.id}"`)));
      expect(planAt).toBeDefined();
      expect(addAt).toBeGreaterThan(planAt!);
      expect(executed[addAt]!.source).toBe(executed[planAt!]!.source);
    }
  });

  it('waiting: one pattern subscription for every get(), and one read after the announcement, with the value', async () => {
    const { app, add } = await setUp(1);
    await (await add.delay(0, 0)).get(T); // the app's pattern subscription is made once, here
    const monitored = await monitor();
    const results = [];
    for (let i = 1; i <= 3; i++) {
      const res = await add.delay(i, i);
      expect(await res.get(T)).toBe(2 * i);
      results.push(res);
    }
    await monitored.caughtUp();
    const subscriptions = monitored.executed.filter((c) => /^p?(un)?subscribe$/.test(c.args[0]!));
    expect(subscriptions).toEqual([]);
    for (const res of results) {
      // One read per get(), after the announcement, with the value: the app heard every
      // announcement since the apply, so it need not read the state before (heard.ts).
      const stateKey = `${app.prefix}:wf:{${res.id}}:state`;
      expect(monitored.executed.filter((c) => c.args[0]!.startsWith('hm') && c.args[1] === stateKey)).toEqual([]);
      expect(costs(monitored.executed, app.prefix, res.id).resultReads).toBe(1);
    }
  });

  it("lone tasks ending at once: their get()s' reads share requests, one read per task", async () => {
    const { add } = await setUp(50);
    await (await add.delay(0, 0)).get(T); // the app's pattern subscription is made once, here
    const monitored = await monitor();
    const count = 300;
    const values = await Promise.all(Array.from({ length: count }, async (_, i) => (await add.delay(i, i)).get(T)));
    expect(values).toEqual(Array.from({ length: count }, (_, i) => 2 * i));
    await monitored.caughtUp();
    const reads = monitored.executed.filter(outcomeRead);
    // Every task's node read once, after its announcement...
    expect(reads.reduce((nodes, c) => nodes + Number(c.args[2]) / 2, 0)).toBe(count);
    // ...in requests shared by the reads of the same moment (10-12 here; one per task before).
    expect(reads.length).toBeLessThanOrEqual(count / 4);
  });

  it("in one process: the app's own worker hands each get() its outcome, so no get() reads it", async () => {
    const { app, add } = await setUp(50, { inProcess: true });
    await (await add.delay(0, 0)).get(T);
    const monitored = await monitor();
    // Each get() right after its delay, as users write it: a get() first called after its task
    // ended has nothing left to be handed, and reads.
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const res = await add.delay(i, i);
        expect(await res.get(T)).toBe(2 * i);
        return res;
      }),
    );
    const chained = await measure(app, chain([add.s(0, 1), ...Array.from({ length: 9 }, () => add.s(1))]));
    expect(chained.value).toBe(10);
    await monitored.caughtUp();
    expect(monitored.executed.filter(outcomeRead)).toEqual([]);
    for (const res of results) expect(costs(monitored.executed, app.prefix, res.id)).toMatchObject({ stateReads: 0, resultReads: 0 });
    expect(chained.requests).toMatchObject({ advances: 10, adds: 10, stateReads: 0, resultReads: 0 });
  });

  it('a chain hop: one advance and one add, no STARTED mark', async () => {
    const { app, add } = await setUp(1);
    await (await add.delay(0, 0)).get(T); // the app's pattern subscription is made once, here
    const { value, requests } = await measure(app, chain([add.s(0, 1), ...Array.from({ length: 9 }, () => add.s(1))]));
    expect(value).toBe(10);
    expect(requests).toEqual({ advances: 10, successes: 10, marks: 0, adds: 10, stateReads: 0, resultReads: 1 });
  });

  it('a get() in another process after the task ended: one read, which brings the value along', async () => {
    const { app, add } = await setUp(1);
    const res = await add.delay(2, 3);
    expect(await res.get(T)).toBe(5);
    const elsewhere = testApp({ prefix: app.prefix }); // heard nothing of it: it reads before it waits
    const found = await elsewhere.result(res.id);
    const monitored = await monitor();
    expect(await found.get(T)).toBe(5);
    await monitored.caughtUp();
    // Before: the state (HMGET), then the value (HMGET), two reads in a row.
    expect(costs(monitored.executed, app.prefix, res.id)).toMatchObject({ stateReads: 0, resultReads: 1 });
  });

  it('group members: the successes a worker reaches in the same moment share one advance; the producer reads every state once, when all were announced, then all results at once', async () => {
    const { app, add } = await setUp(50);
    const { value, requests } = await measure(app, group(Array.from({ length: 1_000 }, (_, i) => add.si(i, i))));
    expect(value).toHaveLength(1_000);
    const { stateReads, advances, ...rest } = requests;
    expect(rest).toEqual({ successes: 1_000, marks: 0, adds: 1_000, resultReads: 1 });
    // 50 jobs at once finish in bursts (58 calls for 1 000 members on an idle machine).
    expect(advances).toBeLessThanOrEqual(500);
    // The read every wait starts with (this app heard nothing before its apply), then one once every
    // member was announced: not one per burst of announcements (39 for this group before).
    expect(stateReads).toBeGreaterThanOrEqual(1);
    expect(stateReads).toBeLessThanOrEqual(2);
  });

  it('a chord join: the last member’s advance releases the body with its inputs, so no request reads the header', async () => {
    const { app, add, sum } = await setUp(50);
    await (await add.delay(0, 0)).get(T); // the app's pattern subscription is made once, here
    const { value, requests } = await measure(app, chord(Array.from({ length: 100 }, (_, i) => add.si(i, i)), sum.s()));
    expect(value).toBe(9_900);
    // 100 members and the body; the one result read is the producer's, of the body.
    const { advances, ...rest } = requests;
    expect(rest).toEqual({ successes: 101, marks: 0, adds: 101, stateReads: 0, resultReads: 1 });
    expect(advances).toBeLessThanOrEqual(60);
  });
});
