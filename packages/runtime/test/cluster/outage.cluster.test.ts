/**
 * Nodes of a Redis Cluster dying. The app's subscriber holds a connection to one node (every node
 * delivers every PUBLISH); when that node is SIGKILLed, the subscriber moves to another node and
 * the waiter re-reads what it may have missed, so `get()` still resolves. When every node is down,
 * calls fail with a `ConnectionError` after `unavailableTimeout`, as on one Redis, instead of
 * waiting in the cluster client's offline queue for ever.
 */
import { Redis } from 'ioredis';
import { signature } from '@celeriac/canvas';
import { ConnectionError } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { clusterApp, useCluster } from './helpers.js';

const cluster = useCluster({ replicas: 1 });

/**
 * The port of the node holding a pub/sub client that hears `channel` — subscribed to it, or to a
 * pattern (waiters share the app's pattern subscription) — once there is one.
 */
async function subscribedNode(ports: readonly number[], channel: string): Promise<number> {
  for (;;) {
    for (const port of ports) {
      const probe = new Redis(port, '127.0.0.1');
      const [, counts] = (await probe.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
      const patterns = Number(await probe.call('PUBSUB', 'NUMPAT'));
      const clients = String(await probe.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      probe.disconnect();
      if ((Number(counts) > 0 || patterns > 0) && clients.trim() !== '') return port;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Makes the node at `port` a replica, if it is a master, by a coordinated CLUSTER FAILOVER on one of its replicas. */
async function demoteToReplica(port: number): Promise<void> {
  const node = new Redis(port, '127.0.0.1');
  try {
    const [role, , replicas] = (await node.call('ROLE')) as [string, number, [string, string, string][]];
    if (role !== 'master') return;
    const replica = new Redis(Number(replicas[0]![1]), '127.0.0.1');
    try {
      await replica.call('CLUSTER', 'FAILOVER');
    } finally {
      replica.disconnect();
    }
    const deadline = Date.now() + 30_000;
    while (((await node.call('ROLE')) as [string])[0] === 'master') {
      if (Date.now() > deadline) throw new Error(`the master at port ${port} was not failed over in 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    node.disconnect();
  }
}

describe('nodes of a Redis Cluster dying', () => {
  it('still gets its result when the node its subscriber listens on is SIGKILLed', { timeout: 90_000 }, async () => {
    const running = cluster();
    const app = clusterApp(running);
    const slow = app.task('slow', async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return 'done';
    });
    app.worker();
    const res = await slow.delay(4_000);
    const waiting = res.get({ timeout: 60_000 });
    const port = await subscribedNode(
      running.servers.map((server) => server.port),
      app.internals.store.keys(res.id).events,
    );
    // What this test is about is the subscriber, not a master's crash (the cluster's own failover,
    // which on two busy cores can leave a slot down for longer than a job's retries last; see
    // "Scaling out"): a master is first made a replica by a coordinated failover, then killed.
    await demoteToReplica(port);
    process.kill(running.servers.find((server) => server.port === port)!.pid, 'SIGKILL');
    const outcome = await waiting.catch((error: unknown) => error);
    expect(outcome, `after a SIGKILL of the node at port ${port}, task ${res.id}: ${String(await res.state().catch((error: unknown) => error))}`).toBe('done');
    // The subscriber moved: the worker's control channel is subscribed on another node.
    const others = running.servers.map((server) => server.port).filter((other) => other !== port);
    expect(await subscribedNode(others, `${app.prefix}:control`)).not.toBe(port);
  });

  // Last: it leaves the cluster dead.
  it('fails calls with a ConnectionError after unavailableTimeout when every node is down', { timeout: 60_000 }, async () => {
    const running = cluster();
    const app = clusterApp(running, { unavailableTimeout: 2_000 });
    app.task('add', (x: number, y: number) => x + y);
    await app.apply(signature('add', [1, 1]));
    for (const pid of running.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // killed by the test before
      }
    }
    const began = Date.now();
    await expect(app.apply(signature('add', [2, 2]))).rejects.toBeInstanceOf(ConnectionError);
    await expect(app.apply(signature('add', [3, 3]))).rejects.toThrow(/cannot use Redis at the cluster of 127\.0\.0\.1:/);
    expect(Date.now() - began).toBeLessThan(15_000);
  });
});
