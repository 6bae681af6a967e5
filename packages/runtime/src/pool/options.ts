/**
 * The pool options of `app.worker(...)` — which pool runs the handlers, and for the processes pool
 * the app module its children load, how many children it keeps, and when it replaces them — read
 * and checked in one place, so every mistake is an `InvalidArgumentError` naming the option.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../errors.js';

/**
 * Which pool runs a worker's handlers (Celery's `--pool`): `async` runs them on this process's
 * event loop; `processes` runs them in child processes (Celery's prefork), so a CPU-bound handler
 * does not stall the worker and a hard time limit can stop a handler that never yields.
 *
 * @example
 * ```ts
 * const pool: PoolKind = 'processes';
 * ```
 */
export type PoolKind = 'async' | 'processes';

/**
 * Autoscaling of the processes pool (Celery's `--autoscale MAX,MIN`): the pool keeps at least
 * `min` children, starts one more (up to `max`) whenever a task waits for a child, and retires a
 * child above `min` once it has been idle for `keepalive` milliseconds.
 *
 * @example
 * ```ts
 * app.worker({ pool: 'processes', appModule: './app.ts', autoscale: { max: 8, min: 2 } });
 * ```
 */
export interface AutoscaleOptions {
  /** Most children at once, and so most tasks run at once. A whole number >= 1. */
  readonly max: number;
  /** Fewest children kept while idle. A whole number, 0 <= min <= max. Default 0. */
  readonly min?: number | undefined;
  /**
   * Milliseconds a child above `min` may stay idle before it is retired (Celery's
   * `AUTOSCALE_KEEPALIVE`). Default 30 000.
   */
  readonly keepalive?: number | undefined;
}

/** The pool a worker runs, as read from its options. */
export type PoolConfig =
  | { readonly kind: 'async' }
  | {
      readonly kind: 'processes';
      /** File URL of the module the children import to get the app. */
      readonly appModule: URL;
      /** Fixed size (Celery's `--concurrency`), or autoscaling bounds. */
      readonly size: { readonly fixed: number } | { readonly max: number; readonly min: number; readonly keepalive: number };
      /** Tasks a child runs before it is replaced (Celery's `--max-tasks-per-child`); undefined: never. */
      readonly maxTasksPerChild: number | undefined;
    };

/** The pool options of `WorkerOptions`. */
export interface PoolInput {
  readonly pool?: PoolKind | undefined;
  readonly appModule?: string | URL | undefined;
  readonly concurrency?: number | undefined;
  readonly maxTasksPerChild?: number | undefined;
  readonly autoscale?: AutoscaleOptions | undefined;
}

/** Celery's `AUTOSCALE_KEEPALIVE`, in ms. */
export const DEFAULT_KEEPALIVE_MS = 30_000;

const isCount = (value: unknown, least: number): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= least;

/**
 * Reads and checks the pool options; `defaultConcurrency` is the size when neither `concurrency`
 * nor `autoscale` is given. Throws `InvalidArgumentError` naming the option at fault.
 */
export function poolConfigOf(options: PoolInput, defaultConcurrency: number): PoolConfig {
  const { pool = 'async', appModule, concurrency, maxTasksPerChild, autoscale } = options;
  if (pool !== 'async' && pool !== 'processes') {
    throw new InvalidArgumentError('pool', `expected "async" or "processes", got ${JSON.stringify(pool)}`);
  }
  if (pool === 'async') {
    // Silently ignoring these would leave a user believing children are recycled or scaled.
    if (maxTasksPerChild !== undefined) {
      throw new InvalidArgumentError('maxTasksPerChild', 'only the processes pool has children to replace; add pool: "processes"');
    }
    if (autoscale !== undefined) {
      throw new InvalidArgumentError('autoscale', 'only the processes pool autoscales; add pool: "processes" (or set concurrency)');
    }
    return { kind: 'async' };
  }
  if (maxTasksPerChild !== undefined && !isCount(maxTasksPerChild, 1)) {
    throw new InvalidArgumentError('maxTasksPerChild', `expected a whole number >= 1, got ${String(maxTasksPerChild)}`);
  }
  return {
    kind: 'processes',
    appModule: appModuleUrl(appModule),
    size: autoscale === undefined ? { fixed: concurrency ?? defaultConcurrency } : autoscaleOf(autoscale, concurrency),
    maxTasksPerChild,
  };
}

/**
 * The app module as a file URL. A path is resolved against the current directory, as the CLI's
 * `-A` is; the file must exist, so a typo fails here rather than in every child.
 */
function appModuleUrl(given: string | URL | undefined): URL {
  if (given === undefined) {
    throw new InvalidArgumentError(
      'appModule',
      'the processes pool needs the module its children import to get the app (a path or file URL of a file that exports `app` or a default app)',
    );
  }
  let url: URL;
  if (given instanceof URL) {
    url = given;
  } else if (typeof given === 'string' && given !== '') {
    url = given.startsWith('file:') ? new URL(given) : pathToFileURL(isAbsolute(given) ? given : resolve(given));
  } else {
    throw new InvalidArgumentError('appModule', `expected a path or a file URL, got ${given === '' ? 'an empty string' : typeof given}`);
  }
  if (url.protocol !== 'file:') {
    throw new InvalidArgumentError('appModule', `expected a path or a file: URL, got ${JSON.stringify(url.href)}`);
  }
  const path = fileURLToPath(url);
  if (!existsSync(path)) {
    throw new InvalidArgumentError('appModule', `no file at ${path}${typeof given === 'string' && !isAbsolute(given) ? ` (resolved from ${JSON.stringify(given)} against ${process.cwd()})` : ''}`);
  }
  return url;
}

function autoscaleOf(autoscale: AutoscaleOptions, concurrency: number | undefined): { max: number; min: number; keepalive: number } {
  if (typeof autoscale !== 'object' || autoscale === null) {
    throw new InvalidArgumentError('autoscale', `expected { max, min?, keepalive? }, got ${autoscale === null ? 'null' : typeof autoscale}`);
  }
  if (concurrency !== undefined) {
    throw new InvalidArgumentError('concurrency', 'give concurrency (a fixed pool) or autoscale (a pool between min and max), not both');
  }
  const { max, min = 0, keepalive = DEFAULT_KEEPALIVE_MS } = autoscale;
  if (!isCount(max, 1)) throw new InvalidArgumentError('autoscale.max', `expected a whole number >= 1, got ${String(max)}`);
  if (!isCount(min, 0) || min > max) {
    throw new InvalidArgumentError('autoscale.min', `expected a whole number from 0 to max (${max}), got ${String(min)}`);
  }
  if (typeof keepalive !== 'number' || !Number.isFinite(keepalive) || keepalive <= 0) {
    throw new InvalidArgumentError('autoscale.keepalive', `expected milliseconds > 0, got ${String(keepalive)}`);
  }
  return { max, min, keepalive };
}
