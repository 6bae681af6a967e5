/**
 * Integration-test helpers: every test gets an app on the private test Redis under its own
 * prefix, and everything under that prefix is deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, inject } from 'vitest';
import { createApp, type App, type AppOptions } from '@celeriac/runtime';

const opened: { app: App; prefix: string }[] = [];

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A fresh app under a unique prefix; closed and cleaned up after the test. */
export function testApp(options: Omit<AppOptions, 'redis'> = {}): App {
  const prefix = options.prefix ?? `test-${randomUUID()}`;
  const app = createApp({ ...options, prefix, redis: redisUrl() });
  opened.push({ app, prefix });
  return app;
}

/** Worker options that notice a dead worker's jobs within about a second. */
export const FAST_RECOVERY = { lockDuration: 1_000, stalledInterval: 500 } as const;

afterEach(async () => {
  const toClose = opened.splice(0);
  await Promise.all(toClose.map(({ app }) => app.close()));
  const redis = new Redis(redisUrl());
  try {
    for (const prefix of new Set(toClose.map(({ prefix }) => prefix))) {
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
});
