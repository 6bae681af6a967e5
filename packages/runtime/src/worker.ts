/**
 * The worker's lifecycle: one BullMQ consumer per queue sharing one pool of `concurrency` slots,
 * its membership of the control plane (presence, the command table, task events), consumers and
 * pool size changed at run time, and a graceful or forced close. What happens to each job is the
 * processor's business (processor.ts).
 */
import { availableParallelism, hostname } from 'node:os';
import { Worker as BullWorker, type Job, type JobJson } from 'bullmq';
import type { RedisClient } from './connection.js';
import { publicNames, type TaskOverrides } from './admit.js';
import { aborted, until, within } from './bounded.js';
import type { ControlPlane, ControlTarget, ScheduledTaskInfo, TaskRequestInfo, WorkerControl } from './control-plane/index.js';
import { DEFAULT_QUEUE, type Dispatcher } from './dispatch.js';
import { isConnectionError } from './connection.js';
import { InvalidArgumentError, PermissionError, RevokedError } from './errors.js';
import { runInline } from './execute.js';
import { poolConfigOf, type AutoscaleOptions, type PoolKind } from './pool/options.js';
import { ProcessPool } from './pool/process-pool.js';
import { isPoolChild } from './pool/role.js';
import { ShutdownSignal } from './signals.js';
import { Slots } from './slots.js';
import { Handoff } from './handoff.js';
import { isUnreadable, readTaskJob, RELEASE_JOB, type TaskJob } from './job-data.js';
import { RateLimitedLog, type Logger } from './logger.js';
import { DEFAULT_SWEEP_INTERVAL, OutboxSweeper } from './outbox-sweeper.js';
import { JobProcessor, type JobObserver } from './processor.js';
import type { Replacer } from './replace.js';
import { truncatedRepr } from './repr.js';
import type { Settler } from './settle.js';
import type { WorkflowStore } from './store.js';
import { rateInterval, type RegisteredTask } from './task.js';

/** Options of `app.worker(...)`. An option given as `undefined` counts as not given. */
export interface WorkerOptions {
  /**
   * Worker name, as Celery's `-n`: `%h` is the host name, `%n` its first label, `%d` the rest
   * (its domain), `%%` a percent sign. Default `"celeriac@%h"`.
   */
  readonly name?: string | undefined;
  /**
   * Tasks run at once by this worker, across all its queues (Celery's `--concurrency`); with the
   * processes pool, its number of children. Default: the number of CPUs
   * (`os.availableParallelism()`), as Celery's.
   */
  readonly concurrency?: number | undefined;
  /**
   * Where handlers run (Celery's `--pool`): `"async"` (default) on this process's event loop;
   * `"processes"` in `concurrency` child processes (Celery's prefork), for CPU-bound handlers and
   * for hard time limits and `revoke(..., { terminate: true })` that stop even a handler that
   * never yields. This process still takes the jobs and records their outcomes; children only run
   * handlers. See `appModule`.
   */
  readonly pool?: PoolKind | undefined;
  /**
   * The module the processes pool's children import to get the app and its tasks (the CLI's
   * `-A`): a path (relative to the current directory) or a file URL, of a `.ts`, `.mts`, `.js` or
   * `.mjs` file that exports the app as `app` or as its default export. Required with
   * `pool: "processes"`, ignored by the async pool. It must not start a worker when a child loads
   * it (see `isPoolChild()`). TypeScript loads without a build step (through tsx).
   */
  readonly appModule?: string | URL | undefined;
  /**
   * With the processes pool, a child is replaced by a fresh one after running this many tasks
   * (Celery's `--max-tasks-per-child`), to bound what a leaking handler can hold. Default: never.
   */
  readonly maxTasksPerChild?: number | undefined;
  /**
   * With the processes pool, scale the children between `min` and `max` instead of keeping
   * `concurrency` of them (Celery's `--autoscale MAX,MIN`); see {@link AutoscaleOptions}. The
   * worker then runs up to `max` tasks at once.
   */
  readonly autoscale?: AutoscaleOptions | undefined;
  /** Queues to consume. Default `["default"]`. */
  readonly queues?: readonly string[] | undefined;
  /**
   * Send task events (Celery's `-E`), which the monitor and `celeriac events` show: `true`, or the
   * approximate number of events the capped stream keeps (default 100 000). Default off, and then free.
   */
  readonly taskEvents?: boolean | { readonly maxLength?: number } | undefined;
  /**
   * Milliseconds a job stays locked to this worker without renewal before another may take it
   * (BullMQ; renewed every half of it). With `stalledInterval`, it bounds how soon a dead worker's
   * jobs run elsewhere: within `lockDuration + stalledInterval`, 15 s by default. A handler that
   * blocks the event loop longer than this loses its lock and its job runs again elsewhere: run
   * CPU-bound work in the process pool. Default 10 000.
   */
  readonly lockDuration?: number | undefined;
  /** Milliseconds between checks for jobs whose worker died (BullMQ). Default 5 000. */
  readonly stalledInterval?: number | undefined;
  /** How often a job may be orphaned by a dead worker before it fails with `WorkerLostError`. Default 5. */
  readonly maxStalledCount?: number | undefined;
  /**
   * Record `STARTED` when a task starts (Celery's `task_track_started`). Default false, as in
   * Celery: it costs a Redis write per task. Redelivered jobs are always checked.
   */
  readonly trackStarted?: boolean | undefined;
  /**
   * Milliseconds between outbox sweeps (see the README's "What a crash costs"): one of the app's
   * workers looks, once per interval, for tasks whose release was recorded but whose job was never
   * added (a producer that died inside `apply`, a worker's add given up, an add a cluster lost in a
   * failover) and enqueues them after a second look half an interval later. `0` turns it off in
   * this worker. Default 60 000.
   */
  readonly outboxSweepInterval?: number | undefined;
}

/** What a worker needs from its app. */
export interface WorkerRuntime {
  /** The app's name, for presence. */
  readonly app: string;
  readonly store: WorkflowStore;
  readonly settler: Settler;
  readonly dispatcher: Dispatcher;
  readonly replacer: Replacer;
  readonly registry: ReadonlyMap<string, RegisteredTask>;
  readonly logger: Logger;
  readonly plane: ControlPlane;
  /** The app's key prefix (the preflight checks the worker may use its keys). */
  readonly prefix: string;
  /** A new connection for BullMQ's blocking commands (closed by the worker). */
  connect(): RedisClient;
  /** The error a user can act on for what a Redis operation failed with (see ConnectionWatch). */
  translate(error: unknown): unknown;
}

/** Counts a worker keeps of the tasks it ran (Celery's `stats` → `total`). */
export interface WorkerCounts {
  /** Tasks whose handler returned (any outcome), by task name. */
  readonly processed: ReadonlyMap<string, number>;
  /** Tasks that failed for good, by task name. */
  readonly failed: ReadonlyMap<string, number>;
}

/**
 * Lock and stalled-check defaults: a dead worker's jobs run elsewhere within 15 s. It costs each
 * worker, per queue, one stalled-jobs check every 5 s and one lock renewal (for all its jobs at
 * once) every 5 s while it runs any: under one Redis command a second.
 */
const DEFAULT_LOCK_DURATION = 10_000;
const DEFAULT_STALLED_INTERVAL = 5_000;
const DEFAULT_MAX_STALLED_COUNT = 5;

/** Milliseconds each step of a cold shutdown may take: Redis may be gone. */
const HAND_BACK_MS = 2_000;
/** Milliseconds the processes pool may take to stop its children (it kills them after 2 s). */
const POOL_CLOSE_MS = 5_000;

/** Delayed jobs listed per queue by `inspect scheduled` at most. */
const SCHEDULED_PER_QUEUE = 100;

/**
 * A BullMQ consumer that hands a job whose stored data is not even JSON to the processor (as data
 * `null`) instead of failing to build it — which BullMQ would repeat on every redelivery.
 */
class Consumer extends BullWorker {
  /**
   * Lets go of the jobs this consumer took once a cold shutdown handed them back: they are not
   * ours any more, yet BullMQ's close waits for their handlers, renewing their locks and keeping
   * its blocking connection until then — forever behind a handler that never returns, its timer
   * and connection keeping the process alive.
   */
  async abandon(): Promise<void> {
    await this.lockManager.close();
    await this.getBackend().disconnect();
  }

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
  /** Resolves once the worker has closed: by `close()`, or by a remote `shutdown` command. */
  readonly closed: Promise<void>;
  /** Where its handlers run: `"async"` or `"processes"` (see `WorkerOptions.pool`). */
  readonly pool: PoolKind;
  private concurrencyNow: number;
  private readonly consumers = new Map<string, { consumer: Consumer; connection: RedisClient }>();
  private readonly slots: Slots;
  /** Jobs fetched and waiting for a slot (Celery's reserved requests), by job id. */
  private readonly waiting = new Map<string, { bull: Job; token: string | undefined; queue: string }>();
  private readonly processor: JobProcessor;
  /** The children running handlers, with `pool: "processes"`. */
  private readonly processPool: ProcessPool | undefined;
  private readonly handoff: Handoff;
  /** Aborted when closing stops waiting for jobs in flight (a forced close, or its timeout). */
  private readonly cold = new AbortController();
  /** Ids revoked lately, as announced to this worker (Celery's in-memory revoked set). */
  private readonly revoked = new RecentIds(50_000);
  private readonly overrides = new Map<string, TaskOverrides>();
  private readonly processed = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  private readonly totals = { processed: 0, failed: 0 };
  private readonly startedAt = Date.now();
  private readonly control: WorkerControl;
  private readonly log: RateLimitedLog;
  private readonly options: WorkerOptions;
  private closing: Promise<void> | undefined;
  /** Set once closed: what BullMQ still reports then (a handler it waits for) is no one's news. */
  private ended = false;
  private markClosed: () => void = () => {};
  /** Finishes releases no one else will (outbox-sweeper.ts); undefined when turned off. */
  private readonly sweeper: OutboxSweeper | undefined;
  /** Settles once the preflight passed and the consumers run, or with why the worker cannot start. */
  private readonly started: Promise<void>;

  /** @internal use `app.worker(options)`. */
  constructor(
    private readonly runtime: WorkerRuntime,
    options: WorkerOptions = {},
  ) {
    this.options = options;
    this.name = expandNodeName(options.name ?? 'celeriac@%h');
    if (isPoolChild()) {
      throw new InvalidArgumentError(
        'worker',
        'app.worker() was called in a pool child, while it loaded the app module: the module the children load must not start a worker ' +
          '(start it from another file, or only when isPoolChild() is false)',
      );
    }
    const pool = poolConfigOf(options, availableParallelism());
    this.pool = pool.kind;
    this.concurrencyNow = pool.kind === 'processes' && 'max' in pool.size ? pool.size.max : (options.concurrency ?? availableParallelism());
    if (!Number.isSafeInteger(this.concurrencyNow) || this.concurrencyNow < 1) {
      throw new InvalidArgumentError('concurrency', `expected a whole number >= 1, got ${String(options.concurrency)}`);
    }
    const maxStalledCount = options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT;
    if (!Number.isSafeInteger(maxStalledCount) || maxStalledCount < 0) {
      throw new InvalidArgumentError('maxStalledCount', `expected a whole number >= 0, got ${String(options.maxStalledCount)}`);
    }
    const sweepEvery = options.outboxSweepInterval ?? DEFAULT_SWEEP_INTERVAL;
    if (!Number.isSafeInteger(sweepEvery) || sweepEvery < 0) {
      throw new InvalidArgumentError('outboxSweepInterval', `expected a whole number of milliseconds >= 0, got ${String(options.outboxSweepInterval)}`);
    }
    const queues = options.queues ?? [DEFAULT_QUEUE];
    if (queues.length === 0 || queues.some((queue) => typeof queue !== 'string' || queue === '')) {
      throw new InvalidArgumentError('queues', 'expected a non-empty list of queue names');
    }
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    const { logger } = runtime;
    this.log = new RateLimitedLog(logger);
    // Children start now; the worker takes jobs once they have loaded the app (see `started`).
    this.processPool =
      pool.kind === 'processes'
        ? new ProcessPool({
            config: pool,
            logger,
            name: this.name,
            tasks: this.registered,
            onBroken: (error) => {
              logger.error(`worker ${this.name}: ${error.message}; the worker stops`);
              void this.close();
            },
          })
        : undefined;
    this.slots = new Slots(this.concurrencyNow);
    this.handoff = new Handoff(runtime.dispatcher, logger, this.cold.signal);
    this.control = runtime.plane.attachWorker(this.controlTarget(), {
      description: { app: runtime.app, queues, concurrency: this.concurrencyNow, pool: this.pool, tasks: this.registered, startedAt: this.startedAt },
      live: () => ({ active: this.processor.running.size, ...this.totals }),
      ...(options.taskEvents === undefined ? {} : { taskEvents: options.taskEvents }),
    });
    this.processor = new JobProcessor({
      store: runtime.store,
      settler: runtime.settler,
      dispatcher: runtime.dispatcher,
      replacer: runtime.replacer,
      registry: runtime.registry,
      overrides: this.overrides,
      executor: this.processPool ?? { run: runInline },
      handoff: this.handoff,
      observer: this.observer(logger),
      logger,
      name: this.name,
      trackStarted: options.trackStarted ?? false,
      maxStalledCount,
      isRevoked: (id) => this.revoked.has(id),
    });
    this.sweeper =
      sweepEvery === 0
        ? undefined
        : new OutboxSweeper(
            { store: runtime.store, dispatcher: runtime.dispatcher, prefix: runtime.prefix, name: this.name, logger, log: this.log, translate: runtime.translate },
            sweepEvery,
          );
    for (const queue of queues) this.consume(queue);
    // With the processes pool, the worker also waits for its children to load the app (a second or so).
    this.started = Promise.all([this.preflight(queues), this.processPool?.ready]).then(
      () => {
        if (this.closing !== undefined) return; // closed while it started
        for (const { consumer } of this.consumers.values()) this.run(consumer);
        this.sweeper?.start();
      },
      async (error: unknown) => {
        if (this.closing === undefined) logger.error(`worker ${this.name} cannot start: ${(error as Error).message}`);
        await this.close({ force: true });
        throw error;
      },
    );
    this.started.catch(() => {}); // reported above, and by waitUntilReady
  }

  /** Queues this worker consumes now. */
  get queues(): readonly string[] {
    return [...this.consumers.keys()];
  }

  /** Tasks run at once, across all queues. */
  get concurrency(): number {
    return this.concurrencyNow;
  }

  /**
   * Resolves once every queue consumer is connected and the worker is listed and hears commands;
   * with the processes pool, once its children have loaded the app, too. Rejects when the worker
   * cannot start — e.g. with `PermissionError` naming what its Redis user must be granted, or
   * `PoolStartError` when pool children cannot load the app module — and the worker is then closed.
   */
  async waitUntilReady(): Promise<void> {
    await this.started;
    await Promise.all([...[...this.consumers.values()].map(({ consumer }) => consumer.waitUntilReady()), this.control.ready]);
  }

  /** Pids of the processes pool's children (empty with the async pool). */
  get processes(): number[] {
    return this.processPool?.pids ?? [];
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

  /** Starts consuming `queue` (Celery's `add_consumer`). Resolves false when it already did. */
  async addConsumer(queue: string): Promise<boolean> {
    if (this.closing !== undefined) throw new InvalidArgumentError('queue', `worker ${this.name} is shutting down`);
    if (this.consumers.has(queue)) return false;
    const consumer = this.consume(queue);
    this.run(consumer);
    await consumer.waitUntilReady();
    this.control.presence.update({ queues: this.queues });
    return true;
  }

  /**
   * Stops consuming `queue` (Celery's `cancel_consumer`): no new job is taken from it, and the
   * ones in flight finish. Resolves false when the worker did not consume it.
   */
  async cancelConsumer(queue: string): Promise<boolean> {
    const held = this.consumers.get(queue);
    if (held === undefined) return false;
    if (this.consumers.size === 1) throw new InvalidArgumentError('queue', `${queue} is the last queue worker ${this.name} consumes; shut it down instead`);
    this.consumers.delete(queue);
    this.control.presence.update({ queues: this.queues });
    await held.consumer.close();
    await held.connection.quit().catch(() => held.connection.disconnect());
    return true;
  }

  /**
   * Checks, before taking any job, that Redis lets this worker do what it must: BullMQ's version
   * check (INFO), scripts, and the app's keys. A missing permission would otherwise make BullMQ's
   * fetch loop fail and retry without pause.
   */
  private async preflight(queues: readonly string[]): Promise<void> {
    const [first] = this.consumers.values();
    const redis = first!.connection;
    try {
      await redis.info('server');
      await redis.eval('return 1', 0);
      // One key per command: on a cluster the queues' keys live in different slots.
      const keys = [...queues.map((queue) => `${this.runtime.dispatcher.queuePrefix(queue)}:${queue}:meta`), `${this.runtime.prefix}:preflight`];
      await Promise.all(keys.map((key) => redis.exists(key)));
    } catch (error) {
      throw this.runtime.translate(error);
    }
  }

  private run(consumer: Consumer): void {
    consumer.run().catch((error: unknown) => this.log.error('run', `worker ${this.name}: a queue consumer stopped`, error));
  }

  /**
   * Runs `concurrency` tasks at once from now on (Celery's `pool_grow`/`pool_shrink`). The
   * processes pool starts or retires children to match (idle ones at once, busy ones when their
   * task ends); an autoscaled pool takes it as its new `max`.
   */
  resize(concurrency: number): void {
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new InvalidArgumentError('concurrency', `expected a whole number >= 1, got ${String(concurrency)}`);
    }
    this.concurrencyNow = concurrency;
    this.processPool?.resize(concurrency);
    this.slots.resize(concurrency);
    for (const { consumer } of this.consumers.values()) consumer.concurrency = concurrency;
    this.control.presence.update({ concurrency });
  }

  /**
   * Stops taking jobs and lets the ones in flight finish, their successors released (Celery's
   * warm shutdown). With `force`, or once `timeout` ms have passed, it stops waiting (cold
   * shutdown): handlers' `ctx.signal` aborts and every job in flight is handed back to its queue at
   * once, to run again on another worker — nothing is lost. Calling `close({ force: true })` while
   * a graceful close is under way turns it cold (a second Ctrl-C). Resolves within a bounded time
   * even when Redis is down.
   */
  close(options: { force?: boolean | undefined; timeout?: number | undefined } = {}): Promise<void> {
    if (options.force === true) this.goCold();
    else if (options.timeout !== undefined) setTimeout(() => this.goCold(), options.timeout).unref();
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const swept = this.sweeper?.close();
    const consumers = [...this.consumers.values()];
    const drained = Promise.all(consumers.map(({ consumer }) => consumer.close())).then(() => this.handoff.settled());
    // Once no job is in flight, BullMQ's own close gets a bounded time: it may wait for a Redis
    // that is gone.
    const idle = until(() => this.processor.running.size === 0 && this.waiting.size === 0, 100, this.cold.signal).then(() => within(HAND_BACK_MS, drained));
    await Promise.race([drained, idle, aborted(this.cold.signal)]);
    if (this.cold.signal.aborted) {
      await within(HAND_BACK_MS, this.handBack());
      await within(HAND_BACK_MS, Promise.all(consumers.map(({ consumer }) => consumer.abandon())));
    }
    if (this.processPool !== undefined) await within(POOL_CLOSE_MS, this.processPool.close());
    await within(HAND_BACK_MS, Promise.all([this.control.close(), swept]));
    // BullMQ leaves connections it was given open; these are ours. Whatever BullMQ still waits
    // for fails with them, so a close never hangs on a Redis that is gone.
    await within(HAND_BACK_MS, Promise.all(consumers.map(({ connection }) => connection.quit().catch(() => {}))));
    for (const { connection } of consumers) connection.disconnect();
    this.ended = true;
    this.markClosed();
  }

  /** Stops waiting for jobs in flight: their handlers' signals abort. */
  private goCold(): void {
    if (this.cold.signal.aborted) return;
    const reason = new ShutdownSignal(this.name);
    this.cold.abort(reason);
    for (const { abort } of this.processor.running.values()) abort.abort(reason);
  }

  /**
   * Hands every job this worker holds back to its queue, due now, so another worker takes it at
   * once instead of after the stalled-job check. A handler that still finishes here records its
   * result once anyway (the scripts record a node's outcome at most once).
   */
  private async handBack(): Promise<void> {
    const held = [...this.processor.running.values(), ...this.waiting.values()].map(({ bull, token }) => ({ bull, token }));
    await Promise.all(held.map(({ bull, token }) => bull.moveToDelayed(Date.now(), token).catch(() => {})));
  }

  private consume(queue: string): Consumer {
    const connection = this.runtime.connect();
    const consumer: Consumer = new Consumer(
      queue,
      (job: Job, token) => {
        // Release jobs have their own limit (processor.ts) and take no task slot. Each queue may
        // fetch up to `concurrency` jobs; the shared slots run `concurrency` at once, and a job
        // waiting for a slot is what `inspect reserved` reports.
        if (job.name === RELEASE_JOB) return this.processor.process(job, token, consumer.getBackend().client);
        this.waiting.set(job.id!, { bull: job, token, queue });
        return this.slots.run(() => {
          this.waiting.delete(job.id!);
          return this.processor.process(job, token, consumer.getBackend().client);
        });
      },
      {
        connection,
        prefix: this.runtime.dispatcher.queuePrefix(queue),
        concurrency: this.concurrencyNow,
        lockDuration: this.options.lockDuration ?? DEFAULT_LOCK_DURATION,
        stalledInterval: this.options.stalledInterval ?? DEFAULT_STALLED_INTERVAL,
        // The stall limit is applied by the processor (admit.ts for task jobs), which records the
        // node's failure before the job fails. BullMQ's own would fail the job first and leave the
        // node unended if this worker died before recording it.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        // After a dropped connection, finishing a job is retried within a second (BullMQ waits
        // 15 s), before its lock lapses and it would run again elsewhere.
        runRetryDelay: 1_000,
        name: this.name,
        // Started by the preflight (or addConsumer), once Redis is known to let the worker in.
        autorun: false,
      },
    );
    consumer.on('failed', (job, error) => void this.processor.onBullFailure(job, error));
    consumer.on('error', (error) => {
      if (this.ended) return;
      const problem = this.runtime.translate(error);
      if (problem instanceof PermissionError) {
        // BullMQ would retry at once, forever: stop instead, saying what to grant.
        this.runtime.logger.error(`worker ${this.name} stops: ${problem.message}`);
        void this.close({ force: true });
        return;
      }
      // Lost connections are reported once per outage by the app's ConnectionWatch.
      if (!isConnectionError(error)) this.log.error(`queue ${queue}`, `worker ${this.name}: queue ${queue}: ${error.message}`, error);
    });
    this.consumers.set(queue, { consumer, connection });
    return consumer;
  }

  /** Logs each task as Celery's worker does, counts what ran, and sends task events when they are on. */
  private observer(logger: Logger): JobObserver {
    const info = (message: () => string): void => {
      if (logger.enabled?.('info') !== false) logger.info(message());
    };
    const label = (job: TaskJob): string => `${job.task}[${job.id}]`;
    const count = (counts: Map<string, number>, task: string): void => {
      counts.set(task, (counts.get(task) ?? 0) + 1);
    };
    const events = this.control.events;
    return {
      received: (job, queue) => {
        info(() => `Task ${label(job)} received`);
        events?.emit({
          type: 'task-received',
          taskId: job.id,
          name: job.task,
          args: job.args,
          kwargs: job.kwargs,
          retries: job.retries,
          rootId: job.rootId,
          parentId: job.parentId,
          workflowId: job.workflowId,
          groupId: job.groupId,
          queue,
          eta: null,
          expires: job.options.expiresAt ?? null,
        });
      },
      started: (job) => events?.emit({ type: 'task-started', taskId: job.id, name: job.task }),
      succeeded: (job, value, ms) => {
        info(() => `Task ${label(job)} succeeded in ${(ms / 1000).toFixed(3)}s: ${truncatedRepr(value)}`);
        events?.emit({ type: 'task-succeeded', taskId: job.id, name: job.task, result: value, runtime: ms });
      },
      failed: (job, error, ms) => {
        count(this.failures, job.task);
        this.totals.failed++;
        logger.error(`Task ${label(job)} raised ${error.name}: ${error.message}`, error.stack);
        events?.emit({ type: 'task-failed', taskId: job.id, name: job.task, error, runtime: ms });
      },
      retried: (job, error, ms) => {
        info(() => `Task ${label(job)} retry: Retry in ${(ms / 1000).toFixed(3)}s: ${error.name}: ${error.message}`);
        events?.emit({ type: 'task-retried', taskId: job.id, name: job.task, error, retries: job.retries + 1 });
      },
      revoked: (job, { expired, terminated }) => {
        info(() => `Discarding ${expired ? 'expired' : 'revoked'} task: ${label(job)}`);
        events?.emit({ type: 'task-revoked', taskId: job.id, name: job.task, terminated, expired });
      },
      finished: (job) => {
        count(this.processed, job.task);
        this.totals.processed++;
      },
    };
  }

  /** This worker as remote control and inspection see it (Celery's `celery inspect`/`control`). */
  private controlTarget(): ControlTarget {
    const requestOf = (job: TaskJob, queue: string, started: number | null): TaskRequestInfo => ({
      id: job.id,
      name: job.task,
      args: job.args,
      kwargs: job.kwargs,
      queue,
      retries: job.retries,
      started,
      workerPid: started === null ? null : this.processPool === undefined ? process.pid : (this.processPool.pidOf(job.id) ?? null),
    });
    const override = (task: string, changes: TaskOverrides): void => {
      this.overrides.set(task, { ...this.overrides.get(task), ...changes });
    };
    return {
      name: this.name,
      registered: () => this.registered,
      active: () => [...this.processor.running.values()].map(({ job, queue, startedAt }) => requestOf(job, queue, startedAt)),
      reserved: () =>
        [...this.waiting.values()].flatMap(({ bull, queue }) => {
          const read = readTaskJob(bull.data);
          return isUnreadable(read) ? [] : [requestOf(read, queue, null)];
        }),
      scheduled: async () => {
        const scheduled: ScheduledTaskInfo[] = [];
        for (const queue of this.queues) {
          for (const job of await this.runtime.dispatcher.queue(queue).getDelayed(0, SCHEDULED_PER_QUEUE - 1)) {
            const read = readTaskJob(job.data);
            if (isUnreadable(read)) continue;
            scheduled.push({ eta: job.timestamp + job.delay, priority: job.priority > 0 ? job.priority : null, request: requestOf(read, queue, null) });
          }
        }
        return scheduled;
      },
      revoked: () => this.revoked.list(),
      stats: () => ({
        startedAt: this.startedAt,
        pool: { kind: this.pool, maxConcurrency: this.concurrencyNow, processes: this.processes },
        processed: Object.fromEntries(this.processed),
        failed: Object.fromEntries(this.failures),
      }),
      queues: () => this.queues,
      addConsumer: (queue) => this.addConsumer(queue),
      cancelConsumer: (queue) => this.cancelConsumer(queue),
      setRateLimit: (task, rate) => override(task, { rateInterval: rate === null ? null : rateInterval(rate, task) }),
      setTimeLimit: (task, { soft, hard }) => override(task, { timeLimit: hard, softTimeLimit: soft }),
      poolGrow: (n) => this.resize(this.concurrencyNow + n),
      poolShrink: (n) => {
        if (this.concurrencyNow - n < 1) {
          throw new InvalidArgumentError('n', `worker ${this.name} runs ${this.concurrencyNow} task(s) at once; it cannot shrink by ${n}`);
        }
        this.resize(this.concurrencyNow - n);
      },
      revoke: (ids, terminate) => {
        for (const id of ids) {
          this.revoked.add(id);
          if (terminate) this.processor.running.get(id)?.abort.abort(new RevokedError(id, `Task ${id} was revoked and terminated`));
        }
      },
      shutdown: () => void this.close(),
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

  list(): string[] {
    return [...this.ids];
  }
}
