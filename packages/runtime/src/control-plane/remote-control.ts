/**
 * Celery's `app.control`: commands to workers, questions to them (`inspect()`), and the list of
 * workers from presence. The CLI and the monitor use this; they never touch Redis themselves.
 */
import * as v from 'valibot';
import { commandSpecs, type CommandArgs, type CommandName, type CommandReplies, type OkReply, type RateLimit, type TimeLimits } from './commands.js';
import { checkArgs } from './control-target.js';
import { Inspect, type CommandFailure, type InspectOptions, type Replies } from './inspect.js';
import type { BroadcastOptions, Mailbox, RawReply } from './mailbox.js';
import type { Presence, WorkerStatus } from './presence.js';

/** Options of {@link RemoteControl.revoke}. */
export interface RevokeCommandOptions extends BroadcastOptions {
  /** Also abort the tasks if they are running (their AbortSignal fires). Default false. */
  readonly terminate?: boolean;
}

/** Options of {@link RemoteControl}. */
export interface RemoteControlOptions {
  readonly mailbox: Mailbox;
  readonly presence: Presence;
}

/**
 * Remote control of an app's workers. Every command takes `{ destination, timeout, reply }`:
 * workers to address (default all), milliseconds to wait (default 1 000), and whether to wait for
 * replies at all (default true; with false the call resolves to `{}` once the command is sent).
 * Replies are keyed by worker name; a worker's error appears as a {@link CommandFailure} in place
 * of its value. Arguments are checked before anything is sent: a bad one throws
 * `ControlArgumentError`.
 *
 * @example
 * ```ts
 * await control.workers();                                   // presence: online and recently offline
 * await control.inspect().active();                          // { 'w1@host': [{ id, name, … }] }
 * await control.rateLimit('add', '10/s', { destination: 'w1@host' }); // { 'w1@host': { ok: 'new rate limit set successfully' } }
 * ```
 */
export class RemoteControl {
  private readonly mailbox: Mailbox;
  private readonly presence: Presence;

  constructor(options: RemoteControlOptions) {
    this.mailbox = options.mailbox;
    this.presence = options.presence;
  }

  /** Workers known to presence, online and recently offline, sorted by name. */
  workers(): Promise<WorkerStatus[]> {
    return this.presence.workers();
  }

  /**
   * Questions to the workers chosen by `options.destination`.
   *
   * @param options - destination and timeout for every question asked through it
   */
  inspect(options: InspectOptions = {}): Inspect {
    return new Inspect((command, args, sendOptions) => this.broadcast(command, args, sendOptions), options);
  }

  /**
   * Sends any command and collects the typed replies. Collection ends at the timeout, or as soon
   * as every expected worker answered: the destination's names, or else the workers presence
   * lists as online.
   *
   * @param command - the command's wire name
   * @param args - its arguments, checked before sending
   * @param options - destination, timeout, reply
   * @returns replies by worker name
   * @throws ControlArgumentError for bad arguments or options; ControlTimeoutError when Redis is unreachable
   */
  async broadcast<TName extends CommandName>(
    command: TName,
    args: CommandArgs[TName],
    options: BroadcastOptions = {},
  ): Promise<Replies<CommandReplies[TName]>> {
    const checked = checkArgs(command, args);
    let expected: Promise<string[]> | undefined;
    if (options.destination === undefined && options.reply !== false) {
      expected = this.presence.online();
      // The mailbox may fail before it reads this (Redis unreachable); that is reported there.
      expected.catch(() => {});
    }
    const raw = await this.mailbox.broadcast(command, checked, { ...options, ...(expected === undefined ? {} : { expected }) });
    const replies: [string, CommandReplies[TName] | CommandFailure][] = [];
    for (const [worker, reply] of raw) replies.push([worker, typed(command, reply)]);
    // fromEntries defines own properties: a worker named "__proto__" stays a key.
    return Object.fromEntries(replies);
  }

  /** Celery's `control.ping`: each worker answers `{ ok: 'pong' }`. */
  ping(options: BroadcastOptions = {}): Promise<Replies<OkReply>> {
    return this.broadcast('ping', {}, options);
  }

  /** Warm shutdown: workers stop fetching, finish what runs, and exit. */
  shutdown(options: BroadcastOptions = {}): Promise<Replies<OkReply>> {
    return this.broadcast('shutdown', {}, options);
  }

  /**
   * Sets a task's rate limit on the workers (until they restart).
   *
   * @param task - a registered task name
   * @param rate - `"10/s"`, `"100/m"`, `"1000/h"`, a number per second, or null (or 0) for none
   */
  rateLimit(task: string, rate: RateLimit, options: BroadcastOptions = {}): Promise<Replies<OkReply>> {
    return this.broadcast('rate_limit', { task, rate }, options);
  }

  /**
   * Sets a task's soft and hard time limits, in seconds, on the workers (until they restart).
   *
   * @param task - a registered task name
   * @param limits - `soft` and `hard` seconds; an omitted or null one means no limit
   */
  timeLimit(task: string, limits: Partial<TimeLimits>, options: BroadcastOptions = {}): Promise<Replies<OkReply>> {
    return this.broadcast('time_limit', { task, soft: limits.soft ?? null, hard: limits.hard ?? null }, options);
  }

  /** Makes the workers consume `queue` too. */
  addConsumer(queue: string, options: BroadcastOptions = {}): Promise<Replies<OkReply>> {
    return this.broadcast('add_consumer', { queue }, options);
  }

  /** Makes the workers stop consuming `queue` (jobs in flight finish). */
  cancelConsumer(queue: string, options: BroadcastOptions = {}): Promise<Replies<OkReply>> {
    return this.broadcast('cancel_consumer', { queue }, options);
  }

  /**
   * Tells the workers these task ids are revoked (Celery's `control.revoke`): they skip them, and
   * with `terminate` abort them if running (an async handler that ignores its signal is no longer
   * waited for). It reaches the workers online now; the worker that skips or terminates a task
   * records it REVOKED in Redis, with what follows it, as a Celery worker does. `app.revoke(id)`
   * records the revocation first, so it holds even for a task no live worker has heard of.
   *
   * @param ids - one task id or several
   */
  revoke(ids: string | readonly string[], options: RevokeCommandOptions = {}): Promise<Replies<OkReply>> {
    const { terminate = false, ...rest } = options;
    return this.broadcast('revoke', { ids: typeof ids === 'string' ? [ids] : ids, terminate }, rest);
  }

  /** Runs `n` (default 1) more tasks at once on each worker. */
  poolGrow(n = 1, options: BroadcastOptions = {}): Promise<Replies<OkReply>> {
    return this.broadcast('pool_grow', { n }, options);
  }

  /** Runs `n` (default 1) fewer tasks at once on each worker. */
  poolShrink(n = 1, options: BroadcastOptions = {}): Promise<Replies<OkReply>> {
    return this.broadcast('pool_shrink', { n }, options);
  }
}

/** A raw reply as the command's type, or a failure when it is an error or fails the command's reply schema. */
function typed<TName extends CommandName>(command: TName, reply: RawReply): CommandReplies[TName] | CommandFailure {
  if (!reply.ok) return { error: reply.error.message, name: reply.error.name };
  const parsed = v.safeParse(commandSpecs[command].reply, reply.value);
  if (parsed.success) return parsed.output;
  return { error: `the worker's reply to "${command}" is malformed: ${v.summarize(parsed.issues)}`, name: 'MalformedReplyError' };
}
