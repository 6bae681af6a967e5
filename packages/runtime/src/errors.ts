/**
 * The runtime's errors. Each extends `CeleriacError` with a code of {@link RuntimeErrorCode} and
 * says what went wrong and what to do. Errors raised inside a task travel through Redis as a
 * stored failure (see failure.ts) and are rebuilt as these classes on the waiting side.
 */
import { CeleriacError } from '@celeriac/canvas';

/** Every machine-readable code the runtime's errors carry. */
export type RuntimeErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_REGISTERED'
  | 'TASK_FAILED'
  | 'CHORD_FAILED'
  | 'TIMEOUT'
  | 'RESULT_NOT_FOUND'
  | 'INVALID_JOB'
  | 'REVOKED'
  | 'TIME_LIMIT'
  | 'MAX_RETRIES'
  | 'ENCODE'
  | 'WORKER_LOST'
  | 'CONNECTION'
  | 'PERMISSION'
  | 'PAYLOAD_TOO_LARGE'
  | 'POOL_START'
  | 'CLOSED';

/**
 * A runtime API was called with an argument that cannot work (an option of the wrong type, an
 * unknown Redis client). Canvases have their own error, `CanvasError`.
 */
export class InvalidArgumentError extends CeleriacError<RuntimeErrorCode> {
  /** The argument or option at fault, e.g. `resultTtl` or `options.rateLimit`. */
  readonly argument: string;

  constructor(argument: string, message: string) {
    super('INVALID_ARGUMENT', `${argument}: ${message}`);
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}

/** A task definition option has the wrong shape. */
export class InvalidTaskOptionError extends InvalidArgumentError {
  constructor(task: string, option: string, message: string) {
    super(`options.${option}`, `${message} (task "${task}")`);
    this.name = 'InvalidTaskOptionError';
  }
}

/**
 * A task failed; `get()` rejects with this. The error the handler threw, as rebuilt from Redis,
 * is its `cause` (with the remote class name, message and stack).
 */
export class TaskError extends CeleriacError<RuntimeErrorCode> {
  /** Name of the task that failed. */
  readonly task: string;
  /** Id of the task that failed. */
  readonly taskId: string;
  /** Class name of the error the handler threw (e.g. `TypeError`). */
  readonly remoteName: string;
  /** Stack trace from the worker that ran the task. */
  readonly remoteStack: string | undefined;

  /** @internal rebuilt from a stored failure by the runtime. */
  constructor(details: { task: string; id: string; name: string; message: string; stack?: string | undefined }, cause: Error) {
    super('TASK_FAILED', `Task ${details.task}[${details.id}] raised ${details.name}: ${details.message}`, { cause });
    this.name = 'TaskError';
    this.task = details.task;
    this.taskId = details.id;
    this.remoteName = details.name;
    this.remoteStack = details.stack;
  }
}

/**
 * The error a handler threw, rebuilt in the process that waits for it: `name`, `message` and
 * `stack` are the remote ones. It is the `cause` of a {@link TaskError}.
 */
export class RemoteTaskError extends Error {
  /** @internal rebuilt from a stored failure by the runtime. */
  constructor(name: string, message: string, stack: string | undefined, cause?: Error) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = name;
    if (stack !== undefined) this.stack = stack;
  }
}

/** The task's name is not registered in the worker that received it. */
export class NotRegisteredError extends CeleriacError<RuntimeErrorCode> {
  readonly task: string;

  constructor(task: string, registered?: readonly string[]) {
    super(
      'NOT_REGISTERED',
      `Task "${task}" is not registered in the worker that received it` +
        (registered === undefined ? '' : ` (registered: ${registered.length > 0 ? registered.join(', ') : 'none'})`) +
        '. Register it with app.task(name, handler) in the worker process, or fix the name.',
    );
    this.name = 'NotRegisteredError';
    this.task = task;
  }
}

/** A chord's header member failed, so its body never ran. `cause` is the member's error. */
export class ChordError extends CeleriacError<RuntimeErrorCode> {
  /** Id of the header member that failed. */
  readonly failedId: string;

  constructor(failedId: string, message: string, cause: Error) {
    super('CHORD_FAILED', `Dependency ${failedId} raised ${message}`, { cause });
    this.name = 'ChordError';
    this.failedId = failedId;
  }
}

/** Waiting for a result took longer than the given timeout. The task itself keeps running. */
export class TimeoutError extends CeleriacError<RuntimeErrorCode> {
  constructor(what: string, timeoutMs: number) {
    super('TIMEOUT', `${what} did not finish within ${timeoutMs} ms. The task keeps running; wait again or raise the timeout.`);
    this.name = 'TimeoutError';
  }
}

/** A stored job or workflow record is not what this version of Celeriac wrote. */
export class InvalidJobError extends CeleriacError<RuntimeErrorCode> {
  constructor(message: string) {
    super('INVALID_JOB', message);
    this.name = 'InvalidJobError';
  }
}

/**
 * A value cannot be stored faithfully as JSON (Celery's `EncodeError`): a task returned a `Map`,
 * `NaN`, a `BigInt`, a function, a cycle… The message names the path, e.g. `result.a[2]: NaN is not JSON`.
 */
export class EncodeError extends CeleriacError<RuntimeErrorCode> {
  /** Path of the offending value, e.g. `result.a[2]`. */
  readonly path: string;

  constructor(path: string, message: string) {
    super('ENCODE', `${path}: ${message}`);
    this.name = 'EncodeError';
    this.path = path;
  }
}

/** The app or worker was used after `close()`. */
export class ClosedError extends CeleriacError<RuntimeErrorCode> {
  constructor(what: string) {
    super('CLOSED', `${what} is closed; create a new one.`);
    this.name = 'ClosedError';
  }
}

/** No workflow knows this result id: it was never applied here, or it expired (see `resultTtl`). */
export class ResultNotFoundError extends CeleriacError<RuntimeErrorCode> {
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
export class RevokedError extends CeleriacError<RuntimeErrorCode> {
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
export class TimeLimitExceeded extends CeleriacError<RuntimeErrorCode> {
  constructor(seconds: number) {
    super('TIME_LIMIT', `the task exceeded its hard time limit of ${seconds} s; raise timeLimit or make the task faster`);
    this.name = 'TimeLimitExceeded';
  }
}

/** The reason a handler's AbortSignal fires at its `softTimeLimit` (Celery's `SoftTimeLimitExceeded`). */
export class SoftTimeLimitExceeded extends CeleriacError<RuntimeErrorCode> {
  constructor(seconds: number) {
    super('TIME_LIMIT', `the task exceeded its soft time limit of ${seconds} s; clean up and return or throw`);
    this.name = 'SoftTimeLimitExceeded';
  }
}

/** `ctx.retry()` was called after the task had used all its retries and gave no error of its own. */
export class MaxRetriesExceededError extends CeleriacError<RuntimeErrorCode> {
  constructor(task: string, retries: number) {
    super('MAX_RETRIES', `Task ${task} was retried ${retries} times, its maximum; raise maxRetries or let it fail`);
    this.name = 'MaxRetriesExceededError';
  }
}

/**
 * The worker running a task stopped while running it — it crashed, was killed, or lost Redis long
 * enough for its lock to lapse — more times than `maxStalledCount` allows, so the task was failed
 * to let its workflow go on (Celery's `WorkerLostError`).
 */
export class WorkerLostError extends CeleriacError<RuntimeErrorCode> {
  /** `message` replaces the default one, which explains a stalled job; a pool child's death has its own. */
  constructor(stalls: number, message?: string) {
    super(
      'WORKER_LOST',
      message ??
        `the task's worker stopped while running it ${stalls} time(s) (crashed, killed, or cut off from Redis), more than maxStalledCount allows. ` +
          'If the task itself crashes its process (memory, a native module), fix it; otherwise raise maxStalledCount.',
    );
    this.name = 'WorkerLostError';
  }
}

/**
 * A worker's processes pool could not start: a child could not load the app module (a syntax
 * error, a missing import, no app exported), or children kept exiting before they were ready.
 * `waitUntilReady()` rejects with it, and the worker closes.
 */
export class PoolStartError extends CeleriacError<RuntimeErrorCode> {
  /** The app module the children load (a file URL). */
  readonly appModule: string;

  constructor(appModule: string, message: string, cause?: Error) {
    super('POOL_START', message, cause === undefined ? undefined : { cause });
    this.name = 'PoolStartError';
    this.appModule = appModule;
  }
}

// ---------------------------------------------------------------------------------------------
// Control plane (DESIGN §7)
// ---------------------------------------------------------------------------------------------

/**
 * An argument given to a control-plane call (a control command, an inspect query, an event
 * history page) is not valid. Workers send the same error back, by name, for a bad command.
 */
export class ControlArgumentError extends InvalidArgumentError {
  constructor(argument: string, message: string) {
    super(argument, message);
    this.name = 'ControlArgumentError';
  }
}

/**
 * A control request could not even be sent: Redis did not accept the reply subscription within
 * the request's timeout. Workers were not asked anything.
 */
export class ControlTimeoutError extends CeleriacError<RuntimeErrorCode> {
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

/** Redis could not be reached, or refused the connection; the message says why and what to check. */
export class ConnectionError extends CeleriacError<RuntimeErrorCode> {
  /** `host:port` of the Redis it was about (no credentials). */
  readonly address: string;

  constructor(address: string, reason: string, cause?: unknown) {
    super('CONNECTION', `cannot use Redis at ${address}: ${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'ConnectionError';
    this.address = address;
  }
}

/** The Redis user lacks a permission Celeriac needs; the message names it and what to grant. */
export class PermissionError extends CeleriacError<RuntimeErrorCode> {
  /** What to add to the user's ACL rules, e.g. `+info`, `~celeriac:*`, `&celeriac:*`. */
  readonly grant: string;

  constructor(message: string, grant: string, cause?: unknown) {
    super('PERMISSION', message, cause === undefined ? undefined : { cause });
    this.name = 'PermissionError';
    this.grant = grant;
  }
}

/**
 * A task's arguments or result are larger than the app's `maxPayloadSize`: Redis would keep them,
 * in memory, for the whole result TTL. Send a reference (an object store key, a URL) instead.
 */
export class PayloadTooLargeError extends CeleriacError<RuntimeErrorCode> {
  /** Bytes of JSON the payload takes, and the limit. */
  readonly size: number;
  readonly limit: number;

  constructor(what: string, size: number, limit: number) {
    super(
      'PAYLOAD_TOO_LARGE',
      `${what} takes ${size} bytes of JSON, more than maxPayloadSize (${limit}); store large data elsewhere and pass a reference, or raise maxPayloadSize`,
    );
    this.name = 'PayloadTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}
