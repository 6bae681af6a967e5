/**
 * Task definitions: what `app.task(...)` registers and returns. A registered task is also a typed
 * task reference (`.s`, `.si`) from the canvas package, plus `delay`/`applyAsync` to send it.
 */
import type { Json, Kwargs, TaskOptions, TaskRef } from '@celeriac/canvas';
import type { RunOptions } from './plan.js';
import type { AsyncResult } from './result.js';

/** What a `bind: true` handler receives first (Celery's `self.request`). */
export interface TaskContext {
  /** This task's id (its result id). */
  readonly id: string;
  /** Registered task name. */
  readonly task: string;
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
  /** Aborted when the worker is shutting down without waiting. */
  readonly signal: AbortSignal;
}

/** Options of `app.task(name, handler, options)`: defaults for every call, plus `bind`. */
export interface TaskDefinitionOptions extends RunOptions {
  /** Pass a {@link TaskContext} as the handler's first argument. */
  readonly bind?: boolean;
}

/** Options of `applyAsync`: call-time args/kwargs plus any task option (they win over defaults). */
export interface ApplyOptions<TArgs extends readonly unknown[] = readonly Json[]> extends TaskOptions {
  readonly args?: TArgs;
  readonly kwargs?: Kwargs;
}

/** A registered task: a typed reference for building canvases, and a way to send it directly. */
export interface AppTask<TArgs extends readonly unknown[], TResult> extends TaskRef<TArgs, TResult> {
  /** Sends the task with these arguments. */
  delay(...args: TArgs): Promise<AsyncResult<TResult>>;
  /** Sends the task with arguments, kwargs and options (countdown, queue, priority, taskId, ...). */
  applyAsync(options?: ApplyOptions<TArgs>): Promise<AsyncResult<TResult>>;
}

/** A handler as the worker stores it. */
export interface RegisteredTask {
  readonly name: string;
  readonly handler: (...args: never[]) => unknown;
  readonly bind: boolean;
  readonly defaults: RunOptions;
}
