/**
 * Admitting a job: deciding, before any handler runs, whether it should run now, later, or not at
 * all — revoked, expired, over its task's rate limit, of a task this worker does not know, or
 * redelivered for a node that already ended.
 */
import { type TaskState } from './envelope.js';
import { ExpiredError, NotRegisteredError, WorkerLostError } from './errors.js';
import { revokedFailure, toRemoteError } from './failure.js';
import { jobOptionsOf, type JobOptions, type TaskJob } from './job-data.js';
import type { NodeRef, Settler } from './settle.js';
import type { WorkflowStore } from './store.js';
import type { RegisteredTask } from './task.js';

/** What to do with a job. */
export type Admission =
  /**
   * Run it. `ended` settles with the state its node already ended in, if it had (with
   * `trackStarted` a first delivery learns it while the handler runs; null: it had not). It is
   * null when nothing is asked: the node is not known to have ended.
   */
  | { readonly kind: 'run'; readonly task: RegisteredTask; readonly options: JobOptions; readonly ended: Promise<TaskState | null> | null }
  /** Do not run it: it was revoked (now, or on expiry) and its node records that. */
  | { readonly kind: 'revoked'; readonly expired: boolean }
  /** A redelivery for a node that already ended in `state`: only finish what its outcome released. */
  | { readonly kind: 'ended'; readonly state: TaskState }
  /** Run it later: the task is over its rate limit. */
  | { readonly kind: 'postpone'; readonly delayMs: number }
  /** Fail its node with this error without running anything. */
  | { readonly kind: 'refuse'; readonly error: Error };

/**
 * Limits a worker was told to use for a task instead of its definition's (Celery's `rate_limit`
 * and `time_limit` control commands); `null` removes a limit.
 */
export interface TaskOverrides {
  /** Milliseconds between two starts. */
  readonly rateInterval?: number | null;
  /** Hard and soft time limits, in seconds. */
  readonly timeLimit?: number | null;
  readonly softTimeLimit?: number | null;
}

/** What admission needs from its worker. */
export interface AdmitContext {
  readonly store: WorkflowStore;
  readonly settler: Settler;
  readonly registry: ReadonlyMap<string, RegisteredTask>;
  /** This worker's overrides of tasks' limits, by task name. */
  readonly overrides: ReadonlyMap<string, TaskOverrides>;
  /**
   * Ids this worker was told are revoked: by `app.revoke` (their state in Redis already is
   * REVOKED) or by `app.control.revoke` alone (admitting one records it, as a Celery worker does).
   */
  isRevoked(id: string): boolean;
  /** Record STARTED on every first delivery too (Celery's `task_track_started`). */
  readonly trackStarted: boolean;
  /** How often a job may be orphaned by a dead worker; one orphaned more often fails with `WorkerLostError`. */
  readonly maxStalledCount: number;
}

/** How the job came to this worker. */
export interface Delivery {
  /** Epoch ms the job was created: a task's default relative `expires` counts from here. */
  readonly createdAt: number;
  /** A retry, or a dead worker's job handed over. */
  readonly redelivered: boolean;
  /** How often a dead worker orphaned the job (BullMQ's stalled counter). */
  readonly stalls: number;
}

/** Decides what to do with `job`; see {@link Admission}. */
export async function admit(job: TaskJob, node: NodeRef, delivery: Delivery, context: AdmitContext): Promise<Admission> {
  if (context.isRevoked(job.id)) {
    await context.settler.revoke(node.workflowId, [node.index], revokedFailure(node));
    return { kind: 'revoked', expired: false };
  }
  const task = context.registry.get(job.task);
  const overrides = context.overrides.get(job.task);
  // The task's defaults fill what the producer did not set (it may not know the task); this
  // worker's overrides win over both. Object.assign, not spreads: a fresh hidden class per job
  // otherwise (plan.ts's encodeSpec says why); `job.options` holds only known options (job-data.ts).
  const options = withOverrides(Object.assign(task === undefined ? {} : jobOptionsOf(task.defaults, delivery.createdAt), job.options), overrides);

  if (options.expiresAt !== undefined && Date.now() > options.expiresAt) {
    await context.settler.revoke(node.workflowId, [node.index], toRemoteError(new ExpiredError(job.id), node));
    return { kind: 'revoked', expired: true };
  }
  if (task === undefined) return { kind: 'refuse', error: new NotRegisteredError(job.task, publicNames(context.registry)) };
  const rateInterval = overrides?.rateInterval === undefined ? task.rateInterval : overrides.rateInterval;
  if (rateInterval !== undefined && rateInterval !== null) {
    const wait = await context.store.rateLimit(task.name, rateInterval);
    if (wait > 0) return { kind: 'postpone', delayMs: wait };
  }

  // Marking STARTED also tells whether the node already ended (revoked, or finished by an earlier
  // delivery). A redelivered job waits for that answer. A first delivery does not spend a round
  // trip on it — revoked jobs were removed from the queue and announced to every worker, and a
  // finished node's result cannot be recorded twice — so it marks only with `trackStarted`, and
  // then the answer, arriving moments later, aborts the handler in the rare race it loses.
  if (delivery.redelivered) {
    const ended = await context.settler.started(node);
    if (ended !== null) return { kind: 'ended', state: ended };
    // Its workers keep dying with it (the task may be what kills them): fail it without running
    // it. The failure is recorded before the job ends, so a worker dying here too leaves the job
    // to be redelivered and found ended above.
    if (delivery.stalls > context.maxStalledCount) return { kind: 'refuse', error: new WorkerLostError(delivery.stalls) };
    return { kind: 'run', task, options, ended: null };
  }
  return { kind: 'run', task, options, ended: context.trackStarted ? context.settler.started(node) : null };
}

function withOverrides(options: JobOptions, overrides: TaskOverrides | undefined): JobOptions {
  if (overrides === undefined || (overrides.timeLimit === undefined && overrides.softTimeLimit === undefined)) return options;
  const { timeLimit, softTimeLimit, ...rest } = options;
  const hard = overrides.timeLimit === undefined ? timeLimit : (overrides.timeLimit ?? undefined);
  const soft = overrides.softTimeLimit === undefined ? softTimeLimit : (overrides.softTimeLimit ?? undefined);
  const merged: { -readonly [K in keyof JobOptions]: JobOptions[K] } = rest;
  if (hard !== undefined) merged.timeLimit = hard;
  if (soft !== undefined) merged.softTimeLimit = soft;
  return merged;
}

/** Registered task names a user would recognise: Celery's own `celery.*` built-ins are left out. */
export function publicNames(registry: ReadonlyMap<string, RegisteredTask>): string[] {
  return [...registry.keys()].filter((name) => !name.startsWith('celery.')).sort();
}
