/**
 * @module @celeriac/monitor
 *
 * Flower for Celeriac: a web monitor of an app's workers (online from heartbeats, counters,
 * queues; shut down, consume, resize, rate-limit), its tasks (from task events: filters, search,
 * pages that stay fast with 100 000 tasks), each task (arguments, result or traceback, links,
 * revoke, terminate, retry), each workflow (its graph drawn live, group progress, why a task
 * waits) and its queues (counts, purge) — with Flower's HTTP API, Server-Sent Events and
 * Prometheus metrics. It reads and acts only through `@celeriac/runtime`'s public API.
 *
 * `createMonitor` returns a fetch-style handler that mounts in any server; `startMonitor` serves
 * it on Node.js, safe by default (127.0.0.1, basic auth required elsewhere).
 *
 * @example
 * ```ts
 * import { createApp } from '@celeriac/runtime';
 * import { startMonitor } from '@celeriac/monitor';
 *
 * const app = createApp({ redis: process.env.REDIS_URL });
 * const monitor = await startMonitor(app, { port: 5555 });
 * console.log(`open ${monitor.url}`);
 * // …
 * await monitor.close();
 * await app.close();
 * ```
 */
export { createMonitor } from './monitor.js';
export type { MonitorHandler } from './monitor.js';
export { startMonitor } from './server.js';
export type { RunningMonitor } from './server.js';
export { parseBasicAuth, parseUrlPrefix, isLoopback, DEFAULT_PORT, DEFAULT_ADDRESS, DEFAULT_MAX_TASKS, DEFAULT_INSPECT_TIMEOUT } from './options.js';
export type { MonitorOptions, StartMonitorOptions, MonitorUser } from './options.js';
export { MonitorOptionError } from './errors.js';
export type { MonitorErrorCode } from './errors.js';
