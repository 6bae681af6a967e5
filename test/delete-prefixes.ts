/**
 * Test clean-up shared by the packages' integration tests: deletes every key under each prefix a
 * test used, with SCAN + UNLINK (never KEYS, never FLUSHALL: other tests share the server).
 */
import { Redis } from 'ioredis';

export async function deletePrefixes(redisUrl: string, prefixes: Iterable<string>): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for (const prefix of new Set(prefixes)) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
