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

/** Where a resumable scan stands: the cursor of each server it has begun, by `host:port`. */
export type ScanCursors = Record<string, string>;

/**
 * Yields the keys matching `pattern` from where the last stretch stopped: at most `calls` SCAN
 * calls on each server (the one, or every master of a cluster), each server resumed at its cursor
 * in `cursors`. Updates `cursors` in place for the next stretch: a server whose keys have all been
 * seen starts over, and servers that are gone are dropped. As SCAN itself: a key may come twice,
 * and keys written meanwhile may be missed.
 */
export async function* scanStretch(
  client: RedisClient,
  pattern: string,
  cursors: ScanCursors,
  calls: number,
  count = 1_000,
): AsyncGenerator<string[], void, undefined> {
  const servers = await serversOf(client);
  const ids = new Set(servers.map(serverId));
  for (const id of Object.keys(cursors)) if (!ids.has(id)) delete cursors[id];
  for (const server of servers) {
    const id = serverId(server);
    let cursor = cursors[id] ?? '0';
    for (let call = 0; call < calls; call++) {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
      if (cursor === '0') break;
    }
    cursors[id] = cursor;
  }
}

function serverId(server: Redis): string {
  return `${server.options.host ?? ''}:${server.options.port ?? ''}`;
}

/** The connections to scan: the client itself, or each master a cluster knows now. */
async function serversOf(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  // Until the cluster has read its slot map it knows no node; any command waits for that.
  if (client.nodes('master').length === 0) await client.ping();
  return client.nodes('master');
}
