/**
 * What a worker does with each job: admit it (admit.ts), run its handler (an Executor,
 * execute.ts), and settle the outcome (settle.ts) — or, for a release job, enqueue the nodes it
 * carries. A crash between any two steps is repaired by BullMQ's stalled-job redelivery: admission
 * then finds the node ended, and settling returns the outbox to finish.
 *
 * Every way a job can end ends its node: a success, a failure (retried while retries last), a
 * revocation, a job whose data is unreadable or of the wrong shape (its node is found by the job
 * id, which is the task id), and BullMQ's own failures (a job whose worker died with it too often,
 * or whose infrastructure errors outlasted its attempts).
 */
import type { Canvas } from '@celeriac/canvas';
import { DelayedError, UnrecoverableError, type Job, type RedisClient } from 'bullmq';
import pLimit from 'p-limit';
import { admit, type AdmitContext } from './admit.js';
import { releaseOf, type Dispatcher } from './dispatch.js';
import { encodeSuccess, type TaskState } from './envelope.js';
import { InvalidJobError, MaxRetriesExceededError, RevokedError, WorkerLostError } from './errors.js';
import { TaskAbort, type Executor, type Outcome } from './execute.js';
import { revokedFailure, toRemoteError, type RemoteError } from './failure.js';
import type { Handoff } from './handoff.js';
import { isUnreadable, readReleaseJob, readTaskJob, retryWire, RELEASE_JOB, type JobOptions, type TaskJob } from './job-data.js';
import type { Logger } from './logger.js';
import { locate, nodeRefOf } from './lookup.js';
import { RefusedJobError, Replacer } from './replace.js';
import type { NodeRef } from './settle.js';
import { ShutdownSignal } from './signals.js';
import { autoretryMatches, type RegisteredTask } from './task.js';

/**
 * Release jobs one worker runs at once. Each enqueues up to 1 000 jobs and is bound by this
 * process's CPU, so running more side by side gains nothing and only piles up their payloads
 * (50 at once took a worker past 450 MB for a 100 000-member group).
 */
const RELEASES_AT_ONCE = 2;

/** What happened to a task job, for logs, statistics and task events. */
export interface JobObserver {
  /** The job was taken from its queue. */
  received(job: TaskJob, queue: string): void;
  /** Its handler starts. */
  started(job: TaskJob): void;
  succeeded(job: TaskJob, value: unknown, runtimeMs: number): void;
  failed(job: TaskJob, error: RemoteError, runtimeMs: number): void;
  /** It will run again after `delayMs`. */
  retried(job: TaskJob, error: RemoteError, delayMs: number): void;
  /** It was revoked (or expired before it started, or terminated while running) and its result discarded. */
  revoked(job: TaskJob, how: { readonly expired: boolean; readonly terminated: boolean }): void;
  /** Its handler has returned, whatever the outcome. */
  finished(job: TaskJob): void;
}

/** What becomes of the nodes of a release job given up on. */
function outboxKept(workflowId: string): string {
  return `its nodes stay in the outbox of workflow ${workflowId}, where a worker's outbox sweep finds and enqueues them`;
}

/** Thrown to BullMQ after a failure was recorded, so the job ends failed without BullMQ retries. */
class RecordedFailure extends UnrecoverableError {
  constructor(remote: RemoteError) {
    super(`${remote.name}: ${remote.message}`);
    this.name = 'RecordedFailure';
  }
}

/** Thrown to BullMQ for a job that must change nothing (refused, or of no known workflow): it only ends failed. */
class DroppedJob extends UnrecoverableError {
  constructor(message: string) {
    super(message);
    this.name = 'DroppedJob';
  }
}

/** What a processor needs from its worker and app. */
export interface ProcessorContext extends AdmitContext {
  readonly dispatcher: Dispatcher;
  readonly replacer: Replacer;
  readonly executor: Executor;
  readonly handoff: Handoff;
  readonly observer: JobObserver;
  readonly logger: Logger;
  /** Worker name, for log lines. */
  readonly name: string;
}

/** A handler running now. */
export interface RunningTask {
  readonly job: TaskJob;
  /** The BullMQ job and its lock token, to hand the job back on a cold shutdown. */
  readonly bull: Job;
  readonly token: string | undefined;
  readonly queue: string;
  /** Epoch ms it started. */
  readonly startedAt: number;
  /** Fires its `ctx.signal` (revoke with terminate, a forced close). */
  readonly abort: TaskAbort;
}

export class JobProcessor {
  /** The handlers running now, by task id. */
  readonly running = new Map<string, RunningTask>();
  private readonly releasing = pLimit(RELEASES_AT_ONCE);

  constructor(private readonly context: ProcessorContext) {}

  /** Processes one job; `client` is the connection BullMQ completes it on. */
  async process(bull: Job, token: string | undefined, client: Promise<RedisClient>): Promise<void> {
    const release = bull.name === RELEASE_JOB ? readReleaseJob(bull.data) : undefined;
    if (release !== undefined && !isUnreadable(release)) {
      if (bull.stalledCounter > this.context.maxStalledCount) {
        // Its workers keep dying while they send it: give it up, as a task job is.
        const message = `release job ${bull.id} was orphaned by a dead worker ${bull.stalledCounter} time(s), more than maxStalledCount allows`;
        this.context.logger.error(`worker ${this.context.name}: ${message}; ${outboxKept(release.workflowId)}`);
        throw new DroppedJob(message);
      }
      return this.releasing(() => this.release(release.workflowId, release.indices, release.parentId, release.sentAt));
    }
    const job = readTaskJob(bull.data);
    // A job named like a release job but holding a task job's data is a task job (of a reserved name).
    if (isUnreadable(job)) return this.failUnreadable(bull, (release ?? job).problem);
    if (bull.id !== job.id) return this.failUnreadable(bull, `its job id differs from its task id ${JSON.stringify(job.id)}`);
    const { context } = this;
    const node: NodeRef = { workflowId: job.workflowId, index: job.index, id: job.id, task: job.task };
    context.observer.received(job, bull.queueName);

    if (Replacer.handles(job.task)) return this.runBuiltin(job, node, bull.queueName, client, bull.stalledCounter);
    const delivery = { createdAt: bull.timestamp, redelivered: bull.attemptsStarted > 1 || bull.stalledCounter > 0, stalls: bull.stalledCounter };
    const admission = await admit(job, node, delivery, context);
    switch (admission.kind) {
      case 'revoked':
        return context.observer.revoked(job, { expired: admission.expired, terminated: false });
      case 'ended':
        return context.settler.finishEnded(node, admission.state, bull.queueName);
      case 'postpone':
        return postpone(bull, token, admission.delayMs);
      case 'refuse':
        return this.fail(job, node, admission.error, 0);
      case 'run':
        break;
    }

    const { task, options } = admission;
    const abort = new TaskAbort();
    // A first delivery that marks STARTED learns meanwhile whether its node ended: abort the handler then.
    const ended = admission.ended === null ? null : abortWhenEnded(admission.ended, abort, job.id);
    const startedAt = Date.now();
    this.running.set(job.id, { job, bull, token, queue: bull.queueName, startedAt, abort });
    context.observer.started(job);
    let outcome: Outcome;
    try {
      outcome = await context.executor.run({
        task,
        job,
        queue: bull.queueName,
        options,
        abort,
        replace: (canvas: Canvas) => context.replacer.replace(job, canvas, bull.queueName),
      });
    } finally {
      this.running.delete(job.id);
      context.observer.finished(job);
    }
    const runtimeMs = Date.now() - startedAt;

    // The worker stopped waiting for this handler (a cold shutdown): run it again elsewhere.
    if (abort.reason instanceof ShutdownSignal) return postpone(bull, token, 0);
    const state = ended === null ? null : await ended;
    if (state !== null) return context.settler.finishEnded(node, state, bull.queueName);
    // Terminated: record it (a no-op when `app.revoke` did already; not when `app.control.revoke` alone did).
    if (abort.reason instanceof RevokedError) {
      await context.settler.revoke(node.workflowId, [node.index], revokedFailure(node));
      return context.observer.revoked(job, { expired: false, terminated: true });
    }
    switch (outcome.kind) {
      case 'replaced':
        return;
      case 'success':
        return this.succeed(job, node, options, outcome.value, runtimeMs, bull.queueName, client);
      case 'retry':
      case 'failure':
        return this.retryOrFail(bull, token, job, node, task, options, outcome, runtimeMs);
    }
  }

  /**
   * BullMQ failed a job for good on its own — the processor threw an error it had not recorded
   * (Redis kept failing around it) — so record that as the task's failure and no waiter hangs.
   * Failures the processor recorded itself are skipped. (A job its workers keep dying with is
   * failed by admission, which records the failure first.)
   */
  async onBullFailure(bull: Job | undefined, error: Error): Promise<void> {
    if (bull === undefined || error instanceof RecordedFailure || error instanceof DroppedJob || error instanceof DelayedError) return;
    if (bull.attemptsMade < (bull.opts.attempts ?? 1)) return;
    const release = bull.name === RELEASE_JOB ? readReleaseJob(bull.data) : undefined;
    if (release !== undefined && !isUnreadable(release)) {
      this.context.logger.error(`worker ${this.context.name}: release job ${bull.id} failed for good; ${outboxKept(release.workflowId)}`, error);
      return;
    }
    try {
      const job = readTaskJob(bull.data);
      const node = isUnreadable(job) ? await this.nodeOf(bull) : { workflowId: job.workflowId, index: job.index, id: job.id, task: job.task };
      if (node === null) return;
      const remote = toRemoteError(error, node);
      await this.context.settler.failure(node, remote);
      if (!isUnreadable(job)) this.context.observer.failed(job, remote, 0);
    } catch (recordError) {
      this.context.logger.error(`worker ${this.context.name}: could not record the failure of job ${bull.id}`, recordError);
    }
  }

  private async succeed(
    job: TaskJob,
    node: NodeRef,
    options: JobOptions,
    value: unknown,
    runtimeMs: number,
    queue: string,
    client: Promise<RedisClient>,
  ): Promise<void> {
    let envelope: string;
    try {
      envelope = encodeSuccess(options.ignoreResult === true ? null : value, this.context.store.maxPayloadSize);
    } catch (error) {
      return this.fail(job, node, error, runtimeMs);
    }
    // Returning completes the job on `client`, after an add the hand-off sent on it (see handoff.ts).
    await this.context.settler.success(node, envelope, { queue, handoff: { handoff: this.context.handoff, client: await client } });
    this.context.observer.succeeded(job, value, runtimeMs);
  }

  private async retryOrFail(
    bull: Job,
    token: string | undefined,
    job: TaskJob,
    node: NodeRef,
    task: RegisteredTask,
    options: JobOptions,
    outcome: Extract<Outcome, { kind: 'retry' | 'failure' }>,
    runtimeMs: number,
  ): Promise<void> {
    const retry = outcome.kind === 'retry' ? outcome.request : undefined;
    const cause = retry === undefined ? (outcome as { error: unknown }).error : retry.error;
    // `null` is no limit, so `??` (which passes over null) cannot pick the limit here.
    const limit = retry !== undefined && retry.maxRetries !== undefined ? retry.maxRetries : options.maxRetries === undefined ? 0 : options.maxRetries;
    const autoretry = outcome.kind === 'failure' && outcome.autoretry !== undefined ? outcome.autoretry : autoretryMatches(task, cause);
    const retryable = retry !== undefined || (options.maxRetries !== undefined && autoretry);
    if (retryable && (limit === null || job.retries < limit)) {
      const delayMs = retry?.countdown !== undefined ? retry.countdown * 1000 : backoffDelay(options.backoff, job.retries);
      const remote = toRemoteError(cause, node);
      const ended = await this.context.settler.retrying(node, remote);
      if (ended !== null) return this.context.settler.finishEnded(node, ended, bull.queueName);
      await bull.updateData(retryWire(job, job.retries + 1));
      this.context.observer.retried(job, remote, delayMs);
      return postpone(bull, token, delayMs);
    }
    const final = retry !== undefined && retry.error === undefined ? new MaxRetriesExceededError(job.task, job.retries) : cause;
    return this.fail(job, node, final, runtimeMs);
  }

  /** Records a final failure, fails everything downstream, and enqueues the error callbacks. */
  private async fail(job: TaskJob, node: NodeRef, error: unknown, runtimeMs: number): Promise<never> {
    const remote = toRemoteError(error, node);
    await this.context.settler.failure(node, remote);
    this.context.observer.failed(job, remote, runtimeMs);
    throw new RecordedFailure(remote);
  }

  /**
   * A built-in step of a replaced task (see replace.ts); a job that fails verification changes
   * nothing. One orphaned more than `maxStalledCount` times ends the replaced task and itself with
   * `WorkerLostError`, as a task job does (admit.ts), instead of killing workers forever.
   */
  private async runBuiltin(job: TaskJob, node: NodeRef, queue: string, client: Promise<RedisClient>, stalls: number): Promise<void> {
    const { replacer, maxStalledCount } = this.context;
    let outcome: Outcome;
    try {
      if (stalls > maxStalledCount) {
        const lost = new WorkerLostError(stalls);
        await replacer.abandon(job, toRemoteError(lost, node));
        return await this.fail(job, node, lost, 0);
      }
      outcome = await replacer.run(job, queue);
    } catch (error) {
      if (!(error instanceof RefusedJobError)) throw error;
      this.context.logger.warn(`worker ${this.context.name}: ${error.message}`);
      throw new DroppedJob(error.message);
    }
    if (outcome.kind === 'success') return this.succeed(job, node, {}, outcome.value, 0, queue, client);
  }

  /** Enqueues the nodes of a release job that are still in their workflow's outbox. */
  private async release(workflowId: string, indices: readonly number[], parentId: string | null, sentAt: number): Promise<void> {
    const { store, dispatcher } = this.context;
    await dispatcher.send(workflowId, releaseOf(await store.outbox(workflowId, indices)), parentId, sentAt);
  }

  /**
   * A job whose data is unreadable or of the wrong shape: its node is found by the job id (the
   * task id), and fails with a clear reason, so no waiter hangs; the worker goes on.
   */
  private async failUnreadable(bull: Job, problem: string): Promise<never> {
    const what = bull.name === RELEASE_JOB ? 'Release job' : 'Job';
    const error = new InvalidJobError(`${what} ${bull.id} in queue ${bull.queueName} was not written by Celeriac: ${problem}.`);
    const node = await this.nodeOf(bull);
    if (node === null) {
      this.context.logger.warn(`worker ${this.context.name}: ${error.message} No workflow knows its id; it was dropped.`);
      throw new DroppedJob(error.message);
    }
    const remote = toRemoteError(error, node);
    await this.context.settler.failure(node, remote);
    throw new RecordedFailure(remote);
  }

  /** The node a job belongs to, found by its id; null when no workflow knows it. */
  private async nodeOf(bull: Job): Promise<NodeRef | null> {
    if (bull.id === undefined) return null;
    try {
      const { meta, ref } = await locate(this.context.store, bull.id);
      return 'n' in ref ? nodeRefOf(meta, ref.n) : null;
    } catch {
      return null;
    }
  }
}

/** Aborts the handler when `ended` says its node had already ended; settles with that state. */
function abortWhenEnded(ended: Promise<TaskState | null>, abort: TaskAbort, id: string): Promise<TaskState | null> {
  const watched = ended.then((state) => {
    if (state !== null) abort.abort(state === 'REVOKED' ? new RevokedError(id) : new Error(`task ${id} already ended`));
    return state;
  });
  watched.catch(() => {}); // awaited after the handler: a Redis error there fails the job, and BullMQ runs it again
  return watched;
}

/** Moves the job back to BullMQ's delayed set without counting an attempt. */
async function postpone(bull: Job, token: string | undefined, delayMs: number): Promise<never> {
  await bull.moveToDelayed(Date.now() + Math.max(0, Math.round(delayMs)), token);
  throw new DelayedError();
}

/** Celery's retry backoff: fixed, or `delay * 2^retries` capped at `maxDelay` (600 s), optionally jittered. */
export function backoffDelay(backoff: JobOptions['backoff'], retries: number): number {
  if (backoff === undefined) return 0;
  const seconds =
    backoff.type === 'fixed' ? backoff.delay : Math.min(backoff.maxDelay ?? 600, backoff.delay * 2 ** retries);
  return (backoff.jitter === true ? Math.random() * seconds : seconds) * 1000;
}
