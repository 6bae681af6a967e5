/**
 * SCAN over everything a client reaches. On a Redis Cluster, SCAN is a per-node command (ioredis
 * sends it to one node, which knows only its own keys), so every master is scanned in turn.
 */
import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './connection.js';

/**
 * Yields the keys matching `pattern`, a page at a time, from the one server or every master of a
 * cluster. As SCAN itself: a key may come twice, and keys written meanwhile may be missed.
 *
 * @example
 * ```ts
 * for await (const keys of scanKeys(redis, 'celeriac:q:*:id')) names.push(...keys);
 * ```
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 1_000): AsyncGenerator<string[], void, undefined> {
  for (const server of await serversOf(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}

/** The connections to scan: the client itself, or each master a cluster knows now. */
async function serversOf(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  // Until the cluster has read its slot map it knows no node; any command waits for that.
  if (client.nodes('master').length === 0) await client.ping();
  return client.nodes('master');
}
