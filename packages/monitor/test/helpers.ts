/**
 * Integration-test helpers: apps on the private test Redis under their own prefix (deleted after
 * each test), monitors closed after each test, and requests to a monitor's handler.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, inject } from 'vitest';
import { consoleLogger, createApp, type App, type AppOptions, type Logger } from '@celeriac/runtime';
import type { MonitorHandler } from '@celeriac/monitor';
import { deletePrefixes } from '../../../test/delete-prefixes.js';

const opened: { app: App; prefix: string }[] = [];
const closers: (() => Promise<void>)[] = [];

export function redisUrl(): string {
  return inject('redisUrl');
}

/** A fresh app under a unique prefix, silent; closed and its keys deleted after the test. */
export function testApp(options: Omit<AppOptions, 'redis'> = {}): App {
  const prefix = options.prefix ?? `test-${randomUUID()}`;
  const app = createApp({ logger: consoleLogger('silent'), ...options, prefix, redis: redisUrl() });
  opened.push({ app, prefix });
  return app;
}

/** Closes something after the test (before its app). */
export function closeAfter(close: () => Promise<void>): void {
  closers.push(close);
}

/** A logger that keeps what it is told. */
export function recordingLogger(): Logger & { readonly lines: { level: string; message: string; detail: unknown }[] } {
  const lines: { level: string; message: string; detail: unknown }[] = [];
  const log = (level: string) => (message: string, detail?: unknown) => void lines.push({ level, message, detail });
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** Options of {@link call}. */
export interface CallOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** Sends one request to a monitor's handler, as a server would. */
export function call(monitor: MonitorHandler, path: string, options: CallOptions = {}): Promise<Response> {
  return monitor(new Request(`http://127.0.0.1:5555${path}`, { method: options.method ?? 'GET', headers: options.headers ?? {}, ...(options.body === undefined ? {} : { body: options.body }) }));
}

/** A JSON body: an error's message, or any fields. */
export interface Body {
  readonly error?: string;
  readonly [field: string]: unknown;
}

/** The `error` of a JSON response. */
export async function errorOf(response: Response): Promise<string> {
  return ((await response.json()) as Body).error ?? '';
}

/** The JSON of a response, checking its status first. */
export async function json<T = Body>(response: Response | Promise<Response>, status = 200): Promise<T> {
  const res = await response;
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Waits until `check` returns true, checking every 50 ms, or fails after `timeout` ms. */
export async function until(check: () => boolean | Promise<boolean>, timeout = 10_000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  const toClose = opened.splice(0);
  await Promise.all(toClose.map(({ app }) => app.close()));
  await deletePrefixes(redisUrl(), toClose.map(({ prefix }) => prefix));
});
