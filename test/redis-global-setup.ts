/**
 * Vitest global setup for integration tests: one private redis-server per run (unless REDIS_URL is
 * set), stopped by pid at teardown. Tests read the URL with `inject('redisUrl')`; child processes
 * spawned by tests inherit it through REDIS_URL.
 */
// Loads vitest's types so the ProvidedContext augmentation below has a module to augment.
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startPrivateRedis } from '../scripts/private-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env['REDIS_URL'];
  if (given !== undefined && given !== '') {
    project.provide('redisUrl', given);
    return async () => {};
  }
  const redis = await startPrivateRedis();
  process.env['REDIS_URL'] = redis.url;
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
