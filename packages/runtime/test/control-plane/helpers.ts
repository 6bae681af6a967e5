/**
 * Helpers for the control-plane integration tests: connections to the private test Redis under a
 * prefix of their own (deleted afterwards), a logger that records what it is told, and a
 * redis-server of the test's own on a chosen port, for the tests where Redis is down at first.
 * There is no app here: the control plane is built on plain ioredis connections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, inject } from 'vitest';
import { deletePrefixes } from '../../../../test/delete-prefixes.js';
import { createControlPlane, type ControlPlane } from '../../src/control-plane/index.js';
import { RateLimitedLog, type Logger } from '../../src/logger.js';
import { ChannelSubscriber } from '../../src/subscriber.js';

export function redisUrl(): string {
  return inject('redisUrl');
}

const cleanups: (() => unknown)[] = [];
const prefixes = new Set<string>();

/** Runs `cleanup` after the test, last registered first. */
export function onCleanup(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

/** A unique prefix whose keys are deleted after the test. */
export function testPrefix(): string {
  const prefix = `test-${randomUUID()}`;
  prefixes.add(prefix);
  return prefix;
}

/** A command connection, disconnected after the test. */
export function connect(url: string = redisUrl(), options: RedisOptions = {}): Redis {
  const redis = new Redis(url, options);
  redis.on('error', () => {}); // the tests that take Redis away expect errors
  onCleanup(() => redis.disconnect());
  return redis;
}

/** A logger that keeps its lines. */
export function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: () => {},
    info: () => {},
    warn: (message) => lines.push(`warn: ${message}`),
    error: (message, detail) => lines.push(`error: ${message} ${detail instanceof Error ? detail.message : ''}`),
  };
}

/** A subscriber connection like an app's, closed after the test. */
export function testSubscriber(redis: Redis, logger: Logger = recordingLogger()): ChannelSubscriber {
  const subscriber = new ChannelSubscriber(redis, new RateLimitedLog(logger));
  onCleanup(() => subscriber.close());
  return subscriber;
}

/** A control plane on its own connection and prefix, closed after the test. */
export function testPlane(options: { prefix?: string; url?: string; logger?: Logger; presenceRetention?: number } = {}): ControlPlane & {
  readonly redis: Redis;
  readonly prefix: string;
} {
  const prefix = options.prefix ?? testPrefix();
  const redis = connect(options.url);
  const logger = options.logger ?? recordingLogger();
  const plane = createControlPlane({
    redis,
    subscriber: testSubscriber(redis, logger),
    prefix,
    logger,
    ...(options.presenceRetention === undefined ? {} : { presenceRetention: options.presenceRetention }),
  });
  return { ...plane, redis, prefix };
}

/** A TCP port nothing listens on (at the time of asking). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server of this test's own on `port`; stopped (by its pid) after the test. */
export interface OwnRedis {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startRedisOn(port: number): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'celeriac-control-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }).finally(() => rmSync(dir, { recursive: true, force: true }));
  onCleanup(stop);
  // Ready once it answers PING.
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (error) {
        probe.disconnect();
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server on port ${port} did not start`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } finally {
    probe.disconnect();
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid!, stop };
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // keep cleaning
    }
  }
  await deletePrefixes(redisUrl(), prefixes);
  prefixes.clear();
});
