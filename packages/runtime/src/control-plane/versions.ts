/**
 * The software a worker runs, as presence records it (Celery's `sw_ident`/`sw_ver`/`sw_sys` and
 * `celery report`): what an operator checks first when two workers behave differently.
 */
import { createRequire } from 'node:module';
import type { RedisClient } from '../connection.js';

/** Versions of the pieces a worker runs on. */
export interface SoftwareVersions {
  /** `@celeriac/runtime`. */
  readonly celeriac: string;
  readonly bullmq: string;
  /** Node.js, without the leading `v`. */
  readonly node: string;
  /** The Redis server's version, or `unknown` when the worker may not ask (ACL without INFO). */
  readonly redis: string;
}

const require = createRequire(import.meta.url);

function packageVersion(path: string): string {
  try {
    const version = (require(path) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}

let local: Omit<SoftwareVersions, 'redis'> | undefined;

/** Versions known without asking Redis (read once). */
export function localVersions(): Omit<SoftwareVersions, 'redis'> {
  // Two levels up from src/control-plane/ and from dist/control-plane/ alike.
  local ??= { celeriac: packageVersion('../../package.json'), bullmq: packageVersion('bullmq/package.json'), node: process.versions.node };
  return local;
}

/** The Redis server's version from `INFO server`, or `unknown`. */
export async function redisVersion(redis: RedisClient): Promise<string> {
  try {
    const info = await redis.info('server');
    return /^redis_version:(.+?)\r?$/m.exec(info)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
