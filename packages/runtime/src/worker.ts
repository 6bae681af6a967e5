/**
 * The worker's lifecycle: one BullMQ consumer per queue sharing one pool of `concurrency` slots,
 * the control subscription (revocations), and a graceful or forced close. What happens to each
 * job is the processor's business (processor.ts).
 */
import { availableParallelism, hostname } from 'node:os';
import { Worker as BullWorker, type Job, type JobJson } from 'bullmq';
import type { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { parseControlMessage } from './control.js';
import { DEFAULT_QUEUE, type Dispatcher } from './dispatch.js';
import { InvalidArgumentError, RevokedError } from './errors.js';
import { runInline } from './execute.js';
import { Handoff } from './handoff.js';
import { LogThrottle, type Logger } from './logger.js';
import { RECHECK, type PubSub } from './pubsub.js';
import { JobProcessor, type JobObserver } from './processor.js';
import type { Replacer } from './replace.js';
import type { Settler } from './settle.js';
import type { WorkflowStore } from './store.js';
import type { RegisteredTask } from './task.js';
import { publicNames } from './admit.js';
import { RELEASE_JOB, type TaskJob } from './job-data.js';
import { describeValue } from './summary.js';

/** Options of `app.worker(...)`. */
export interface WorkerOptions {
  /**
   * Worker name, as Celery's `-n`: `%h` is the host name, `%n` its first label, `%d` the rest
   * (its domain), `%%` a percent sign. Default `"celeriac@%h"`.
   */
  readonly name?: string | undefined;
  /**
   * Tasks run at once by this worker, across all its queues (Celery's `--concurrency`). Default:
   * the number of CPUs (`os.availableParallelism()`), as Celery's.
   */
  readonly concurrency?: number | undefined;
  /** Queues to consume. Default `["default"]`. */
  readonly queues?: readonly string[] | undefined;
  /** Milliseconds a job stays locked to this worker without renewal before another may take it (BullMQ). Default 30 000. */
  readonly lockDuration?: number | undefined;
  /** Milliseconds between checks for jobs whose worker died (BullMQ). Default 30 000. */
  readonly stalledInterval?: number | undefined;
  /** How often a job may be orphaned by a dead worker before it fails with `WorkerLostError`. Default 5. */
  readonly maxStalledCount?: number | undefined;
  /**
   * Record `STARTED` when a task starts (Celery's `task_track_started`). Default false, as in
   * Celery: it costs a Redis write per task. Redelivered jobs are always checked.
   */
  readonly trackStarted?: boolean | undefined;
}

/** What a worker needs from its app. */
export interface WorkerRuntime {
  readonly store: WorkflowStore;
  readonly settler: Settler;
  readonly dispatcher: Dispatcher;
  readonly replacer: Replacer;
  readonly registry: ReadonlyMap<string, RegisteredTask>;
  readonly logger: Logger;
  readonly pubsub: PubSub;
  /** The channel control messages arrive on. */
  readonly controlChannel: string;
  /** A new connection for BullMQ's blocking commands (closed by the worker). */
  connect(): Redis;
}

/** Counts a worker keeps of the tasks it ran (Celery's `stats` → `total`). */
export interface WorkerCounts {
  /** Tasks whose handler returned (any outcome), by task name. */
  readonly processed: ReadonlyMap<string, number>;
  /** Tasks that failed for good, by task name. */
  readonly failed: ReadonlyMap<string, number>;
}

/**
 * A BullMQ consumer that hands a job whose stored data is not even JSON to the processor (as data
 * `undefined`) instead of failing to build it — which BullMQ would repeat on every redelivery.
 */
class Consumer extends BullWorker {
  protected override createJob(data: JobJson, jobId: string): Job {
    try {
      return super.createJob(data, jobId);
    } catch {
      return super.createJob({ ...data, data: 'null' }, jobId);
    }
  }
}

/**
 * A running worker. Create one with `app.worker(options)`; stop it with `close()`, which waits for
 * the jobs in flight to finish.
 */
export class Worker {
  /** This worker's name, with `%h`, `%n` and `%d` expanded. */
  readonly name: string;
  /** Queues this worker consumes. */
  readonly queues: readonly string[];
  /** Tasks run at once, across all queues. */
  readonly concurrency: number;
  private readonly consumers: Consumer[];
  private readonly connections: Redis[] = [];
  private readonly slots: ReturnType<typeof pLimit>;
  private readonly processor: JobProcessor;
  private readonly handoff: Handoff;
  private readonly shutdown = new AbortController();
  /** Ids revoked lately, as announced on the control channel (Celery's in-memory revoked set). */
  private readonly revoked = new RecentIds(50_000);
  private readonly processed = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly control: Promise<() => void>;
  private readonly throttle: LogThrottle;
  private closing: Promise<void> | undefined;

  /** @internal use `app.worker(options)`. */
  constructor(
    private readonly runtime: WorkerRuntime,
    options: WorkerOptions = {},
  ) {
    this.name = expandNodeName(options.name ?? 'celeriac@%h');
    this.queues = options.queues ?? [DEFAULT_QUEUE];
    this.concurrency = options.concurrency ?? availableParallelism();
    if (!Number.isSafeInteger(this.concurrency) || this.concurrency < 1) {
      throw new InvalidArgumentError('concurrency', `expected a whole number >= 1, got ${String(options.concurrency)}`);
    }
    if (this.queues.length === 0 || this.queues.some((queue) => typeof queue !== 'string' || queue === '')) {
      throw new InvalidArgumentError('queues', 'expected a non-empty list of queue names');
    }
    const { logger } = runtime;
    this.throttle = new LogThrottle(logger);
    this.slots = pLimit(this.concurrency);
    this.handoff = new Handoff(runtime.dispatcher, logger, this.shutdown.signal);
    this.processor = new JobProcessor({
      store: runtime.store,
      settler: runtime.settler,
      dispatcher: runtime.dispatcher,
      replacer: runtime.replacer,
      registry: runtime.registry,
      executor: { run: runInline },
      handoff: this.handoff,
      observer: this.observer(logger),
      logger,
      name: this.name,
      trackStarted: options.trackStarted ?? false,
      isRevoked: (id) => this.revoked.has(id),
    });
    this.control = runtime.pubsub.listen(runtime.controlChannel, (message) => {
      if (message !== RECHECK) this.onControl(message);
    });
    this.control.catch((error: unknown) => logger.error(`worker ${this.name}: cannot subscribe to control messages`, error));
    this.consumers = this.queues.map((queue) => {
      const connection = runtime.connect();
      this.connections.push(connection);
      const consumer: Consumer = new Consumer(
        queue,
        // Each queue may fetch up to `concurrency` jobs; the shared slots run `concurrency` at once,
        // and a fetched job waiting for a slot is what `inspect reserved` reports.
        (job: Job, token) => {
          const run = (): Promise<void> => this.processor.process(job, token, consumer.getBackend().client);
          // Release jobs have their own limit (processor.ts) and take no task slot.
          return job.name === RELEASE_JOB ? run() : this.slots(run);
        },
        {
          connection,
          prefix: runtime.dispatcher.queuePrefix,
          concurrency: this.concurrency,
          lockDuration: options.lockDuration ?? 30_000,
          stalledInterval: options.stalledInterval ?? 30_000,
          maxStalledCount: options.maxStalledCount ?? 5,
          name: this.name,
        },
      );
      consumer.on('failed', (job, error) => void this.processor.onBullFailure(job, error));
      consumer.on('error', (error) => this.throttle.report('error', `queue ${queue}`, `worker ${this.name}: queue ${queue}: ${error.message}`, error));
      return consumer;
    });
  }

  /** Resolves once every queue consumer and the control subscription are connected. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([...this.consumers.map((consumer) => consumer.waitUntilReady()), this.control]);
  }

  /**
   * Registered task names this worker can run (what `celery inspect registered` shows); Celery's
   * own built-ins (`celery.map`, …) are left out, as Celery leaves out its `celery.*` tasks.
   */
  get registered(): string[] {
    return publicNames(this.runtime.registry);
  }

  /** How many tasks this worker ran and how many failed, by task name. */
  get counts(): WorkerCounts {
    return { processed: this.processed, failed: this.failures };
  }

  /**
   * Stops taking jobs and waits for the ones in flight to finish. With `force`, handlers' abort
   * signals fire and the worker stops without waiting; their jobs are redelivered elsewhere.
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    const force = options.force === true;
    if (force) {
      const reason = new Error(`worker ${this.name} is shutting down`);
      this.shutdown.abort(reason);
      for (const abort of this.processor.running.values()) abort.abort(reason);
    }
    this.closing ??= (async () => {
      await Promise.all(this.consumers.map((consumer) => consumer.close(force)));
      await this.handoff.settled();
      (await this.control.catch(() => () => {}))();
      // BullMQ leaves connections it was given open; these are ours.
      await Promise.all(this.connections.map((connection) => connection.quit().catch(() => connection.disconnect())));
    })();
    return this.closing;
  }

  private onControl(text: string): void {
    const message = parseControlMessage(text);
    if (message === null) {
      this.throttle.report('warn', 'control', `worker ${this.name}: dropped a malformed control message: ${describeValue(text, 200)}`);
      return;
    }
    for (const id of message.ids) {
      this.revoked.add(id);
      if (message.terminate) this.processor.running.get(id)?.abort(new RevokedError(id, `Task ${id} was revoked and terminated`));
    }
  }

  /** Logs each task as Celery's worker does, and counts what ran. */
  private observer(logger: Logger): JobObserver {
    const info = (message: () => string): void => {
      if (logger.enabled?.('info') !== false) logger.info(message());
    };
    const label = (job: TaskJob): string => `${job.task}[${job.id}]`;
    const count = (counts: Map<string, number>, task: string): void => {
      counts.set(task, (counts.get(task) ?? 0) + 1);
    };
    return {
      received: (job) => info(() => `Task ${label(job)} received`),
      started: () => {},
      succeeded: (job, value, ms) => info(() => `Task ${label(job)} succeeded in ${(ms / 1000).toFixed(3)}s: ${describeValue(value)}`),
      failed: (job, error) => {
        count(this.failures, job.task);
        logger.error(`Task ${label(job)} raised ${error.name}: ${error.message}`, error.stack);
      },
      retried: (job, error, ms) => info(() => `Task ${label(job)} retry: Retry in ${(ms / 1000).toFixed(3)}s: ${error.name}: ${error.message}`),
      revoked: (job, expired) => info(() => `Discarding ${expired ? 'expired' : 'revoked'} task: ${label(job)}`),
      finished: (job) => count(this.processed, job.task),
    };
  }
}

/**
 * Expands Celery's node name placeholders: `%h` the host name, `%n` its first label, `%d` the
 * rest (the domain), `%%` a percent sign (celery/utils/nodenames.py `host_format`).
 */
export function expandNodeName(pattern: string, host = hostname()): string {
  const dot = host.indexOf('.');
  const values: Record<string, string> = {
    h: host,
    n: dot === -1 ? host : host.slice(0, dot),
    d: dot === -1 ? '' : host.slice(dot + 1),
    '%': '%',
  };
  return pattern.replace(/%([hnd%])/g, (_, key: string) => values[key]!);
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
