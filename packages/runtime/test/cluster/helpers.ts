/**
 * Cluster-test helpers: each test file starts its own private Redis Cluster
 * (scripts/private-cluster.ts) and stops it afterwards; every test gets apps under its own prefix.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { consoleLogger, createApp, type App, type AppOptions } from '@celeriac/runtime';
import { startPrivateCluster, type PrivateCluster, type PrivateClusterOptions } from '../../../../scripts/private-cluster.js';

/**
 * The retry budget tests give the Clusters they build themselves: long enough to wait out a
 * reshard or a failover (the app's own clusters get a similar one by default).
 */
export const PATIENT = { maxRedirections: 100, retryDelayOnTryAgain: 100, retryDelayOnFailover: 200, retryDelayOnClusterDown: 200 } as const;

/** Starts a private cluster for the test file; `cluster()` returns it once started. */
export function useCluster(options: PrivateClusterOptions = {}): () => PrivateCluster {
  let running: PrivateCluster | undefined;
  beforeAll(async () => {
    running = await startPrivateCluster(options);
  }, 60_000);
  afterAll(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await running?.stop();
  });
  return () => {
    if (running === undefined) throw new Error('the cluster has not started');
    return running;
  };
}

const opened: App[] = [];
const clients: Cluster[] = [];

/** A Cluster client of the test's own (closed after the file). */
export function clusterClient(running: PrivateCluster): Cluster {
  const client = new Cluster([...running.seeds], PATIENT);
  clients.push(client);
  return client;
}

/** A fresh app on the cluster under a unique prefix, given by URL (`redis+cluster://…`) unless `redis` says otherwise. */
export function clusterApp(running: PrivateCluster, options: AppOptions = {}): App {
  const prefix = options.prefix ?? `test-${randomUUID()}`;
  const redis = options.redis ?? `redis+cluster://${running.seeds.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  const app = createApp({ logger: consoleLogger('silent'), ...options, prefix, redis });
  opened.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((app) => app.close()));
});
