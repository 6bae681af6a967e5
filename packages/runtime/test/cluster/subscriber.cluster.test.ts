/**
 * Waiting on a Redis Cluster when a node dies: the app's subscriber holds a connection to one node
 * (every node delivers every PUBLISH); when that node is SIGKILLed, the subscriber moves to another
 * node and the waiter re-reads what it may have missed, so `get()` still resolves.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { clusterApp, useCluster } from './helpers.js';

const cluster = useCluster({ replicas: 1 });

/** The port of the node holding a pub/sub client subscribed to `channel`, once there is one. */
async function subscribedNode(ports: readonly number[], channel: string): Promise<number> {
  for (;;) {
    for (const port of ports) {
      const probe = new Redis(port, '127.0.0.1');
      const [, counts] = (await probe.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
      const clients = String(await probe.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
      probe.disconnect();
      if (Number(counts) > 0 && clients.trim() !== '') return port;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a waiter on a Redis Cluster', () => {
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
    process.kill(running.servers.find((server) => server.port === port)!.pid, 'SIGKILL');
    expect(await waiting).toBe('done');
    // The subscriber moved: the worker's control channel is subscribed on another node.
    const others = running.servers.map((server) => server.port).filter((other) => other !== port);
    expect(await subscribedNode(others, `${app.prefix}:control`)).not.toBe(port);
  });
});
