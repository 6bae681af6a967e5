/**
 * Celery's `app.control.inspect()`: questions every (or each named) worker answers about itself.
 * Each method resolves to the replies keyed by worker name, Celery's `--json` shape, so
 * `JSON.stringify(await inspect.registered())` prints what `celery inspect registered --json` does.
 */
import type {
  CommandArgs,
  CommandName,
  CommandReplies,
  OkReply,
  QueryTaskReply,
  QueueInfo,
  ScheduledTaskInfo,
  TaskRequestInfo,
  WorkerStats,
} from './commands.js';
import type { BroadcastOptions } from './mailbox.js';

/**
 * A worker's answer that is an error: Celery's `{"error": "…"}`, plus the error's class name.
 * It appears in place of the value for that worker (an unknown task, a bad argument, a command the
 * worker does not serve, or a reply that failed its schema: `MalformedReplyError`).
 */
export interface CommandFailure {
  readonly error: string;
  readonly name: string;
}

/** Replies keyed by worker name: the value, or a {@link CommandFailure}. */
export type Replies<T> = Readonly<Record<string, T | CommandFailure>>;

/**
 * Whether a worker's reply is a failure. No successful reply has an `error` field.
 *
 * @param reply - one worker's reply
 * @returns true for a {@link CommandFailure}
 *
 * @example
 * ```ts
 * for (const [worker, reply] of Object.entries(await inspect.stats())) {
 *   if (isCommandFailure(reply)) console.error(worker, reply.error);
 * }
 * ```
 */
export function isCommandFailure(reply: unknown): reply is CommandFailure {
  return typeof reply === 'object' && reply !== null && !Array.isArray(reply) && typeof (reply as { error?: unknown }).error === 'string';
}

/** Who to ask and how long to wait, for inspection (replies are always wanted). */
export type InspectOptions = Omit<BroadcastOptions, 'reply'>;

/** Sends one command and collects typed replies; see `RemoteControl.broadcast`. */
export type CommandSender = <TName extends CommandName>(
  command: TName,
  args: CommandArgs[TName],
  options: BroadcastOptions,
) => Promise<Replies<CommandReplies[TName]>>;

/**
 * Inspection of the workers chosen by `destination`, each method one broadcast. Get one from
 * `control.inspect(options)`.
 *
 * @example
 * ```ts
 * const inspect = control.inspect({ destination: ['w1@host'], timeout: 2_000 });
 * await inspect.registered(); // { 'w1@host': ['add', 'mul'] }
 * ```
 */
export class Inspect {
  /** @internal use `control.inspect(options)`. */
  constructor(
    private readonly send: CommandSender,
    private readonly options: InspectOptions = {},
  ) {}

  /** Each worker answers `{ ok: 'pong' }`. */
  ping(): Promise<Replies<OkReply>> {
    return this.send('ping', {}, this.options);
  }

  /** Task names each worker has registered. */
  registered(): Promise<Replies<readonly string[]>> {
    return this.send('registered', {}, this.options);
  }

  /** Tasks running now: id, name, args, kwargs, queue, retries, started, worker pid. */
  active(): Promise<Replies<readonly TaskRequestInfo[]>> {
    return this.send('active', {}, this.options);
  }

  /** Tasks fetched from a queue and not started yet. */
  reserved(): Promise<Replies<readonly TaskRequestInfo[]>> {
    return this.send('reserved', {}, this.options);
  }

  /** Tasks waiting for their countdown or eta. */
  scheduled(): Promise<Replies<readonly ScheduledTaskInfo[]>> {
    return this.send('scheduled', {}, this.options);
  }

  /** Ids each worker holds as revoked in memory. */
  revoked(): Promise<Replies<readonly string[]>> {
    return this.send('revoked', {}, this.options);
  }

  /** Pid, uptime, counts per task, pool and resource usage. */
  stats(): Promise<Replies<WorkerStats>> {
    return this.send('stats', {}, this.options);
  }

  /** Queues each worker consumes. */
  activeQueues(): Promise<Replies<readonly QueueInfo[]>> {
    return this.send('active_queues', {}, this.options);
  }

  /**
   * Where each worker holds these tasks (active, reserved or scheduled), by task id.
   *
   * @param ids - one task id or several
   */
  queryTask(ids: string | readonly string[]): Promise<Replies<QueryTaskReply>> {
    return this.send('query_task', { ids: typeof ids === 'string' ? [ids] : ids }, this.options);
  }
}
