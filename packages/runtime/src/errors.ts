/**
 * Runtime errors. Each extends the canvas package's `CeleriacError`, carries a stable `code`, and
 * says what went wrong and what to do. Errors raised inside a task travel through Redis as a
 * {@link RemoteError} record and are rebuilt here on the waiting side.
 */
import { CeleriacError } from '@celeriac/canvas';

/** A failure as stored in Redis: enough to rebuild a typed error in any process. */
export interface RemoteError {
  /** Remote error class name, e.g. `TypeError` or `ChordError`. */
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** `CeleriacError` code when the failure was one of ours. */
  readonly code?: string;
  /** Task name and id of the task that failed. */
  readonly task: string;
  readonly id: string;
  /** For a ChordError: the header member that failed, and its error. */
  readonly cause?: RemoteError;
}

/** A task raised an error; `get()` rejects with this. */
export class TaskError extends CeleriacError {
  /** Name of the task that failed. */
  readonly task: string;
  /** Id of the task that failed. */
  readonly taskId: string;
  /** Class name of the error the handler threw (e.g. `TypeError`). */
  readonly remoteName: string;
  /** Stack trace from the worker that ran the task. */
  readonly remoteStack: string | undefined;

  constructor(remote: RemoteError) {
    super('TASK_FAILED', `Task ${remote.task}[${remote.id}] raised ${remote.name}: ${remote.message}`);
    this.name = 'TaskError';
    this.task = remote.task;
    this.taskId = remote.id;
    this.remoteName = remote.name;
    this.remoteStack = remote.stack;
  }
}

/** The task's name is not registered in the worker that received it. */
export class NotRegisteredError extends CeleriacError {
  readonly task: string;
  readonly registered: readonly string[];

  constructor(task: string, registered: readonly string[]) {
    super(
      'NOT_REGISTERED',
      `Task "${task}" is not registered in this worker (registered: ${registered.length > 0 ? registered.join(', ') : 'none'}). ` +
        'Register it with app.task(name, handler) in the worker process, or fix the name.',
    );
    this.name = 'NotRegisteredError';
    this.task = task;
    this.registered = registered;
  }
}

/** A chord's header member failed, so its body never ran. `cause` is the member's error. */
export class ChordError extends CeleriacError {
  /** Id of the header member that failed. */
  readonly failedId: string;

  constructor(failedId: string, message: string, cause: Error) {
    super('CHORD_FAILED', `Dependency ${failedId} raised ${message}`, { cause });
    this.name = 'ChordError';
    this.failedId = failedId;
  }
}

/** Waiting for a result took longer than the given timeout. The task itself keeps running. */
export class TimeoutError extends CeleriacError {
  constructor(what: string, timeoutMs: number) {
    super('TIMEOUT', `${what} did not finish within ${timeoutMs} ms. The task keeps running; wait again or raise the timeout.`);
    this.name = 'TimeoutError';
  }
}

/** A stored job or workflow record is not what this version of Celeriac wrote. */
export class InvalidJobError extends CeleriacError {
  constructor(message: string) {
    super('INVALID_JOB', message);
    this.name = 'InvalidJobError';
  }
}

/** The app or worker was used after `close()`. */
export class ClosedError extends CeleriacError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed; create a new one.`);
    this.name = 'ClosedError';
  }
}

/** Captures anything a handler threw as a {@link RemoteError}. */
export function toRemoteError(error: unknown, task: string, id: string): RemoteError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const cause = (error as { remote?: RemoteError }).remote;
    return {
      name: error.name,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(typeof code === 'string' && error instanceof CeleriacError ? { code } : {}),
      task,
      id,
      ...(cause === undefined ? {} : { cause }),
    };
  }
  return { name: 'NonErrorThrown', message: describeThrown(error), task, id };
}

/** Rebuilds the error a waiter should see from its stored record. */
export function fromRemoteError(remote: RemoteError): CeleriacError {
  if (remote.code === 'CHORD_FAILED' && remote.cause !== undefined) {
    const cause = fromRemoteError(remote.cause);
    return new ChordError(remote.cause.id, `${remote.cause.name}: ${remote.cause.message}`, cause);
  }
  if (remote.code === 'REVOKED') {
    return remote.name === 'ExpiredError' ? new ExpiredError(remote.id, remote.message) : new RevokedError(remote.id, remote.message);
  }
  if (remote.code === 'NOT_REGISTERED') {
    const error = new NotRegisteredError(remote.task, []);
    error.message = remote.message;
    return error;
  }
  return new TaskError(remote);
}

function describeThrown(value: unknown): string {
  try {
    return `a non-Error value was thrown: ${JSON.stringify(value) ?? String(value)}`;
  } catch {
    return `a non-Error value was thrown: ${String(value)}`;
  }
}

/** No workflow knows this result id: it was never applied here, or it expired (see `resultTtl`). */
export class ResultNotFoundError extends CeleriacError {
  readonly id: string;

  constructor(id: string) {
    super(
      'RESULT_NOT_FOUND',
      `No result with id "${id}" exists under this app's prefix: it was never applied, or it expired after resultTtl. ` +
        'Check the id and that the app uses the same Redis and prefix as the producer.',
    );
    this.name = 'ResultNotFoundError';
    this.id = id;
  }
}

/** The task was revoked before it finished; it never ran, or its result was discarded. */
export class RevokedError extends CeleriacError {
  readonly taskId: string;

  constructor(taskId: string, message = `Task ${taskId} was revoked`) {
    super('REVOKED', message);
    this.name = 'RevokedError';
    this.taskId = taskId;
  }
}

/** The task's `expires` time passed before it could start, so it was revoked instead of run. */
export class ExpiredError extends RevokedError {
  constructor(taskId: string, message = `Task ${taskId} expired before it started`) {
    super(taskId, message);
    this.name = 'ExpiredError';
  }
}

/** The task ran past its hard `timeLimit` and was failed (Celery's `TimeLimitExceeded`). */
export class TimeLimitExceeded extends CeleriacError {
  constructor(seconds: number) {
    super('TIME_LIMIT', `the task exceeded its hard time limit of ${seconds} s; raise timeLimit or make the task faster`);
    this.name = 'TimeLimitExceeded';
  }
}

/** The reason a handler's AbortSignal fires at its `softTimeLimit` (Celery's `SoftTimeLimitExceeded`). */
export class SoftTimeLimitExceeded extends CeleriacError {
  constructor(seconds: number) {
    super('TIME_LIMIT', `the task exceeded its soft time limit of ${seconds} s; clean up and return or throw`);
    this.name = 'SoftTimeLimitExceeded';
  }
}

/** `ctx.retry()` was called after the task had used all its retries and gave no error of its own. */
export class MaxRetriesExceededError extends CeleriacError {
  constructor(task: string, retries: number) {
    super('MAX_RETRIES', `Task ${task} was retried ${retries} times, its maximum; raise retries or let it fail`);
    this.name = 'MaxRetriesExceededError';
  }
}

// ---------------------------------------------------------------------------------------------
// Control plane (DESIGN §7)
// ---------------------------------------------------------------------------------------------

/**
 * An argument given to a control-plane call (a control command, an inspect query, an event
 * history page) is not valid. Workers send the same error back, by name, for a bad command.
 */
export class ControlArgumentError extends CeleriacError {
  /** The argument that was wrong, e.g. `rate` or `destination[1]`. */
  readonly argument: string;

  constructor(argument: string, message: string) {
    super('INVALID_ARGUMENT', `${argument}: ${message}`);
    this.name = 'ControlArgumentError';
    this.argument = argument;
  }
}

/**
 * A control request could not even be sent: Redis did not accept the reply subscription within
 * the request's timeout. Workers were not asked anything.
 */
export class ControlTimeoutError extends CeleriacError {
  constructor(command: string, timeoutMs: number, cause?: unknown) {
    super(
      'TIMEOUT',
      `control command "${command}" could not be sent: Redis did not accept the reply subscription within ${timeoutMs} ms. ` +
        'Check that Redis is running and reachable at the configured URL, or raise the timeout.',
      cause === undefined ? undefined : { cause },
    );
    this.name = 'ControlTimeoutError';
  }
}
