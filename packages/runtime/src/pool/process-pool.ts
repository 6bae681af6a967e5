/**
 * Celery's prefork pool: an {@link Executor} that runs each handler in a child process
 * (pool/child.ts). The worker keeps consuming, admitting and settling; a child only runs handlers,
 * one at a time. Because a child is a process, the worker can stop what JavaScript cannot stop
 * from inside: a handler past its hard time limit, or one revoked with `terminate`, is killed
 * with its child, and a new child takes its place.
 *
 * What happens to a task when its child goes away:
 * - killed by the worker at the hard time limit: the task fails with `TimeLimitExceeded`;
 * - killed by the worker for a revoke with `terminate`: the task ends REVOKED (SIGTERM first, as
 *   Celery, then SIGKILL after a grace period);
 * - killed by a cold shutdown: its job goes back to its queue (the worker's `ShutdownSignal` path);
 * - died on its own (a crash, an out-of-memory kill, a signal from outside): `run` rejects with
 *   `WorkerLostError`, an infrastructure error, so BullMQ runs the job again after its backoff
 *   while the job's attempts last, and then fails it with that error. A redelivered job is admitted
 *   as one (its node is checked first), so its successors are still released exactly once.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Canvas } from '@celeriac/canvas';
import { PoolStartError, RevokedError, TimeLimitExceeded, WorkerLostError } from '../errors.js';
import type { Executor, Invocation, Outcome } from '../execute.js';
import { toRemoteError, type RemoteError } from '../failure.js';
import { retryWire } from '../job-data.js';
import type { Logger } from '../logger.js';
import { RetrySignal, ShutdownSignal } from '../signals.js';
import { childEntry, childExecArgv } from './launch.js';
import type { PoolConfig } from './options.js';
import { PROTOCOL_VERSION, readChildMessage, rebuildError, type ParentMessage, type WireOutcome } from './protocol.js';

/** Milliseconds a child may take to load the app module. */
const START_TIMEOUT_MS = 60_000;
/** Milliseconds between SIGTERM and SIGKILL for a terminated task (Celery terminates with SIGTERM). */
const TERMINATE_GRACE_MS = 1_000;
/** Milliseconds a child asked to stop may take before it is killed. */
const STOP_GRACE_MS = 2_000;
/** Children in a row that may fail to start, after the pool first started, before the pool gives up. */
const MAX_START_FAILURES = 3;

/** What a {@link ProcessPool} needs. */
export interface ProcessPoolOptions {
  readonly config: Extract<PoolConfig, { kind: 'processes' }>;
  readonly logger: Logger;
  /** The worker's name, for log lines and the reason of handed-back jobs. */
  readonly name: string;
  /** The worker's task names: children whose app lacks some are reported once. */
  readonly tasks: readonly string[];
  /**
   * Called once if the pool, after it was ready, cannot keep children running (the app module
   * stopped loading). A failure before it is ready rejects {@link ProcessPool.ready} instead.
   */
  readonly onBroken: (error: PoolStartError) => void;
}

type ChildState = 'starting' | 'idle' | 'busy' | 'stopping';

interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  state: ChildState;
  /** Tasks it has run (for `maxTasksPerChild`). */
  tasks: number;
  run: Run | undefined;
  /** Why it could not load the app module, as it reported before exiting. */
  loadError: RemoteError | undefined;
  timer: NodeJS.Timeout | undefined;
  readonly exited: Promise<void>;
}

interface Run {
  readonly invocation: Invocation;
  readonly resolve: (outcome: Outcome) => void;
  readonly reject: (error: Error) => void;
  readonly onAbort: () => void;
  child: Child | undefined;
  done: boolean;
  /** The hard time limit. */
  timer: NodeJS.Timeout | undefined;
}

/** Runs handlers in a pool of child processes; see the module comment. */
export class ProcessPool implements Executor {
  /** Resolves once the first children have loaded the app; rejects with `PoolStartError` if one cannot. */
  readonly ready: Promise<void>;
  private readonly children = new Set<Child>();
  /** Runs waiting for an idle child, oldest first. */
  private readonly queue: Run[] = [];
  private readonly entry = childEntry();
  private readonly execArgv: string[];
  private readonly options: ProcessPoolOptions;
  /** Fixed size, or the autoscaling bounds (`max` changes with `resize`). */
  private size: { fixed: number } | { max: number; min: number; keepalive: number };
  /** Children started first; the pool is ready once all have loaded the app. */
  private readonly initial = new Set<Child>();
  private markReady: () => void = () => {};
  private failStart: (error: PoolStartError) => void = () => {};
  private isReady = false;
  private startFailures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private missingReported = false;
  private broken: PoolStartError | undefined;
  private closing = false;
  private readonly killAll = (): void => {
    for (const child of this.children) child.process.kill('SIGKILL');
  };

  constructor(options: ProcessPoolOptions) {
    this.options = options;
    const { size } = options.config;
    this.size = 'fixed' in size ? { fixed: size.fixed } : { ...size };
    // Resolves the loader now, so a missing tsx is the caller's error rather than every child's.
    this.execArgv = childExecArgv(options.config.appModule, this.entry);
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failStart = reject;
    });
    this.ready.catch(() => {}); // the worker reports it; no unhandled rejection when nobody awaits it
    // Children must not outlive this process, even when it exits without closing the worker.
    process.on('exit', this.killAll);
    const first = 'fixed' in this.size ? this.size.fixed : Math.max(this.size.min, 1);
    for (let i = 0; i < first; i++) this.initial.add(this.spawn());
  }

  /** Pids of the pool's children (those not on their way out). */
  get pids(): number[] {
    return [...this.children].filter((child) => child.state !== 'stopping' && child.pid > 0).map((child) => child.pid);
  }

  /** Pid of the child running task `id`, if a child runs it now. */
  pidOf(id: string): number | undefined {
    for (const child of this.children) if (child.run?.invocation.job.id === id) return child.pid;
    return undefined;
  }

  /** Runs a handler in the first idle child; see the module comment for what a child's end means. */
  run(invocation: Invocation): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      const { signal } = invocation.abort;
      // Taken while the pool stops (a cold shutdown races its consumers): hand the job back.
      if (this.closing || this.broken !== undefined) invocation.abort.abort(new ShutdownSignal(this.options.name));
      if (signal.aborted) return resolve({ kind: 'failure', error: signal.reason });
      const run: Run = { invocation, resolve, reject, onAbort: () => this.aborted(run, signal.reason), child: undefined, done: false, timer: undefined };
      signal.addEventListener('abort', run.onAbort, { once: true });
      this.queue.push(run);
      this.dispatch();
    });
  }

  /**
   * Keeps `n` children from now on (a fixed pool), or at most `n` (an autoscaled one; its `min`
   * follows if it was higher). Idle children beyond it stop now, busy ones once their task ends.
   */
  resize(n: number): void {
    if ('fixed' in this.size) this.size.fixed = n;
    else this.size = { ...this.size, max: n, min: Math.min(this.size.min, n) };
    let extra = this.live() - this.upper();
    for (const child of this.children) {
      if (extra <= 0) break;
      if (child.state === 'idle' || child.state === 'starting') {
        this.retire(child);
        extra--;
      }
    }
    this.dispatch();
  }

  /**
   * Stops the children: idle ones at once, busy ones once their task ends (the worker closes the
   * pool after its jobs in flight ended, or after it stopped waiting for them), any left after a
   * grace period by SIGKILL. Resolves once every child has exited.
   */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      clearTimeout(this.restartTimer);
      // No-op once ready; otherwise whoever waits for the pool learns it will not start.
      this.failStart(new PoolStartError(this.options.config.appModule.href, `worker ${this.options.name} closed before its pool children were ready`));
      for (const run of this.queue.splice(0)) run.invocation.abort.abort(new ShutdownSignal(this.options.name));
      for (const child of this.children) this.retire(child);
    }
    await Promise.all([...this.children].map((child) => child.exited));
    process.off('exit', this.killAll);
  }

  private spawn(): Child {
    const proc = fork(fileURLToPath(this.entry), [this.options.config.appModule.href], {
      execArgv: this.execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let exited: () => void = () => {};
    const child: Child = {
      process: proc,
      pid: proc.pid ?? -1,
      state: 'starting',
      tasks: 0,
      run: undefined,
      loadError: undefined,
      timer: setTimeout(() => this.startTimedOut(child), START_TIMEOUT_MS),
      exited: new Promise<void>((resolve) => (exited = resolve)),
    };
    this.children.add(child);
    proc.on('message', (raw: unknown) => this.received(child, raw));
    proc.once('exit', (code, signal) => {
      exited();
      this.exited(child, signal ?? `code ${String(code)}`);
    });
    proc.on('error', (error) => {
      this.options.logger.debug(`worker ${this.options.name}: pool child ${child.pid}: ${error.message}`, error);
      // A child that could not even be spawned never exits: end it here.
      if (proc.pid === undefined && this.children.has(child)) {
        exited();
        this.exited(child, error.message);
      }
    });
    return child;
  }

  private received(child: Child, raw: unknown): void {
    const read = readChildMessage(raw);
    if (!read.ok) {
      this.options.logger.error(`worker ${this.options.name}: pool child ${child.pid} sent a message this worker cannot read (${read.problem}); it is killed and replaced`);
      return this.kill(child, 'SIGKILL');
    }
    const message = read.message;
    switch (message.type) {
      case 'ready':
        return this.started(child, message.tasks);
      case 'load-failed':
        child.loadError = message.error; // it exits next
        return;
      case 'replace':
        return this.replace(child, message.call, message.canvas as Canvas);
      case 'done':
        return this.finished(child, message.outcome);
    }
  }

  private started(child: Child, tasks: readonly string[]): void {
    if (child.state !== 'starting') return;
    clearTimeout(child.timer);
    child.state = 'idle';
    this.startFailures = 0;
    if (!this.missingReported) {
      this.missingReported = true;
      const missing = this.options.tasks.filter((task) => !tasks.includes(task));
      if (missing.length > 0) {
        this.options.logger.warn(
          `worker ${this.options.name}: pool children loaded ${this.appModule()} and found no task ${missing.join(', ')}, which this worker accepts; ` +
            'those tasks will fail with NotRegisteredError. Point appModule at the module that defines the worker\'s app.',
        );
      }
    }
    if (this.initial.delete(child) && this.initial.size === 0) {
      this.isReady = true;
      this.markReady();
    }
    this.release(child);
  }

  /** A child finished its task. */
  private finished(child: Child, outcome: WireOutcome): void {
    const run = child.run;
    if (run === undefined) return; // a report that lost a race with a kill
    child.run = undefined;
    child.tasks++;
    this.settle(run, outcomeOf(outcome));
    if (child.state === 'stopping') return; // asked to stop meanwhile: it exits now
    const { maxTasksPerChild } = this.options.config;
    if (maxTasksPerChild !== undefined && child.tasks >= maxTasksPerChild) {
      this.options.logger.debug(`worker ${this.options.name}: pool child ${child.pid} ran ${child.tasks} tasks (maxTasksPerChild); it is replaced`);
      this.retire(child);
      return this.dispatch();
    }
    this.release(child);
  }

  /** A child became free: it takes the next run, or waits (and, above `min`, retires after `keepalive`). */
  private release(child: Child): void {
    if (this.closing) return this.retire(child);
    if (this.live() > this.upper()) {
      this.retire(child);
      return this.dispatch();
    }
    child.state = 'idle';
    this.dispatch();
    if (child.state === 'idle' && 'keepalive' in this.size) {
      const { keepalive } = this.size;
      child.timer = setTimeout(() => {
        if (child.state === 'idle' && 'min' in this.size && this.live() > this.size.min) {
          this.options.logger.debug(`worker ${this.options.name}: pool child ${child.pid} was idle for ${keepalive} ms; scaling down`);
          this.retire(child);
        }
      }, keepalive);
      child.timer.unref();
    }
  }

  /** Hands waiting runs to idle children, then starts the children the pool lacks. */
  private dispatch(): void {
    if (this.closing) return;
    for (const child of this.children) {
      if (this.queue.length === 0) break;
      if (child.state === 'idle') this.assign(child, this.queue.shift()!);
    }
    this.replenish();
  }

  /**
   * Starts children up to the size the pool should have now: a fixed pool's size; for an
   * autoscaled pool, one child per task running or waiting, at least `min` and at most `max`
   * (Celery grows towards its reserved tasks the same way, once a second).
   */
  private replenish(): void {
    if (this.closing || this.broken !== undefined || this.restartTimer !== undefined) return;
    let want: number;
    if ('fixed' in this.size) {
      want = this.size.fixed;
    } else {
      const busy = [...this.children].filter((child) => child.state === 'busy').length;
      want = Math.min(this.size.max, Math.max(this.size.min, busy + this.queue.length));
    }
    for (let live = this.live(); live < want; live++) {
      let child: Child;
      try {
        child = this.spawn();
      } catch (error) {
        // The system refused a process (EAGAIN, ENOMEM): try again later, as for a child that did not start.
        return this.startFailed(undefined, `could not be started: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (!('fixed' in this.size) && live >= this.size.min) {
        this.options.logger.debug(`worker ${this.options.name}: a task waits for a child; scaling up to ${live + 1} (pid ${child.pid})`);
      }
    }
  }

  private assign(child: Child, run: Run): void {
    clearTimeout(child.timer);
    child.state = 'busy';
    child.run = run;
    run.child = child;
    const { job, queue, options } = run.invocation;
    this.send(child, {
      v: PROTOCOL_VERSION,
      type: 'run',
      job: retryWire(job, job.retries),
      queue,
      ...(options.softTimeLimit === undefined ? {} : { softTimeLimit: options.softTimeLimit }),
      ...(options.ignoreResult === undefined ? {} : { ignoreResult: options.ignoreResult }),
    });
    const limit = options.timeLimit;
    if (limit !== undefined) run.timer = setTimeout(() => this.timeLimitExceeded(run, limit), limit * 1000);
  }

  /** The hard time limit: only killing the child stops a handler that never yields. */
  private timeLimitExceeded(run: Run, seconds: number): void {
    const child = run.child;
    if (run.done || child === undefined) return;
    const error = new TimeLimitExceeded(seconds);
    const { job } = run.invocation;
    this.options.logger.error(`Hard time limit (${seconds}s) exceeded for ${job.task}[${job.id}]: pool child ${child.pid} is killed and replaced`);
    child.run = undefined;
    this.settle(run, { kind: 'failure', error });
    run.invocation.abort.abort(error); // as the async pool does: the task's signal reports why it ended
    this.kill(child, 'SIGKILL');
  }

  /** The task's signal fired: a revoke with `terminate`, a cold shutdown, or its node ended meanwhile. */
  private aborted(run: Run, reason: unknown): void {
    if (run.done) return;
    const child = run.child;
    if (child === undefined) {
      // Still waiting for a child: it never starts.
      const waiting = this.queue.indexOf(run);
      if (waiting !== -1) this.queue.splice(waiting, 1);
      return this.settle(run, { kind: 'failure', error: reason });
    }
    if (reason instanceof RevokedError || reason instanceof ShutdownSignal) {
      child.run = undefined;
      this.settle(run, { kind: 'failure', error: reason });
      return this.kill(child, reason instanceof RevokedError ? 'SIGTERM' : 'SIGKILL');
    }
    // Anything else only fires the handler's ctx.signal, as in the async pool.
    this.send(child, { v: PROTOCOL_VERSION, type: 'abort', reason: toRemoteError(reason, run.invocation.job) });
  }

  /** `ctx.replace(canvas)` in a child: the worker applies it and answers. */
  private replace(child: Child, call: number, canvas: Canvas): void {
    const run = child.run;
    if (run === undefined) return;
    const answer = (error?: unknown): void => {
      if (child.run !== run) return; // the child went away meanwhile
      this.send(child, { v: PROTOCOL_VERSION, type: 'replaced', call, ...(error === undefined ? {} : { error: toRemoteError(error, run.invocation.job) }) });
    };
    run.invocation.replace(canvas).then(
      () => answer(),
      (error: unknown) => answer(error),
    );
  }

  /** A child exited; `how` is its signal or exit code. */
  private exited(child: Child, how: string): void {
    if (!this.children.delete(child)) return;
    clearTimeout(child.timer);
    const { logger, name } = this.options;
    if (child.state === 'starting') {
      this.startFailed(child, how);
    } else if (child.run !== undefined && !child.run.done) {
      const run = child.run;
      const { job } = run.invocation;
      logger.warn(`worker ${name}: pool child ${child.pid} exited (${how}) while running ${job.task}[${job.id}]; it is replaced and the task runs again`);
      this.fail(
        run,
        new WorkerLostError(
          0,
          `the pool child (pid ${child.pid}) running the task exited (${how}): it crashed, ran out of memory, or was killed. ` +
            'The task runs again while its attempts last; if the task itself ends its process (memory, a native module), fix it.',
        ),
      );
    } else if (child.state !== 'stopping' && !this.closing) {
      logger.warn(`worker ${name}: pool child ${child.pid} exited (${how}); it is replaced`);
    }
    this.dispatch();
  }

  /** A child exited before it was ready (or could not be started at all: no child). */
  private startFailed(child: Child | undefined, how: string): void {
    const error = this.startError(child, how);
    if (child !== undefined && this.initial.has(child)) return this.break(error);
    if (this.closing) return;
    if (++this.startFailures >= MAX_START_FAILURES) return this.break(error);
    this.options.logger.error(`worker ${this.options.name}: ${error.message}; trying again`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.dispatch();
    }, 1_000 * 2 ** (this.startFailures - 1));
  }

  private startError(child: Child | undefined, how: string): PoolStartError {
    const module = this.appModule();
    if (child === undefined) return new PoolStartError(this.options.config.appModule.href, `a pool child for the app module ${module} ${how}`);
    const remote = child.loadError;
    if (remote === undefined) {
      return new PoolStartError(this.options.config.appModule.href, `pool child ${child.pid} exited (${how}) before it had loaded the app module ${module}`);
    }
    return new PoolStartError(
      this.options.config.appModule.href,
      `pool child ${child.pid} could not load the app module ${module}: ${remote.name}: ${remote.message}`,
      rebuildError(remote),
    );
  }

  private startTimedOut(child: Child): void {
    if (child.state !== 'starting') return;
    child.loadError = toRemoteError(new Error(`it did not finish loading within ${START_TIMEOUT_MS / 1000} s`), { id: '', task: '' });
    child.process.kill('SIGKILL');
  }

  /**
   * The pool cannot start children: the waiting jobs go back to their queues, idle children stop,
   * busy ones finish their task, and the worker closes.
   */
  private break(error: PoolStartError): void {
    if (this.broken !== undefined) return;
    this.broken = error;
    this.failStart(error);
    for (const run of this.queue.splice(0)) run.invocation.abort.abort(new ShutdownSignal(this.options.name));
    for (const child of this.children) if (child.state !== 'busy') this.retire(child);
    if (this.isReady) this.options.onBroken(error);
  }

  /**
   * Asks a child to exit (it does once its task, if any, ends); kills it if it has not after a
   * grace period. The worker retires busy children only when closing, after its jobs ended.
   */
  private retire(child: Child): void {
    if (child.state === 'stopping') return;
    const starting = child.state === 'starting';
    child.state = 'stopping';
    clearTimeout(child.timer);
    // A child still loading the app does not listen yet; one that cannot hear has nothing to finish.
    if (starting || !this.send(child, { v: PROTOCOL_VERSION, type: 'stop' })) {
      child.process.kill('SIGKILL');
      return;
    }
    child.timer = setTimeout(() => child.process.kill('SIGKILL'), STOP_GRACE_MS);
    child.timer.unref();
  }

  /** Kills a child; with SIGTERM, SIGKILL follows after a grace period. */
  private kill(child: Child, signal: 'SIGTERM' | 'SIGKILL'): void {
    child.state = 'stopping';
    clearTimeout(child.timer);
    child.process.kill(signal);
    if (signal === 'SIGTERM') {
      child.timer = setTimeout(() => child.process.kill('SIGKILL'), TERMINATE_GRACE_MS);
      child.timer.unref();
    }
  }

  private send(child: Child, message: ParentMessage): boolean {
    if (!child.process.connected) return false;
    try {
      child.process.send(message);
      return true;
    } catch (error) {
      this.options.logger.debug(`worker ${this.options.name}: pool child ${child.pid}: could not send ${message.type}`, error);
      return false;
    }
  }

  private settle(run: Run, outcome: Outcome): void {
    if (run.done) return;
    run.done = true;
    clearTimeout(run.timer);
    run.invocation.abort.signal.removeEventListener('abort', run.onAbort);
    run.resolve(outcome);
  }

  private fail(run: Run, error: Error): void {
    if (run.done) return;
    run.done = true;
    clearTimeout(run.timer);
    run.invocation.abort.signal.removeEventListener('abort', run.onAbort);
    run.reject(error);
  }

  /** Children that count towards the pool's size. */
  private live(): number {
    let live = 0;
    for (const child of this.children) if (child.state !== 'stopping') live++;
    return live;
  }

  /** Most children the pool may keep now. */
  private upper(): number {
    return 'fixed' in this.size ? this.size.fixed : this.size.max;
  }

  private appModule(): string {
    return fileURLToPath(this.options.config.appModule);
  }
}

/** A child's report as the worker's processor expects it, errors rebuilt. */
function outcomeOf(outcome: WireOutcome): Outcome {
  switch (outcome.kind) {
    case 'success':
      return { kind: 'success', value: outcome.value };
    case 'failure':
      return { kind: 'failure', error: rebuildError(outcome.error), autoretry: outcome.autoretry };
    case 'retry':
      return {
        kind: 'retry',
        request: new RetrySignal(outcome.countdown, outcome.error === undefined ? undefined : rebuildError(outcome.error), outcome.maxRetries),
      };
    case 'replaced':
      return { kind: 'replaced' };
  }
}
