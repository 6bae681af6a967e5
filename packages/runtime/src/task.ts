/**
 * Task definitions: what `app.task(...)` registers and returns. A registered task is also a typed
 * task reference (`.s`, `.si`) from the canvas package, plus `delay`/`applyAsync` to send it.
 */
import type { Canvas, Json, Kwargs, TaskOptions, TaskRef } from '@celeriac/canvas';
import { InvalidTaskOptionError } from './errors.js';
import type { RunOptions } from './plan.js';
import type { AsyncResult } from './result.js';

/** What a `bind: true` handler receives first (Celery's `self.request`). */
export interface TaskContext {
  /** This task's id (its result id). */
  readonly id: string;
  /** Registered task name. */
  readonly task: string;
  /** The queue the task was taken from. */
  readonly queue: string;
  /** Id of the first task of the workflow. */
  readonly rootId: string;
  /** Id of the task whose completion sent this one; null for a top-level call. */
  readonly parentId: string | null;
  /** Id of the enclosing group or chord header, if any. */
  readonly groupId: string | null;
  /** Position in that group. */
  readonly groupIndex: number | null;
  /** How many times this task has been retried so far. */
  readonly retries: number;
  /** Keyword arguments sent with the signature (Celery kwargs). */
  readonly kwargs: Kwargs;
  /**
   * Aborted when the task should stop: its soft time limit passed (`SoftTimeLimitExceeded`), it was
   * revoked with `terminate`, it hit its hard time limit, or the worker is shutting down.
   */
  readonly signal: AbortSignal;
  /**
   * Asks for this task to run again later with the same id and arguments (Celery's
   * `self.retry()`); `throw ctx.retry(...)` or just call it — it never returns. The result shows
   * RETRY meanwhile. Once the task's `maxRetries` are used up the task fails with `error`, or with
   * `MaxRetriesExceededError` when none was given.
   */
  retry(options?: RetryOptions): never;
  /**
   * Replaces this task with a canvas (Celery's `Task.replace`): the canvas is applied, this task's
   * own return value is ignored, and its result — and everything after it in the workflow —
   * receives the replacement's final result (a list, when the canvas ends in a group).
   */
  replace(canvas: Canvas): Promise<never>;
}

/** Options of `ctx.retry()`. */
export interface RetryOptions {
  /** Seconds to wait before the retry; default: the task's backoff, or immediately. */
  readonly countdown?: number;
  /** The reason; stored while retrying and raised once retries run out. */
  readonly error?: unknown;
  /** Overrides the task's `maxRetries` for this decision; `null` for no limit. */
  readonly maxRetries?: number | null;
}

/** An error class, or an error `name`, that `autoretryFor` matches. */
export type ErrorMatcher = string | (abstract new (...args: never[]) => Error);

/** Options of `app.task(name, handler, options)`: defaults for every call, plus `bind`. */
export interface TaskDefinitionOptions extends RunOptions {
  /** Pass a {@link TaskContext} as the handler's first argument. */
  readonly bind?: boolean;
  /**
   * Start at most this many tasks of this name per second, minute or hour across all workers:
   * `"10/s"`, `"100/m"`, `"1000/h"` (a bare number is per second). Celery's `rate_limit`.
   */
  readonly rateLimit?: string | number;
  /**
   * Which thrown errors are retried (while `maxRetries` last). Default: every error when `maxRetries`
   * is set. Celery's `autoretry_for`.
   */
  readonly autoretryFor?: readonly ErrorMatcher[];
}

/**
 * Options given when sending work: any task option, winning over the task's defaults and the
 * signature's own (Celery's precedence). Times may be `Date`s here; they are stored as ISO text.
 */
export interface CallOptions extends Omit<TaskOptions, 'eta' | 'expires'> {
  /** Earliest time to run. */
  readonly eta?: string | Date;
  /** Seconds after sending, or a time, after which the task is revoked (ExpiredError) instead of run. */
  readonly expires?: number | string | Date;
}

/** Options of `applyAsync`: call-time args/kwargs plus {@link CallOptions}. */
export interface ApplyOptions<TArgs extends readonly unknown[] = readonly Json[]> extends CallOptions {
  readonly args?: TArgs;
  readonly kwargs?: Kwargs;
}

/** Turns `Date`s in call options into the ISO text canvases store. */
export function toTaskOptions(options: CallOptions): TaskOptions {
  const { eta, expires, ...rest } = options;
  const converted: { -readonly [K in keyof TaskOptions]: TaskOptions[K] } = rest;
  if (eta !== undefined) converted.eta = eta instanceof Date ? eta.toISOString() : eta;
  if (expires !== undefined) converted.expires = expires instanceof Date ? expires.toISOString() : expires;
  return converted;
}

/** A registered task: a typed reference for building canvases, and a way to send it directly. */
export interface AppTask<TArgs extends readonly unknown[], TResult> extends TaskRef<TArgs, TResult> {
  /** Sends the task with these arguments. */
  delay(...args: TArgs): Promise<AsyncResult<TResult, null>>;
  /** Sends the task with arguments, kwargs and options (countdown, queue, priority, taskId, ...). */
  applyAsync(options?: ApplyOptions<TArgs>): Promise<AsyncResult<TResult, null>>;
}

/** A handler as the worker stores it. */
export interface RegisteredTask {
  readonly name: string;
  readonly handler: (...args: never[]) => unknown;
  readonly bind: boolean;
  readonly defaults: RunOptions;
  /** Milliseconds between two starts (from `rateLimit`), if limited. */
  readonly rateInterval?: number;
  readonly autoretryFor?: readonly ErrorMatcher[];
}

/** Whether `autoretryFor` covers this error (everything when it is not set). */
export function autoretryMatches(task: RegisteredTask, error: unknown): boolean {
  if (task.autoretryFor === undefined) return true;
  return task.autoretryFor.some((matcher) =>
    typeof matcher === 'string' ? error instanceof Error && error.name === matcher : error instanceof matcher,
  );
}

/** Parses a Celery rate limit (`"10/s"`, `"100/m"`, `"5/h"`, `10`) into ms between starts. */
export function rateInterval(limit: string | number, task: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(String(limit));
  const count = match === null ? NaN : Number(match[1]);
  if (match === null || !(count > 0)) {
    throw new InvalidTaskOptionError(task, 'rateLimit', `expected "<n>/s", "<n>/m", "<n>/h" or a positive number, got ${JSON.stringify(limit)}`);
  }
  const period = { s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  return period / count;
}
