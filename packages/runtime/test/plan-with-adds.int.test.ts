/**
 * `planWithAdds` (lua.ts): a new workflow's plan and its entries' jobs in one script, BullMQ's
 * own `addStandardJob` running behind the plan's write for each. What the app's cost tests cannot reach: a
 * workflow that exists already (an id `freeze` generates is new) must get no job at all.
 */
import { chain, compile, group, signature, withOptions } from '@celeriac/canvas';
import { describe, expect, it } from 'vitest';
import { Dispatcher } from '../src/dispatch.js';
import { queuePrefix } from '../src/keys.js';
import { PLAN_RIDES_ADDS, withScripts } from '../src/lua.js';
import { freeze, type WorkflowPlan } from '../src/plan.js';
import { WorkflowStore, type Released } from '../src/store.js';
import { connect, onCleanup, testPrefix } from './control-plane/helpers.js';

function setUp() {
  const redis = connect();
  const prefix = testPrefix();
  const store = new WorkflowStore(withScripts(redis), prefix, 60);
  const errors: Error[] = [];
  const dispatcher = new Dispatcher(redis, (queue) => queuePrefix(prefix, queue, false), (error) => errors.push(error));
  onCleanup(async () => {
    for (const queue of ['default', 'other']) await dispatcher.queue(queue).close();
  });
  const send = (plan: WorkflowPlan): Promise<boolean> => {
    const entries: Released[] = plan.entries.map((index) => ({ index, spec: plan.spec(index), inputs: [] }));
    return dispatcher.sendBehind(store.wholeWrite(plan), plan.meta.id, entries);
  };
  return { redis, prefix, store, send, errors };
}

describe('planWithAdds', () => {
  it('writes the plan and adds the entry in one step; a second send finds the workflow and adds nothing', async () => {
    const { redis, prefix, store, send, errors } = setUp();
    // With the BullMQ this package pins, a lone task's plan rides its add (an upgrade that stops it fails here).
    expect(PLAN_RIDES_ADDS).toBe(true);
    const plan = freeze(compile(signature('add', [2, 3])), () => undefined)!;
    expect(store.wholeWrite(plan).script).not.toBeNull();
    expect(await send(plan)).toBe(true);
    expect(await redis.hexists(store.keys(plan.meta.id).graph, 'meta')).toBe(1);
    expect(await redis.lrange(`${prefix}:q:default:wait`, 0, -1)).toEqual([plan.meta.id]);
    expect(await redis.get(`${prefix}:q:default:id`)).toBe('1');
    // Again: the plan's write finds the workflow, and BullMQ's add never runs (its counter stays).
    expect(await send(plan)).toBe(false);
    expect(await redis.get(`${prefix}:q:default:id`)).toBe('1');
    expect(await redis.lrange(`${prefix}:q:default:wait`, 0, -1)).toEqual([plan.meta.id]);
    expect(errors).toEqual([]);
  });

  it('a canvas with several entries, in two queues: the plan and every entry in the one step; again, nothing', async () => {
    const { redis, prefix, store, send } = setUp();
    const member = (n: number, queue: string) => withOptions(signature('add', [n, n]), { queue });
    const plan = freeze(compile(chain(group(member(1, 'default'), member(2, 'other'), member(3, 'default')), signature('sum'))), () => undefined)!;
    expect(plan.entries).toHaveLength(3);
    expect(await send(plan)).toBe(true);
    const ids = plan.entries.map((index) => plan.spec(index).id);
    expect(await redis.lrange(`${prefix}:q:default:wait`, 0, -1)).toEqual([ids[2], ids[0]]);
    expect(await redis.lrange(`${prefix}:q:other:wait`, 0, -1)).toEqual([ids[1]]);
    expect(await redis.scard(store.keys(plan.meta.id).outbox)).toBe(4); // the three entries and the sentinel
    expect(await send(plan)).toBe(false);
    expect([await redis.get(`${prefix}:q:default:id`), await redis.get(`${prefix}:q:other:id`)]).toEqual(['2', '1']);
  });

  it('a delayed entry: the plan goes as its own script, then the adds, in order', async () => {
    const { redis, prefix, store, send } = setUp();
    const plan = freeze(compile(group(withOptions(signature('add', [1, 1]), { countdown: 60 }), signature('add', [2, 2]))), () => undefined)!;
    expect(await send(plan)).toBe(true);
    const [delayed, waiting] = plan.entries.map((index) => plan.spec(index).id);
    expect(await redis.zrange(`${prefix}:q:default:delayed`, 0, -1)).toEqual([delayed]);
    expect(await redis.lrange(`${prefix}:q:default:wait`, 0, -1)).toEqual([waiting]);
    expect(await redis.hexists(store.keys(plan.meta.id).graph, 'meta')).toBe(1);
  });
});
