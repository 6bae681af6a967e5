/**
 * Integration-test helpers: every test gets an app on the private test Redis under its own
 * prefix, and everything under that prefix is deleted afterwards.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, inject } from 'vitest';
import { consoleLogger, createApp, type App, type AppOptions } from '@celeriac/runtime';
import { deletePrefixes } from '../../../test/delete-prefixes.js';
import { monitorCommands, type MonitorFeed } from '../../../test/monitor-feed.js';

const opened: { app: App; prefix: string }[] = [];

export function redisUrl(): string {
  return inject('redisUrl');
}

/**
 * A fresh app under a unique prefix; closed and cleaned up after the test. Its logger is silent
 * unless the test gives one: tests assert on outcomes, and failing tasks on purpose is common.
 */
export function testApp(options: Omit<AppOptions, 'redis'> = {}): App {
  const prefix = options.prefix ?? `test-${randomUUID()}`;
  const app = createApp({ logger: consoleLogger('silent'), ...options, prefix, redis: redisUrl() });
  opened.push({ app, prefix });
  return app;
}

/** A command Redis executed, as MONITOR reports it: its name and arguments, and the client's address. */
export interface Executed {
  readonly args: readonly string[];
  readonly source: string;
}

const monitors: MonitorFeed[] = [];

/** What MONITOR saw: every command Redis executed, except those Lua scripts called, in order. */
export interface Monitored {
  readonly executed: readonly Executed[];
  /** Resolves once `executed` holds every command Redis ran before this call (MONITOR lags). */
  caughtUp(): Promise<void>;
}

/** Starts watching every command Redis executes (Redis's MONITOR). */
export async function monitor(): Promise<Monitored> {
  const executed: Executed[] = [];
  const feed = await monitorCommands(redisUrl(), ({ args, source }) => {
    if (source !== 'lua') executed.push({ args, source }); // commands of scripts are listed too
  });
  monitors.push(feed);
  return { executed, caughtUp: () => feed.caughtUp() };
}

/** Worker options that notice a dead worker's jobs within about a second. */
export const FAST_RECOVERY = { lockDuration: 1_000, stalledInterval: 500 } as const;

afterEach(async () => {
  for (const feed of monitors.splice(0)) feed.close();
  const toClose = opened.splice(0);
  await Promise.all(toClose.map(({ app }) => app.close()));
  await deletePrefixes(redisUrl(), toClose.map(({ prefix }) => prefix));
});
