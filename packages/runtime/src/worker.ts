/**
 * The worker: consumes BullMQ queues, runs handlers, and advances workflows. For each job it
 * (1) checks a redelivered job (or, with `trackStarted`, every job) against the node's state,
 * marking it STARTED or learning that it already ended, (2) runs the handler under its limits,
 * (3) records the outcome and releases successors atomically (Lua), and (4) enqueues what was
 * released. A crash between any two steps is repaired by BullMQ's stalled-job redelivery: step 1
 * then finds the node done, and step 3 returns the outbox to finish.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { CanvasError, type Canvas } from '@celeriac/canvas';
import { DelayedError, Worker as BullWorker, UnrecoverableError, type Job, type RedisClient } from 'bullmq';
import type { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { DEFAULT_QUEUE, DIRECT_RELEASE_LIMIT, RELEASE_JOB, jobOptionsOf, type Dispatcher, type JobData, type JobOptions, type ReleaseData } from './dispatch.js';
import { encodeError, encodeSuccess, type TaskState } from './envelope.js';
import {
  ExpiredError,
  InvalidJobError,
  MaxRetriesExceededError,
  NotRegisteredError,
  RevokedError,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
  toRemoteError,
  type RemoteError,
} from './errors.js';
import type { Listener } from './events.js';
import { Handoff } from './handoff.js';
import { recordFailure, recordSuccess } from './outcome.js';
import { ReplacedSignal, RetrySignal } from './signals.js';
import type { WorkflowStore } from './store.js';
import type { RegisteredTask, RetryOptions, TaskContext } from './task.js';

/** Options of `app.worker(...)`. */
export interface WorkerOptions {
  /** Worker name; `%h` is replaced by the host name (Celery's `-n worker1@%h`). */
  readonly name?: string;
  /** Jobs run at once, per queue. Default 1. */
  readonly concurrency?: number;
  /** Queues to consume. Default `["default"]`. */
  readonly queues?: readonly string[];
  /** Milliseconds a job stays locked to this worker without renewal before another may take it (BullMQ). Default 30 000. */
  readonly lockDuration?: number;
  /** Milliseconds between checks for jobs whose worker died (BullMQ). Default 30 000. */
  readonly stalledInterval?: number;
  /** How often a job may be orphaned by a dead worker before it fails. Default 5. */
  readonly maxStalledCount?: number;
  /**
   * Record `STARTED` when a task starts (Celery's `task_track_started`). Default false, as in
   * Celery: it costs a Redis write per task. Redelivered jobs are always checked.
   */
  readonly trackStarted?: boolean;
}

/** Where the worker reports problems that are not task failures (bad jobs, Redis errors). */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** A control message published to every worker (see `App.revoke`). */
export interface ControlMessage {
  readonly type: 'revoke';
  readonly ids: readonly string[];
  readonly terminate: boolean;
}

/** What a worker needs from its app. */
export interface WorkerRuntime {
  readonly store: WorkflowStore;
  readonly dispatcher: Dispatcher;
  readonly registry: ReadonlyMap<string, RegisteredTask>;
  readonly logger: Logger;
  /** The channel control messages arrive on. */
  readonly controlChannel: string;
  /** A new connection for BullMQ's blocking commands (closed by BullMQ with the worker). */
  connect(): Redis;
  /** Subscribes to a pub/sub channel on the app's shared subscriber. */
  listen(channel: string, listener: Listener): Promise<() => void>;
  /** Applies a replacement canvas for `ctx.replace` (idempotent for the same task id). */
  replace(data: JobData, canvas: Canvas, queue: string): Promise<void>;
}

/**
 * Release jobs one worker runs at once. Each enqueues up to 1 000 jobs and is bound by this
 * process's CPU, so running more side by side gains nothing and only piles up their payloads
 * (50 at once took a worker past 450 MB for a 100 000-member group).
 */
const RELEASES_AT_ONCE = 2;

/** Thrown to BullMQ after a failure was recorded, so the job ends failed without BullMQ retries. */
class RecordedFailure extends UnrecoverableError {
  constructor(remote: RemoteError) {
    super(`${remote.name}: ${remote.message}`);
    this.name = 'RecordedFailure';
  }
}

/**
 * A running worker. Create one with `app.worker(options)`; stop it with `close()`, which waits for
 * the jobs in flight to finish.
 */
export class Worker {
  /** This worker's name, with `%h` expanded. */
  readonly name: string;
  /** Queues this worker consumes. */
  readonly queues: readonly string[];
  private readonly workers: BullWorker[];
  private readonly connections: Redis[] = [];
  private readonly shutdown = new AbortController();
  /** Abort controllers of the tasks running now, by task id (for revoke with terminate). */
  private readonly running = new Map<string, AbortController>();
  /** Ids revoked lately, as announced on the control channel (Celery's in-memory revoked set). */
  private readonly revoked = new RecentIds(50_000);
  private readonly control: Promise<() => void>;
  private closing: Promise<void> | undefined;
  private readonly trackStarted: boolean;
  private readonly releasing = pLimit(RELEASES_AT_ONCE);
  private readonly handoff: Handoff;

  /** @internal use `app.worker(options)`. */
  constructor(
    private readonly runtime: WorkerRuntime,
    options: WorkerOptions = {},
  ) {
    this.name = (options.name ?? `celeriac@%h`).replaceAll('%h', hostname());
    this.queues = options.queues ?? [DEFAULT_QUEUE];
    this.trackStarted = options.trackStarted ?? false;
    // Every running task listens for shutdown: as many listeners as jobs in flight is expected.
    setMaxListeners(0, this.shutdown.signal);
    this.handoff = new Handoff(runtime.dispatcher, runtime.logger, this.shutdown.signal);
    this.control = runtime.listen(runtime.controlChannel, (message) => this.onControl(message));
    this.control.catch((error: unknown) => runtime.logger.error(`worker ${this.name}: cannot subscribe to control messages`, error));
    this.workers = this.queues.map((queue) => {
      const connection = runtime.connect();
      this.connections.push(connection);
      const worker: BullWorker<JobData> = new BullWorker<JobData>(
        queue,
        (job, token) => (job.name === RELEASE_JOB ? this.release(job) : this.process(job, token, worker.getBackend().client)),
        {
          connection,
          prefix: runtime.dispatcher.queuePrefix,
          concurrency: options.concurrency ?? 1,
          lockDuration: options.lockDuration ?? 30_000,
          stalledInterval: options.stalledInterval ?? 30_000,
          maxStalledCount: options.maxStalledCount ?? 5,
          name: this.name,
        },
      );
      worker.on('failed', (job, error) => void this.onBullFailure(job, error));
      worker.on('error', (error) => runtime.logger.error(`worker ${this.name}: queue ${queue} error`, error));
      return worker;
    });
  }

  /** Resolves once every queue consumer and the control subscription are connected. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([...this.workers.map((worker) => worker.waitUntilReady()), this.control]);
  }

  /** Registered task names this worker can run (what `celery inspect registered` shows). */
  get registered(): string[] {
    return [...this.runtime.registry.keys()].sort();
  }

  /**
   * Stops taking jobs and waits for the ones in flight to finish. With `force`, handlers' abort
   * signals fire and the worker stops without waiting; their jobs are redelivered elsewhere.
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    if (options.force === true) this.shutdown.abort(new Error(`worker ${this.name} is shutting down`));
    this.closing ??= (async () => {
      await Promise.all(this.workers.map((worker) => worker.close(options.force === true)));
      await this.handoff.settled();
      (await this.control.catch(() => () => {}))();
      // BullMQ leaves connections it was given open; these are ours.
      await Promise.all(this.connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    })();
    return this.closing;
  }

  /** Runs one task job; `client` is the connection BullMQ completes it on. */
  private async process(job: Job<JobData>, token: string | undefined, client: Promise<RedisClient>): Promise<void> {
    const data = parseJobData(job);
    if (this.revoked.has(data.id)) return; // its state in Redis is already REVOKED
    const { store } = this.runtime;
    const task = this.runtime.registry.get(data.task);
    // The task's defaults fill what the producer did not set (it may not know the task).
    const options: JobOptions = { ...(task === undefined ? {} : jobOptionsOf(task.defaults, job.timestamp)), ...data.o };

    if (options.expiresAt !== undefined && Date.now() > options.expiresAt) {
      const expired = new ExpiredError(data.id);
      await store.revoke(data.w, [data.i], encodeError('REVOKED', toRemoteError(expired, data.task, data.id)));
      return;
    }
    if (task?.rateInterval !== undefined) {
      const wait = await store.rateLimit(task.name, task.rateInterval);
      if (wait > 0) return this.postpone(job, token, wait);
    }
    if (task === undefined) return this.recordFailure(data, new NotRegisteredError(data.task, this.registered), true);

    // Marking STARTED also tells whether the node already ended (revoked, or finished by an earlier
    // delivery). A redelivered job waits for that answer. A first delivery does not spend a round
    // trip on it — revoked jobs were removed from the queue and announced to every worker, and a
    // finished node's result cannot be recorded twice — so it marks only with `trackStarted`, and
    // then the answer, arriving moments later, aborts the handler in the rare race it loses.
    const abort = new AbortController();
    const redelivered = job.attemptsStarted > 1 || job.stalledCounter > 0;
    const marking: Promise<TaskState | null> =
      redelivered || this.trackStarted ? store.mark(data.w, data.i, 'STARTED') : Promise.resolve(null);
    if (redelivered) {
      const ended = await marking;
      if (ended !== null) return this.finishRedelivered(data, ended, job.queueName);
    } else {
      marking.then(
        (ended) => ended !== null && abort.abort(ended === 'REVOKED' ? new RevokedError(data.id) : new Error(`task ${data.id} already ended`)),
        () => {}, // a Redis error here fails the outcome's recording below, which retries the job
      );
    }

    this.running.set(data.id, abort);
    let value: unknown;
    try {
      value = await this.invoke(task, data, job, options, abort);
    } catch (error) {
      if (error instanceof ReplacedSignal) return;
      const ended = await marking;
      if (ended !== null) return this.finishRedelivered(data, ended, job.queueName);
      if (abort.signal.reason instanceof RevokedError) return; // terminated: the node is already REVOKED
      const retry = error instanceof RetrySignal ? error : undefined;
      const cause = retry === undefined ? error : retry.error;
      const limit = retry?.maxRetries ?? options.retries ?? 0;
      const retryable = retry !== undefined || (options.retries !== undefined && matches(task, error));
      if (retryable && data.r < limit) return this.scheduleRetry(job, token, data, options, cause, retry?.countdown);
      const final = retry !== undefined && retry.error === undefined ? new MaxRetriesExceededError(data.task, data.r) : cause;
      return this.recordFailure(data, final, true);
    } finally {
      this.running.delete(data.id);
    }

    const ended = await marking;
    if (ended !== null) return this.finishRedelivered(data, ended, job.queueName);
    let envelope: string;
    try {
      envelope = encodeSuccess(options.ignoreResult === true ? null : value);
    } catch (error) {
      return this.recordFailure(data, error, true);
    }
    const recorded = await store.advance(data.w, data.i, envelope, DIRECT_RELEASE_LIMIT);
    // Returning completes the job on `client`, after the adds this sent on it (see handoff.ts).
    await this.handoff.send(await client, data.w, recorded, data.id, job.queueName);
  }

  /** Enqueues the nodes of a release job that are still in their workflow's outbox. */
  private release(job: Job): Promise<void> {
    const { w, release, parentId, sentAt } = parseReleaseData(job);
    const { store, dispatcher } = this.runtime;
    return this.releasing(async () => dispatcher.enqueue(w, await store.outbox(w, release), parentId, sentAt));
  }

  /** Runs the handler with its context, soft and hard time limits, and abort wiring. */
  private async invoke(task: RegisteredTask, data: JobData, job: Job<JobData>, options: JobOptions, abort: AbortController): Promise<unknown> {
    const timers: NodeJS.Timeout[] = [];
    const onShutdown = (): void => abort.abort(this.shutdown.signal.reason);
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    if (options.softTimeLimit !== undefined) {
      const seconds = options.softTimeLimit;
      timers.push(setTimeout(() => abort.abort(new SoftTimeLimitExceeded(seconds)), seconds * 1000));
    }
    const handler = task.handler as (...args: unknown[]) => unknown;
    const run = Promise.resolve().then(() =>
      task.bind ? handler(this.context(data, job.queueName, abort.signal), ...data.args) : handler(...data.args),
    );
    try {
      if (options.timeLimit === undefined) return await run;
      const seconds = options.timeLimit;
      const hard = new Promise<never>((_, reject) => {
        timers.push(
          setTimeout(() => {
            const error = new TimeLimitExceeded(seconds);
            abort.abort(error);
            reject(error);
          }, seconds * 1000),
        );
      });
      // JavaScript cannot pre-empt a handler: the hard limit fails the task and aborts its signal.
      return await Promise.race([run, hard]);
    } finally {
      timers.forEach(clearTimeout);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
      run.catch(() => {}); // a handler that rejects after its hard limit must not crash the process
    }
  }

  private context(data: JobData, queue: string, signal: AbortSignal): TaskContext {
    return {
      id: data.id,
      task: data.task,
      queue,
      rootId: data.rootId,
      parentId: data.parentId,
      groupId: data.groupId,
      groupIndex: data.groupIndex,
      retries: data.r,
      kwargs: data.kwargs,
      signal,
      retry: (options: RetryOptions = {}): never => {
        const { countdown, error, maxRetries } = options;
        if (countdown !== undefined && !(countdown >= 0)) {
          throw new CanvasError('countdown', `expected seconds >= 0 for ctx.retry, got ${String(countdown)}`);
        }
        throw new RetrySignal(countdown, error, maxRetries);
      },
      replace: async (canvas: Canvas): Promise<never> => {
        await this.runtime.replace(data, canvas, queue);
        throw new ReplacedSignal();
      },
    };
  }

  /** Runs the job again later with the same task id: the result shows RETRY meanwhile. */
  private async scheduleRetry(job: Job<JobData>, token: string | undefined, data: JobData, options: JobOptions, error: unknown, countdown: number | undefined): Promise<void> {
    const delay = countdown !== undefined ? countdown * 1000 : backoffDelay(options.backoff, data.r);
    await this.runtime.store.mark(data.w, data.i, 'RETRY', encodeError('RETRY', toRemoteError(error, data.task, data.id)));
    await job.updateData({ ...data, r: data.r + 1 });
    return this.postpone(job, token, delay);
  }

  /** Moves the job back to BullMQ's delayed set without counting an attempt. */
  private async postpone(job: Job<JobData>, token: string | undefined, delayMs: number): Promise<never> {
    await job.moveToDelayed(Date.now() + Math.max(0, Math.round(delayMs)), token);
    throw new DelayedError();
  }

  /** A redelivered job whose node already ended: finish enqueueing what its outcome released. */
  private async finishRedelivered(data: JobData, state: string, queue: string): Promise<void> {
    // For a node that already ended the scripts ignore the envelope and return its outbox.
    const { store, dispatcher } = this.runtime;
    if (state === 'SUCCESS') await recordSuccess(store, dispatcher, data, '', queue);
    if (state === 'FAILURE') await dispatcher.enqueue(data.w, (await store.fail(data.w, data.i, '', '')).released, data.id);
  }

  /** Records a final failure, fails everything downstream, and enqueues the error callbacks. */
  private async recordFailure(data: JobData, error: unknown, rethrow: boolean): Promise<void> {
    const remote = toRemoteError(error, data.task, data.id);
    await recordFailure(this.runtime.store, this.runtime.dispatcher, data, remote);
    if (rethrow) throw new RecordedFailure(remote);
  }

  /**
   * BullMQ failed a job for good on its own — a worker died with it too often, or Redis kept failing
   * around it — so record that as the task's failure and no waiter hangs. Failures the worker
   * recorded itself arrive as UnrecoverableError and are skipped.
   */
  private async onBullFailure(job: Job<JobData> | undefined, error: Error): Promise<void> {
    if (job === undefined || error instanceof UnrecoverableError) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || /stalled/i.test(error.message);
    if (!final) return;
    if (job.name === RELEASE_JOB) {
      const { w } = job.data as unknown as ReleaseData;
      this.runtime.logger.error(
        `worker ${this.name}: release job ${job.id} failed for good; its nodes stay in the outbox of workflow ${w}, ` +
          'and applying that workflow again with the same taskId enqueues them',
        error,
      );
      return;
    }
    try {
      await this.recordFailure(parseJobData(job), error, false);
    } catch (recordError) {
      this.runtime.logger.error(`worker ${this.name}: could not record the failure of job ${job.id}`, recordError);
    }
  }

  private onControl(message: string): void {
    let control: ControlMessage;
    try {
      control = JSON.parse(message) as ControlMessage;
    } catch {
      return;
    }
    if (control.type !== 'revoke') return;
    for (const id of control.ids) {
      this.revoked.add(id);
      if (control.terminate) this.running.get(id)?.abort(new RevokedError(id, `Task ${id} was revoked and terminated`));
    }
  }
}

/** A set of ids that forgets the oldest beyond `capacity`. */
class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
  }
}

/** Whether `autoretryFor` covers this error (everything when it is not set). */
function matches(task: RegisteredTask, error: unknown): boolean {
  if (task.autoretryFor === undefined) return true;
  return task.autoretryFor.some((matcher) =>
    typeof matcher === 'string' ? error instanceof Error && error.name === matcher : error instanceof matcher,
  );
}

/** Celery's retry backoff: fixed, or `delay * 2^retries` capped at `maxDelay` (600 s), optionally jittered. */
export function backoffDelay(backoff: JobOptions['backoff'], retries: number): number {
  if (backoff === undefined) return 0;
  const seconds =
    backoff.type === 'fixed' ? backoff.delay : Math.min(backoff.maxDelay ?? 600, backoff.delay * 2 ** retries);
  return (backoff.jitter === true ? Math.random() * seconds : seconds) * 1000;
}

/** Validates a release job's payload, as {@link parseJobData} does a task job's. */
function parseReleaseData(job: Job): ReleaseData {
  const data = job.data as Partial<ReleaseData> | null;
  const valid =
    typeof data === 'object' &&
    data !== null &&
    data.v === 1 &&
    typeof data.w === 'string' &&
    Array.isArray(data.release) &&
    data.release.every((index) => Number.isInteger(index)) &&
    (data.parentId === null || typeof data.parentId === 'string') &&
    typeof data.sentAt === 'number';
  if (!valid) {
    throw new UnrecoverableError(
      new InvalidJobError(`Release job ${job.id} in queue ${job.queueName} was not written by Celeriac: its data lacks the workflow id, node indices, parent id or release time. It was skipped.`).message,
    );
  }
  return data as ReleaseData;
}

/** Validates a job's payload; a job whose stored data is garbage fails alone, with a clear reason. */
function parseJobData(job: Job<JobData>): JobData {
  const data = job.data as Partial<JobData> | null;
  const problem =
    typeof data !== 'object' || data === null
      ? 'its data is not an object'
      : data.v !== 1
        ? `its data has version ${String(data.v)}, expected 1`
        : typeof data.w !== 'string' || !Number.isInteger(data.i) || typeof data.id !== 'string'
          ? 'its data lacks the workflow id, node index or task id'
          : typeof data.task !== 'string' || !Array.isArray(data.args) || typeof data.kwargs !== 'object'
            ? 'its data lacks the task name, args or kwargs'
            : typeof data.o !== 'object' || data.o === null || !Number.isInteger(data.r)
              ? 'its data lacks its options or retry count'
              : undefined;
  if (problem !== undefined) {
    throw new UnrecoverableError(
      new InvalidJobError(`Job ${job.id} in queue ${job.queueName} was not written by Celeriac: ${problem}. It was skipped.`).message,
    );
  }
  return data as JobData;
}
