/**
 * The worker side of control and inspect: {@link ControlTarget} is what a worker implements, and
 * {@link controlHandlers} turns it into the mailbox's command table. The table checks every
 * command's arguments (a bad one gets a `ControlArgumentError` reply naming the argument), shapes
 * replies the way Celery does, and adds what is the same for every worker (pid, uptime, rusage).
 */
import * as v from 'valibot';
import { ControlArgumentError } from '../errors.js';
import {
  commandSpecs,
  type CommandArgs,
  type CommandName,
  type CommandReplies,
  type PoolStats,
  type QueriedTask,
  type ScheduledTaskInfo,
  type TaskRequestInfo,
  type TimeLimits,
  type WorkerStats,
} from './commands.js';
import type { CommandHandler, CommandHandlers, CommandRequest } from './mailbox.js';

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** A worker's counters for `inspect stats`. */
export interface WorkerCounts {
  /** Epoch ms the worker started (uptime counts from it). */
  readonly startedAt: number;
  readonly pool: PoolStats;
  /** Tasks finished, by task name. */
  readonly processed: Readonly<Record<string, number>>;
  /** Tasks failed for good, by task name. */
  readonly failed: Readonly<Record<string, number>>;
}

/**
 * What a worker exposes to remote control and inspection. Each method answers for this worker
 * only. Methods may throw (a `CeleriacError` with a clear message, ideally): the caller gets the
 * error's name and message as this worker's reply. Arguments arrive already checked.
 */
export interface ControlTarget {
  /** The worker's name (`w1@host`): commands addressed to other names are ignored. */
  readonly name: string;
  /** Task names this worker can run, sorted. */
  registered(): readonly string[];
  /** Tasks whose handlers are running now, with `started` and `workerPid` set. */
  active(): Awaitable<readonly TaskRequestInfo[]>;
  /** Tasks fetched from a queue whose handlers have not started (e.g. waiting on a rate limit). */
  reserved(): Awaitable<readonly TaskRequestInfo[]>;
  /** Tasks of this worker's queues waiting for their countdown or eta. */
  scheduled(): Awaitable<readonly ScheduledTaskInfo[]>;
  /** Ids this worker knows to be revoked (its in-memory set, Celery's `revoked`). */
  revoked(): readonly string[];
  /** Counters for `inspect stats`. */
  stats(): WorkerCounts;
  /** Queues consumed now. */
  queues(): readonly string[];
  /** Starts consuming `queue`; resolves false when it already did. */
  addConsumer(queue: string): Awaitable<boolean>;
  /** Stops consuming `queue` (jobs in flight finish); resolves false when it did not consume it. */
  cancelConsumer(queue: string): Awaitable<boolean>;
  /**
   * Sets a registered task's rate limit in this worker: `"10/s"`, `"100/m"`, `"1000/h"` or a bare
   * number per second (`app.task`'s `rateLimit` format), or null for none. The task is known.
   */
  setRateLimit(task: string, rate: string | null): void;
  /** Sets a registered task's time limits in seconds (null: none). The task is known; soft ≤ hard. */
  setTimeLimit(task: string, limits: TimeLimits): void;
  /** Runs `n` more tasks at once. */
  poolGrow(n: number): Awaitable<void>;
  /** Runs `n` fewer tasks at once (not below 1; throw to refuse). */
  poolShrink(n: number): Awaitable<void>;
  /** Adds ids to the revoked set; with `terminate`, aborts those running now (their AbortSignal fires). */
  revoke(ids: readonly string[], terminate: boolean): void;
  /** Starts a warm shutdown: stop fetching, finish the tasks in flight, exit. Called after the reply is sent. */
  shutdown(): void;
}

/** Revoked ids named in a reply at most; the rest are counted. */
const IDS_IN_REPLY = 10;

/**
 * The command table serving `target`: every inspect and control command.
 *
 * @param target - the worker
 * @returns handlers by command name, for {@link Mailbox.serve}
 *
 * @example
 * ```ts
 * const server = mailbox.serve(worker.name, controlHandlers(worker));
 * ```
 */
export function controlHandlers(target: ControlTarget): CommandHandlers {
  const knownTask = (task: string): void => {
    const registered = target.registered();
    if (!registered.includes(task)) {
      throw new ControlArgumentError('task', `unknown task "${task}" on worker ${target.name} (registered: ${registered.join(', ') || 'none'})`);
    }
  };
  const handlers: { [TName in CommandName]: CommandHandler } = {
    ping: command('ping', () => ({ ok: 'pong' })),
    registered: command('registered', () => [...target.registered()]),
    active: command('active', async () => (await target.active()).map(requestInfo)),
    reserved: command('reserved', async () => (await target.reserved()).map(requestInfo)),
    scheduled: command('scheduled', async () =>
      (await target.scheduled()).map(({ eta, priority, request }) => ({ eta, priority, request: requestInfo(request) })),
    ),
    revoked: command('revoked', () => [...target.revoked()]),
    stats: command('stats', () => stats(target.stats())),
    active_queues: command('active_queues', () => target.queues().map((name) => ({ name }))),
    query_task: command('query_task', async ({ ids }) => {
      const wanted = new Set(ids);
      const found: [string, QueriedTask][] = [];
      const collect = (state: QueriedTask[0], requests: readonly TaskRequestInfo[]): void => {
        for (const request of requests) if (wanted.has(request.id)) found.push([request.id, [state, requestInfo(request)]]);
      };
      const [active, reserved, scheduled] = await Promise.all([target.active(), target.reserved(), target.scheduled()]);
      collect('active', active);
      collect('reserved', reserved);
      collect('scheduled', scheduled.map(({ request }) => request));
      // fromEntries defines own properties, so an id such as "__proto__" stays data.
      return Object.fromEntries(found);
    }),
    shutdown: command('shutdown', (_args, request) => {
      request.afterReply(() => target.shutdown());
      return { ok: 'warm shutdown started' };
    }),
    rate_limit: command('rate_limit', ({ task, rate }) => {
      knownTask(task);
      const none = rate === null || Number.parseFloat(String(rate)) === 0;
      target.setRateLimit(task, none ? null : String(rate).replace(/\s+/g, ''));
      return { ok: none ? 'rate limit disabled successfully' : 'new rate limit set successfully' };
    }),
    time_limit: command('time_limit', ({ task, soft, hard }) => {
      knownTask(task);
      target.setTimeLimit(task, { soft, hard });
      return { ok: 'time limits set successfully' };
    }),
    add_consumer: command('add_consumer', async ({ queue }) =>
      (await target.addConsumer(queue)) ? { ok: `add consumer ${queue}` } : { ok: `already consuming from ${queue}` },
    ),
    cancel_consumer: command('cancel_consumer', async ({ queue }) =>
      (await target.cancelConsumer(queue)) ? { ok: `no longer consuming from ${queue}` } : { ok: `was not consuming from ${queue}` },
    ),
    revoke: command('revoke', ({ ids, terminate }) => {
      target.revoke(ids, terminate);
      const named = ids.slice(0, IDS_IN_REPLY).join(', ');
      const more = ids.length > IDS_IN_REPLY ? ` and ${ids.length - IDS_IN_REPLY} more` : '';
      return { ok: `tasks ${named}${more} flagged as revoked${terminate ? ' (and terminated if running)' : ''}` };
    }),
    pool_grow: command('pool_grow', async ({ n }) => {
      await target.poolGrow(n);
      return { ok: 'pool will grow' };
    }),
    pool_shrink: command('pool_shrink', async ({ n }) => {
      await target.poolShrink(n);
      return { ok: 'pool will shrink' };
    }),
  };
  return handlers;
}

/**
 * Checks a command's arguments against its schema.
 *
 * @throws ControlArgumentError naming the first bad argument
 */
export function checkArgs<TName extends CommandName>(name: TName, args: unknown): CommandArgs[TName] {
  const parsed = v.safeParse(commandSpecs[name].args, args);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join('.') ?? '';
  throw new ControlArgumentError(path === '' ? `arguments of ${name}` : path, issue.message);
}

function command<TName extends CommandName>(
  name: TName,
  run: (args: CommandArgs[TName], request: CommandRequest) => Awaitable<CommandReplies[TName]>,
): CommandHandler {
  return (args, request) => run(checkArgs(name, args), request);
}

/** Exactly the fields of a task request: nothing else a worker keeps on it leaks into replies. */
function requestInfo(request: TaskRequestInfo): TaskRequestInfo {
  const { id, name, args, kwargs, queue, retries, started, workerPid } = request;
  return { id, name, args, kwargs, queue, retries, started, workerPid };
}

function stats(counts: WorkerCounts): WorkerStats {
  const usage = process.resourceUsage();
  return {
    pid: process.pid,
    uptime: Math.max(0, (Date.now() - counts.startedAt) / 1000),
    total: counts.processed,
    failed: counts.failed,
    pool: { kind: counts.pool.kind, maxConcurrency: counts.pool.maxConcurrency, processes: [...counts.pool.processes] },
    rusage: {
      utime: usage.userCPUTime / 1e6,
      stime: usage.systemCPUTime / 1e6,
      maxrss: usage.maxRSS,
      minflt: usage.minorPageFault,
      majflt: usage.majorPageFault,
      inblock: usage.fsRead,
      oublock: usage.fsWrite,
      nvcsw: usage.voluntaryContextSwitches,
      nivcsw: usage.involuntaryContextSwitches,
    },
  };
}
