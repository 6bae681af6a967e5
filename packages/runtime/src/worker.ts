/**
 * The worker: consumes BullMQ queues, runs handlers, and advances workflows. For each job it
 * (1) marks the node STARTED — learning instead that it already ended when this is a redelivery,
 * (2) runs the handler, (3) records the outcome and releases successors atomically (Lua), and
 * (4) enqueues what was released. A crash between any two steps is repaired by BullMQ's stalled
 * job redelivery: step 1 then finds the node done and step 3 returns the outbox to finish.
 */
import { hostname } from 'node:os';
import { Worker as BullWorker, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Dispatcher, JobData } from './dispatch.js';
import { DEFAULT_QUEUE } from './dispatch.js';
import { encodeError, encodeSuccess } from './envelope.js';
import { InvalidJobError, NotRegisteredError, toRemoteError, type RemoteError } from './errors.js';
import type { WorkflowStore } from './store.js';
import type { RegisteredTask, TaskContext } from './task.js';

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
}

/** Where the worker reports problems that are not task failures (bad jobs, Redis errors). */
export interface Logger {
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

/** What a worker needs from its app. */
export interface WorkerRuntime {
  readonly store: WorkflowStore;
  readonly dispatcher: Dispatcher;
  readonly registry: ReadonlyMap<string, RegisteredTask>;
  readonly logger: Logger;
  /** A new connection for BullMQ's blocking commands (closed by BullMQ with the worker). */
  connect(): Redis;
}

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
  private readonly abort = new AbortController();
  private closing: Promise<void> | undefined;

  /** @internal use `app.worker(options)`. */
  constructor(
    private readonly runtime: WorkerRuntime,
    options: WorkerOptions = {},
  ) {
    this.name = (options.name ?? `celeriac@%h`).replaceAll('%h', hostname());
    this.queues = options.queues ?? [DEFAULT_QUEUE];
    this.workers = this.queues.map((queue) => {
      const connection = runtime.connect();
      this.connections.push(connection);
      const worker = new BullWorker<JobData>(queue, (job) => this.process(job), {
        connection,
        prefix: runtime.dispatcher.queuePrefix,
        concurrency: options.concurrency ?? 1,
        lockDuration: options.lockDuration ?? 30_000,
        stalledInterval: options.stalledInterval ?? 30_000,
        maxStalledCount: options.maxStalledCount ?? 5,
        name: this.name,
      });
      worker.on('failed', (job, error) => void this.onBullFailure(job, error));
      worker.on('error', (error) => runtime.logger.error(`worker ${this.name}: queue ${queue} error`, error));
      return worker;
    });
  }

  /** Resolves once every queue consumer is connected. */
  async waitUntilReady(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
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
    if (options.force === true) this.abort.abort(new Error(`worker ${this.name} is shutting down`));
    this.closing ??= Promise.all(this.workers.map((worker) => worker.close(options.force === true))).then(async () => {
      // BullMQ leaves connections it was given open; these are ours.
      await Promise.all(this.connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    });
    return this.closing;
  }

  private async process(job: Job<JobData>): Promise<void> {
    const data = parseJobData(job);
    const { store } = this.runtime;
    const ended = await store.mark(data.w, data.i, 'STARTED');
    if (ended !== null) return this.finishRedelivered(data, ended);

    const task = this.runtime.registry.get(data.task);
    if (task === undefined) return this.recordFailure(data, new NotRegisteredError(data.task, this.registered), true);

    let envelope: string;
    try {
      const value = await this.invoke(task, data, job);
      envelope = encodeSuccess(value);
    } catch (error) {
      const attempts = job.opts.attempts ?? 1;
      if (job.attemptsMade + 1 < attempts) {
        // BullMQ retries with backoff; meanwhile the result shows RETRY with the error, as in Celery.
        await store.mark(data.w, data.i, 'RETRY', encodeError('RETRY', toRemoteError(error, data.task, data.id)));
        throw error;
      }
      return this.recordFailure(data, error, true);
    }
    const recorded = await store.advance(data.w, data.i, envelope);
    await this.runtime.dispatcher.enqueue(data.w, recorded.released, data.id);
  }

  private invoke(task: RegisteredTask, data: JobData, job: Job<JobData>): Promise<unknown> {
    const handler = task.handler as (...args: unknown[]) => unknown;
    if (!task.bind) return Promise.resolve().then(() => handler(...data.args));
    const context: TaskContext = {
      id: data.id,
      task: data.task,
      rootId: data.rootId,
      parentId: data.parentId,
      groupId: data.groupId,
      groupIndex: data.groupIndex,
      retries: job.attemptsMade,
      kwargs: data.kwargs,
      signal: this.abort.signal,
    };
    return Promise.resolve().then(() => handler(context, ...data.args));
  }

  /** A redelivered job whose node already ended: finish enqueueing what its outcome released. */
  private async finishRedelivered(data: JobData, state: string): Promise<void> {
    const { store, dispatcher } = this.runtime;
    if (state === 'SUCCESS') {
      const recorded = await store.advance(data.w, data.i, '');
      await dispatcher.enqueue(data.w, recorded.released, data.id);
    } else if (state === 'FAILURE') {
      const recorded = await store.fail(data.w, data.i, '', '');
      await dispatcher.enqueue(data.w, recorded.released, data.id);
    }
  }

  /** Records a final failure, fails everything downstream, and enqueues the error callbacks. */
  private async recordFailure(data: JobData, error: unknown, rethrow: boolean): Promise<void> {
    const remote = toRemoteError(error, data.task, data.id);
    const chord: RemoteError = {
      name: 'ChordError',
      code: 'CHORD_FAILED',
      message: `Dependency ${data.id} raised ${remote.name}: ${remote.message}`,
      task: data.task,
      id: data.id,
      cause: remote,
    };
    const recorded = await this.runtime.store.fail(data.w, data.i, encodeError('FAILURE', remote), encodeError('FAILURE', chord));
    await this.runtime.dispatcher.enqueue(data.w, recorded.released, data.id);
    if (rethrow) throw new RecordedFailure(remote);
  }

  /** BullMQ failed a job on its own (a worker died with it too often): record that as its failure. */
  private async onBullFailure(job: Job<JobData> | undefined, error: Error): Promise<void> {
    if (job === undefined || error instanceof UnrecoverableError) return;
    if (job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(error.message)) return;
    try {
      await this.recordFailure(parseJobData(job), error, false);
    } catch (recordError) {
      this.runtime.logger.error(`worker ${this.name}: could not record the failure of job ${job.id}`, recordError);
    }
  }
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
            : undefined;
  if (problem !== undefined) {
    throw new UnrecoverableError(
      new InvalidJobError(`Job ${job.id} in queue ${job.queueName} was not written by Celeriac: ${problem}. It was skipped.`).message,
    );
  }
  return data as JobData;
}
