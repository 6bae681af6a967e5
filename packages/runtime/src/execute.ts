/**
 * Running a handler: builds its context (Celery's `self.request`), applies the soft and hard time
 * limits, and turns whatever happens into an {@link Outcome}. The worker's pipeline is
 * admit → execute → settle; an {@link Executor} is the middle step, so a pool of child processes
 * can run handlers instead of this process.
 */
import type { Canvas } from '@celeriac/canvas';
import { InvalidArgumentError, RevokedError, SoftTimeLimitExceeded, TimeLimitExceeded } from './errors.js';
import type { JobOptions, TaskJob } from './job-data.js';
import { ReplacedSignal, RetrySignal } from './signals.js';
import type { RegisteredTask, RetryOptions, TaskContext } from './task.js';

/** What running a handler came to. */
export type Outcome =
  | { readonly kind: 'success'; readonly value: unknown }
  /**
   * `autoretry`: whether the task's `autoretryFor` matches `error`, when the executor decided it
   * where the error's class exists (a pool child; the worker then holds only a rebuilt copy).
   * Unset, the worker matches `error` itself.
   */
  | { readonly kind: 'failure'; readonly error: unknown; readonly autoretry?: boolean }
  /** The handler asked to run again later (`ctx.retry()`). */
  | { readonly kind: 'retry'; readonly request: RetrySignal }
  /** The handler handed its place to a canvas (`ctx.replace()`), which records its outcome later. */
  | { readonly kind: 'replaced' };

/** One handler call. */
export interface Invocation {
  readonly task: RegisteredTask;
  readonly job: TaskJob;
  /** The queue the job was taken from. */
  readonly queue: string;
  /** The job's options over the task's defaults. */
  readonly options: JobOptions;
  /** Aborts the handler: revoke with terminate, a shutdown, an ended node, a time limit. */
  readonly abort: TaskAbort;
  /** Applies a replacement canvas (`ctx.replace`). */
  replace(canvas: Canvas): Promise<void>;
}

/**
 * Aborting one task: revoke with terminate, a shutdown, an ended node, a time limit. Its
 * AbortSignal (`ctx.signal`) is made only when something asks for it — most handlers never do, and
 * an AbortController per job was a measurable share of a worker's CPU. Aborting with a
 * `RevokedError` (revoke with terminate) also ends the wait for an inline handler, which
 * {@link runInline} cannot stop when it ignores its signal.
 */
export class TaskAbort {
  private controller: AbortController | undefined;
  private why: unknown;
  private done = false;
  /** Set by {@link runInline} while it waits for the handler: rejects that wait. */
  onTerminate: ((reason: RevokedError) => void) | undefined;

  /** Why it was aborted (undefined while it was not). */
  get reason(): unknown {
    return this.why;
  }

  /** The handler's AbortSignal, made on first use. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.done) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  /** Aborts the task; only the first call counts, as with an AbortController. */
  abort(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.why = reason;
    this.controller?.abort(reason);
    if (reason instanceof RevokedError) this.onTerminate?.(reason);
  }
}

/** Runs handlers: in this process ({@link runInline}), or in a pool of child processes. */
export interface Executor {
  run(invocation: Invocation): Promise<Outcome>;
}

/**
 * Runs a handler in this process. JavaScript cannot pre-empt a function: at the hard time limit
 * the task fails and its signal aborts, and a handler that blocked the event loop past its limit
 * fails when it returns. Only a process pool can stop a handler that never yields.
 */
export async function runInline(invocation: Invocation): Promise<Outcome> {
  const { task, job, options, abort } = invocation;
  const timers: NodeJS.Timeout[] = [];
  if (options.softTimeLimit !== undefined) {
    const seconds = options.softTimeLimit;
    timers.push(setTimeout(() => abort.abort(new SoftTimeLimitExceeded(seconds)), seconds * 1000));
  }
  const handler = task.handler as (...args: unknown[]) => unknown;
  const startedAt = Date.now();
  // Revoke with terminate ends the wait: the handler cannot be stopped, its outcome is discarded.
  const run = new Promise<unknown>((resolve, reject) => {
    abort.onTerminate = reject;
    if (abort.reason instanceof RevokedError) reject(abort.reason);
    Promise.resolve()
      .then(() => (task.bind ? handler(contextOf(invocation), ...job.args) : handler(...job.args)))
      .then(resolve, reject);
  });
  try {
    const value = options.timeLimit === undefined ? await run : await Promise.race([run, hardLimit(options.timeLimit, abort, timers)]);
    if (options.timeLimit !== undefined && Date.now() - startedAt > options.timeLimit * 1000) {
      // The handler held the event loop past its limit, so the timer could not fire in time.
      return { kind: 'failure', error: new TimeLimitExceeded(options.timeLimit) };
    }
    return { kind: 'success', value };
  } catch (error) {
    if (error instanceof RetrySignal) return { kind: 'retry', request: error };
    if (error instanceof ReplacedSignal) return { kind: 'replaced' };
    return { kind: 'failure', error };
  } finally {
    timers.forEach(clearTimeout);
    run.catch(() => {}); // a handler that rejects after its hard limit must not crash the process
  }
}

function hardLimit(seconds: number, abort: TaskAbort, timers: NodeJS.Timeout[]): Promise<never> {
  return new Promise<never>((_, reject) => {
    timers.push(
      setTimeout(() => {
        const error = new TimeLimitExceeded(seconds);
        abort.abort(error);
        reject(error);
      }, seconds * 1000),
    );
  });
}

/** The context a `bind: true` handler receives first. */
export function contextOf(invocation: Invocation): TaskContext {
  const { job, queue, abort } = invocation;
  return {
    id: job.id,
    task: job.task,
    queue,
    rootId: job.rootId,
    parentId: job.parentId,
    groupId: job.groupId,
    groupIndex: job.groupIndex,
    retries: job.retries,
    kwargs: job.kwargs,
    get signal(): AbortSignal {
      return abort.signal;
    },
    retry: (options: RetryOptions = {}): never => {
      const { countdown, error, maxRetries } = options;
      if (countdown !== undefined && !(countdown >= 0)) {
        throw new InvalidArgumentError('countdown', `expected seconds >= 0 for ctx.retry, got ${String(countdown)}`);
      }
      throw new RetrySignal(countdown, error, maxRetries);
    },
    replace: async (canvas: Canvas): Promise<never> => {
      await invocation.replace(canvas);
      throw new ReplacedSignal();
    },
  };
}
