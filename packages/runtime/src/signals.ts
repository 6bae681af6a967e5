/**
 * Control-flow signals a handler throws through `ctx.retry()` / `ctx.replace()`. They are not
 * errors (they do not extend `CeleriacError`): the worker catches them and never records them as
 * a task's failure.
 */

/** Thrown by `ctx.retry()`: run this task again later. */
export class RetrySignal {
  readonly name = 'Retry';
  readonly message = 'Retry in the task has been requested';

  constructor(
    /** Seconds to wait; when unset the task's backoff decides. */
    readonly countdown: number | undefined,
    /** The error to record meanwhile, and to fail with once retries run out. */
    readonly error: unknown,
    /** Overrides the task's retry limit for this decision; `null` for no limit. */
    readonly maxRetries: number | null | undefined,
  ) {}
}

/** Thrown by `ctx.replace()` once the replacement is applied: this task's own return is void. */
export class ReplacedSignal {
  readonly name = 'Replaced';
  readonly message = 'The task has been replaced by a new canvas';
}
