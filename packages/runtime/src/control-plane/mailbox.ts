/**
 * The mailbox: Celery's broadcast-with-replies over Redis pub/sub. A caller publishes a command on
 * the app's control channel with a request id; each worker the command is meant for runs the
 * handler of that name and publishes `{ok, value}` or `{ok: false, error}` on the request's reply
 * channel, to which the caller subscribed before publishing. The caller collects replies until its
 * timeout, or until every worker it expected has answered.
 *
 * Anyone who can write to Redis can publish on these channels, so every message is checked
 * (size, JSON, then a valibot schema) before use, and a bad one is dropped with a rate-limited log
 * line. Nothing a message contains can throw out of a listener.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../connection.js';
import * as v from 'valibot';
import { ControlArgumentError, ControlTimeoutError } from '../errors.js';
import { controlChannel, replyChannel } from '../keys.js';
import { consoleLogger, RateLimitedLog, type Logger } from '../logger.js';
import type { ChannelSubscriber, Subscription } from '../subscriber.js';

/** Version of the command and reply envelopes; a message of another version is dropped. */
export const MAILBOX_VERSION = 1;

/** Celery's default: wait one second for replies. */
export const DEFAULT_TIMEOUT_MS = 1_000;

/** Longest command message a worker parses (revoking 10 000 ids takes about 400 KB). */
export const MAX_COMMAND_LENGTH = 1 << 20;

/** Longest reply a caller parses (an `active` listing with large arguments). */
export const MAX_REPLY_LENGTH = 16 << 20;

const WorkerName = v.pipe(v.string(), v.minLength(1), v.maxLength(255));
const RequestId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/));

const CommandEnvelope = v.object({
  celeriac: v.literal('control'),
  v: v.literal(MAILBOX_VERSION),
  id: RequestId,
  command: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  /** Checked by the command's handler. */
  args: v.unknown(),
  destination: v.nullable(v.pipe(v.array(WorkerName), v.maxLength(10_000))),
  reply: v.boolean(),
  sentAt: v.pipe(v.number(), v.finite()),
});

const RemoteFailure = v.object({
  name: v.pipe(v.string(), v.maxLength(200)),
  message: v.pipe(v.string(), v.maxLength(100_000)),
});

const ReplyEnvelope = v.variant('ok', [
  v.object({
    celeriac: v.literal('reply'),
    v: v.literal(MAILBOX_VERSION),
    id: RequestId,
    worker: WorkerName,
    ok: v.literal(true),
    value: v.unknown(),
  }),
  v.object({
    celeriac: v.literal('reply'),
    v: v.literal(MAILBOX_VERSION),
    id: RequestId,
    worker: WorkerName,
    ok: v.literal(false),
    error: RemoteFailure,
  }),
]);

/** A command a worker accepted, before it runs. */
interface ServedCommand {
  readonly id: string;
  readonly command: string;
  readonly args: unknown;
  readonly reply: boolean;
  readonly sentAt: number;
}

/** A command as a worker's handler sees it. */
export interface CommandRequest {
  /** The request id (unique per broadcast). */
  readonly id: string;
  /** The command's name. */
  readonly command: string;
  /** Epoch ms the caller sent it, by the caller's clock. */
  readonly sentAt: number;
  /**
   * Runs `action` once the reply has been published (or right after the handler when no reply
   * was asked for): `shutdown` answers first, then stops the worker.
   */
  afterReply(action: () => void): void;
}

/**
 * Runs one command on a worker. `args` is whatever the caller sent — unchecked; validate it.
 * The return value (JSON data) is the reply; a throw becomes an error reply with its name and message.
 */
export type CommandHandler = (args: unknown, request: CommandRequest) => unknown;

/** The commands a worker serves, by name. */
export type CommandHandlers = Readonly<Record<string, CommandHandler>>;

/** One worker's answer, as it arrived. */
export type RawReply =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: { readonly name: string; readonly message: string } };

/** Whom to ask, and how long to wait. */
export interface BroadcastOptions {
  /** Worker name(s) to ask; default: every worker. Others ignore the command. */
  readonly destination?: string | readonly string[];
  /** Milliseconds to wait for replies. Default 1 000 (Celery's one second). */
  readonly timeout?: number;
  /** Whether workers reply. Without replies the call resolves, empty, once the command is published. Default true. */
  readonly reply?: boolean;
}

/** Options of {@link Mailbox.broadcast}. */
export interface MailboxBroadcastOptions extends BroadcastOptions {
  /**
   * Workers expected to answer when there is no `destination` (typically those presence lists as
   * online): collection stops early once all of them answered. Without it, it runs to the timeout.
   */
  readonly expected?: readonly string[] | PromiseLike<readonly string[]>;
}

/** A worker's hold on the mailbox; see {@link Mailbox.serve}. */
export interface MailboxServer {
  /** Resolves once the worker hears commands (it waits for Redis to be reachable). */
  readonly ready: Promise<void>;
  /** Stops serving; replies to commands already running are still sent. */
  close(): void;
}

/** Options of {@link Mailbox}. */
export interface MailboxOptions {
  /** A connection for commands (PUBLISH). Stays the caller's. */
  readonly redis: RedisClient;
  /** The app's subscriber: carries the control channel and the reply channels. Stays the caller's. */
  readonly subscriber: ChannelSubscriber;
  /** The app's key prefix. */
  readonly prefix: string;
  readonly logger?: Logger;
  /** Longest command a worker parses; longer ones are dropped. Default {@link MAX_COMMAND_LENGTH}. */
  readonly maxCommandLength?: number;
  /** Longest reply a caller parses; longer ones are dropped. Default {@link MAX_REPLY_LENGTH}. */
  readonly maxReplyLength?: number;
}

/**
 * Broadcast with replies, both sides. One per app: the app's subscriber connection carries the
 * control channel for the workers it serves and the reply channels of the requests it sends.
 *
 * @example
 * ```ts
 * const mailbox = new Mailbox({ redis, subscriber, prefix: 'celeriac' });
 * mailbox.serve('w1@host', { ping: () => ({ ok: 'pong' }) });
 * const replies = await mailbox.broadcast('ping', {}, { timeout: 500 });
 * // Map { 'w1@host' => { ok: true, value: { ok: 'pong' } } }
 * ```
 */
export class Mailbox {
  /** The channel commands are published on. */
  readonly channel: string;
  private readonly log: RateLimitedLog;
  private readonly subscriber: ChannelSubscriber;
  private readonly maxCommandLength: number;
  private readonly maxReplyLength: number;

  constructor(private readonly options: MailboxOptions) {
    this.channel = controlChannel(options.prefix);
    this.log = new RateLimitedLog(options.logger ?? consoleLogger('warn'));
    this.subscriber = options.subscriber;
    this.maxCommandLength = options.maxCommandLength ?? MAX_COMMAND_LENGTH;
    this.maxReplyLength = options.maxReplyLength ?? MAX_REPLY_LENGTH;
  }

  /**
   * Serves commands addressed to `name` (or to every worker) with `handlers`. Subscribes at once,
   * and again whenever the connection comes back, even if Redis was down when this was called.
   *
   * @param name - the worker's name, matched against a command's destination
   * @param handlers - the command table, by command name
   * @returns the server; close it when the worker stops
   */
  serve(name: string, handlers: CommandHandlers): MailboxServer {
    const table = new Map(Object.entries(handlers));
    const subscription = this.subscriber.listen(this.channel, (message) => this.dispatch(name, table, message));
    return { ready: subscription.ready, close: () => subscription.close() };
  }

  /**
   * Publishes `command` with `args` and collects the replies.
   *
   * @param command - the command's name
   * @param args - its arguments (JSON data)
   * @param options - destination, timeout, reply, expected workers
   * @returns each worker's reply, by worker name, in order of arrival
   * @throws ControlArgumentError for a bad destination or timeout;
   *   ControlTimeoutError when Redis does not accept the reply subscription within the timeout
   */
  async broadcast(command: string, args: unknown, options: MailboxBroadcastOptions = {}): Promise<Map<string, RawReply>> {
    const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
      throw new ControlArgumentError('timeout', `expected milliseconds > 0, got ${String(timeout)}`);
    }
    const destination = destinationOf(options.destination);
    const id = randomUUID();
    const reply = options.reply ?? true;
    const envelope = JSON.stringify({ celeriac: 'control', v: MAILBOX_VERSION, id, command, args, destination, reply, sentAt: Date.now() });
    if (!reply) {
      await this.options.redis.publish(this.channel, envelope);
      return new Map();
    }

    const replies = new Map<string, RawReply>();
    let expected: readonly string[] | undefined = destination ?? undefined;
    let finish = (): void => {};
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const complete = (): boolean => expected !== undefined && expected.length > 0 && expected.every((name) => replies.has(name));
    const subscription: Subscription = this.subscriber.listen(replyChannel(this.options.prefix, id), (message) => {
      const received = this.parseReply(message, id);
      if (received === undefined || replies.has(received.worker)) return;
      replies.set(received.worker, received.reply);
      if (complete()) finish();
    });
    const timers: NodeJS.Timeout[] = [];
    const after = (ms: number): Promise<'timeout'> => new Promise((resolve) => timers.push(setTimeout(resolve, ms, 'timeout')));
    try {
      const subscribed = await Promise.race([subscription.ready.then(() => 'ready' as const), after(timeout)]);
      if (subscribed === 'timeout') throw new ControlTimeoutError(command, timeout);
      const sentAt = Date.now();
      await this.options.redis.publish(this.channel, envelope);
      if (expected === undefined && options.expected !== undefined) {
        try {
          expected = await options.expected;
        } catch (error) {
          this.log.warn('expected workers', 'control: could not list the workers expected to reply; waiting for the whole timeout', error);
        }
      }
      if (!complete()) await Promise.race([finished, after(Math.max(0, timeout - (Date.now() - sentAt)))]);
    } finally {
      timers.forEach(clearTimeout);
      subscription.close();
    }
    return replies;
  }

  private dispatch(name: string, table: ReadonlyMap<string, CommandHandler>, message: string): void {
    const json = this.decode('control message', message, this.maxCommandLength);
    if (json === undefined) return;
    const parsed = v.safeParse(CommandEnvelope, json);
    if (!parsed.success) {
      this.log.warn('control message', `control: dropped a malformed control message: ${v.summarize(parsed.issues)}`);
      return;
    }
    const command = parsed.output;
    if (command.destination !== null && !command.destination.includes(name)) return;
    this.start(name, table, command);
  }

  private start(name: string, table: ReadonlyMap<string, CommandHandler>, command: ServedCommand): void {
    this.run(name, table, command).catch((error: unknown) => this.log.error('command', `control: command "${command.command}" failed unexpectedly`, error));
  }

  private async run(name: string, table: ReadonlyMap<string, CommandHandler>, command: ServedCommand): Promise<void> {
    const actions: (() => void)[] = [];
    const request: CommandRequest = { id: command.id, command: command.command, sentAt: command.sentAt, afterReply: (action) => actions.push(action) };
    let result: RawReply;
    const handler = table.get(command.command);
    if (handler === undefined) {
      const known = [...table.keys()].sort().join(', ');
      result = { ok: false, error: { name: 'UnknownCommandError', message: `unknown control command "${command.command}"; this worker serves: ${known}` } };
    } else {
      try {
        result = { ok: true, value: (await handler(command.args, request)) ?? null };
      } catch (error) {
        result = { ok: false, error: describeError(error) };
      }
    }
    if (command.reply) await this.reply(name, command.id, command.command, result);
    for (const action of actions) {
      try {
        action();
      } catch (error) {
        this.log.error('after reply', `control: the follow-up of command "${command.command}" threw`, error);
      }
    }
  }

  private async reply(worker: string, id: string, command: string, result: RawReply): Promise<void> {
    const envelope = { celeriac: 'reply', v: MAILBOX_VERSION, id, worker };
    let text: string;
    try {
      text = JSON.stringify({ ...envelope, ...result });
    } catch (error) {
      text = JSON.stringify({ ...envelope, ok: false, error: { name: 'ReplyEncodingError', message: `the reply to "${command}" is not JSON data: ${describeError(error).message}` } });
    }
    if (text.length > this.maxReplyLength) {
      text = JSON.stringify({ ...envelope, ok: false, error: { name: 'ReplyTooLargeError', message: `the reply to "${command}" is ${text.length} chars, over the ${this.maxReplyLength} limit` } });
    }
    try {
      await this.options.redis.publish(replyChannel(this.options.prefix, id), text);
    } catch (error) {
      this.log.warn('reply', `control: could not publish the reply to "${command}"`, error);
    }
  }

  private parseReply(message: string, id: string): { worker: string; reply: RawReply } | undefined {
    const json = this.decode('reply', message, this.maxReplyLength);
    if (json === undefined) return undefined;
    const parsed = v.safeParse(ReplyEnvelope, json);
    if (!parsed.success || parsed.output.id !== id) {
      this.log.warn('reply', `control: dropped a malformed reply: ${parsed.success ? 'it answers another request' : v.summarize(parsed.issues)}`);
      return undefined;
    }
    const { worker, ...rest } = parsed.output;
    return { worker, reply: rest.ok ? { ok: true, value: rest.value } : { ok: false, error: rest.error } };
  }

  /** Parses a message's JSON, dropping (and logging) one that is too long or not JSON. */
  private decode(kind: string, message: string, maxLength: number): unknown {
    if (message.length > maxLength) {
      this.log.warn(kind, `control: dropped a ${kind} of ${message.length} chars, over the ${maxLength} limit`);
      return undefined;
    }
    try {
      return JSON.parse(message) as unknown;
    } catch {
      this.log.warn(kind, `control: dropped a ${kind} that is not JSON`);
      return undefined;
    }
  }
}

/** Normalizes and checks a destination. */
function destinationOf(destination: string | readonly string[] | undefined): string[] | null {
  if (destination === undefined) return null;
  const names = typeof destination === 'string' ? [destination] : destination;
  if (!Array.isArray(names) || names.length === 0) {
    throw new ControlArgumentError('destination', 'expected a worker name or a non-empty list of worker names');
  }
  names.forEach((name: unknown, i) => {
    if (!v.is(WorkerName, name)) throw new ControlArgumentError(`destination[${i}]`, `expected a worker name of 1 to 255 chars, got ${JSON.stringify(name) ?? String(name)}`);
  });
  return [...new Set(names)];
}

/** Name and message of anything a handler threw. */
function describeError(error: unknown): { name: string; message: string } {
  try {
    if (error instanceof Error) return { name: String(error.name).slice(0, 200), message: String(error.message).slice(0, 100_000) };
    return { name: 'NonErrorThrown', message: String(error).slice(0, 100_000) };
  } catch {
    return { name: 'NonErrorThrown', message: 'the handler threw a value that cannot be turned into text' };
  }
}
