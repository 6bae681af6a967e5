/**
 * The canvas on a Redis Cluster of three masters: the same workflows as on one Redis, with their
 * state and queues spread over every master. Given by URL, by description and as a Cluster instance.
 */
import { chain, chord, group, withOptions } from '@celeriac/canvas';
import type { App } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { clusterApp, clusterClient, PATIENT, useCluster } from './helpers.js';

const T = { timeout: 30_000 };
const cluster = useCluster();

function setup(app: App) {
  const add = app.task('add', (x: number, y: number) => x + y);
  const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
  const worker = app.worker({ concurrency: 20, queues: ['default', 'math'] });
  return { add, tsum, worker };
}

describe('workflows on a Redis Cluster', () => {
  it('runs a chain given the cluster by redis+cluster:// URL, and .parent reads back', async () => {
    const app = clusterApp(cluster());
    const { add } = setup(app);
    const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
    expect(await res.get(T)).toBe(16);
    expect(await res.parent.get(T)).toBe(8);
    expect(await res.parent.parent.get(T)).toBe(4);
  });

  it('runs a chord of 1 000 given the cluster as { cluster: [...] }', async () => {
    const running = cluster();
    const app = clusterApp(running, { redis: { cluster: running.urls.slice(0, 1), ...PATIENT } });
    const { add, tsum } = setup(app);
    const res = await app.apply(chord(Array.from({ length: 1_000 }, (_, k) => add.si(k, 1)), tsum.s()));
    expect(await res.get(T)).toBe((999 * 1_000) / 2 + 1_000);
  });

  it('runs nested canvases over two queues on a Cluster instance it does not close', async () => {
    const running = cluster();
    const client = clusterClient(running);
    const app = clusterApp(running, { redis: client });
    const { add, tsum } = setup(app);
    const res = await app.apply(
      chain(group(add.si(1, 1), withOptions(add.si(2, 2), { queue: 'math' })), tsum.s(), chord([add.s(1), withOptions(add.s(2), { queue: 'math' })], tsum.s()), add.s(100)),
    );
    // [2, 4] → 6 → [7, 8] → 15 → 115
    expect(await res.get(T)).toBe(115);
    await app.close();
    expect(await client.ping()).toBe('PONG');
  });

  it('runs a group of 10 000 and puts each queue in its own slot under the app prefix', async () => {
    const running = cluster();
    const app = clusterApp(running);
    const { add } = setup(app);
    const res = await app.apply(group(Array.from({ length: 10_000 }, (_, k) => add.si(k, k))));
    const values = await res.get({ timeout: 120_000 });
    expect(values).toHaveLength(10_000);
    expect(values[9_999]).toBe(19_998);
    await app.apply(withOptions(add.si(1, 1), { queue: 'math' }));
    expect(await app.queues().then((queues) => queues.map(({ name }) => name))).toEqual(['default', 'math']);
    const defaultSlot = await running.slotOf(`${app.prefix}:q:{default}:default:id`);
    expect(await running.slotOf('{default}')).toBe(defaultSlot);
    expect(await running.slotOf(`${app.prefix}:q:{math}:math:id`)).not.toBe(defaultSlot);
  }, 180_000);
});
