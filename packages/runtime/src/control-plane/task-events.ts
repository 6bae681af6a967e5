/**
 * Task events, Celery's `-E`: what happened to each task and worker, written by workers into one
 * capped Redis stream and read back by any process, as history pages (newest first) or a live
 * tail. Off by default; a worker without a {@link TaskEventWriter} does no work for them and
 * writes no key.
 *
 * Writing never waits for Redis: {@link TaskEventWriter.emit} builds the event, queues it and
 * returns; once per event-loop turn the queued events go out in one script call on a connection the
 * worker already has (one stream entry each), so a task's path gains no round trip and the worker
 * one command per turn, not per event. Failures are logged, rate-limited. Reading checks every
 * entry (size, JSON, schema): an entry someone wrote into the stream by hand is skipped, never
 * thrown.
 */
import { loadavg, platform, release } from 'node:os';
import { duplicateClient, type RedisClient } from '../connection.js';
import * as v from 'valibot';
import { ControlArgumentError } from '../errors.js';
import { taskEventsKey } from '../keys.js';
import { luaScripts } from '../lua-scripts.generated.js';
import { consoleLogger, RateLimitedLog, type Logger } from '../logger.js';
import { REPR_MAX_CHARS, truncatedRepr } from '../repr.js';
import { localVersions } from './versions.js';

// ---------------------------------------------------------------------------------------------
// The events
// ---------------------------------------------------------------------------------------------

/** Every event type, Celery's names. */
export const TASK_EVENT_TYPES = [
  'task-received',
  'task-started',
  'task-succeeded',
  'task-failed',
  'task-retried',
  'task-revoked',
  'worker-online',
  'worker-heartbeat',
  'worker-offline',
] as const;

/** One of {@link TASK_EVENT_TYPES}. */
export type TaskEventType = (typeof TASK_EVENT_TYPES)[number];

/** Fields of every event (Celery's `hostname`, `timestamp`, `pid`). */
export interface EventFields {
  /** The worker's name, e.g. `w1@host` (Celery's `hostname`). */
  readonly worker: string;
  /** Epoch ms, by the worker's clock. */
  readonly timestamp: number;
  /** The worker's process id. */
  readonly pid: number;
}

/** Fields of every task event. */
export interface TaskFields extends EventFields {
  /** The task's id (Celery's `uuid`). */
  readonly taskId: string;
  /** The task's registered name. */
  readonly name: string;
}

/** A worker took the task from its queue. */
export interface TaskReceivedEvent extends TaskFields {
  readonly type: 'task-received';
  /** JSON text of the positional arguments, cut to 1 024 chars (Celery's `argsrepr`). */
  readonly args: string;
  /** JSON text of the keyword arguments, cut to 1 024 chars (Celery's `kwargsrepr`). */
  readonly kwargs: string;
  /** Retries so far. */
  readonly retries: number;
  /** Id of the first task of the workflow. */
  readonly rootId: string | null;
  /** Id of the task whose completion sent this one. */
  readonly parentId: string | null;
  /** Id of the workflow the task belongs to (Celeriac's `app.apply` result). */
  readonly workflowId: string | null;
  /** Id of the enclosing group or chord header. */
  readonly groupId: string | null;
  /** The queue it came from. */
  readonly queue: string;
  /** Epoch ms it was due to start (countdown/eta), if it was scheduled. */
  readonly eta: number | null;
  /** Epoch ms after which it would have been revoked instead of run. */
  readonly expires: number | null;
}

/** The handler started. */
export interface TaskStartedEvent extends TaskFields {
  readonly type: 'task-started';
}

/** The handler returned. */
export interface TaskSucceededEvent extends TaskFields {
  readonly type: 'task-succeeded';
  /** JSON text of the result, cut to 1 024 chars (Celery's `resultrepr`). */
  readonly result: string;
  /** Milliseconds the handler ran. */
  readonly runtime: number;
}

/** The task failed for good. */
export interface TaskFailedEvent extends TaskFields {
  readonly type: 'task-failed';
  /** `Name: message` of the error, cut to 1 024 chars. */
  readonly exception: string;
  /** The error's stack, cut to 8 192 chars. */
  readonly traceback: string;
  /** Milliseconds the handler ran, when it ran. */
  readonly runtime: number | null;
}

/** The task failed and will run again. */
export interface TaskRetriedEvent extends TaskFields {
  readonly type: 'task-retried';
  readonly exception: string;
  readonly traceback: string;
  /** Retries so far, this one included. */
  readonly retries: number;
}

/** The task was revoked: skipped, terminated while running, or expired. */
export interface TaskRevokedEvent extends TaskFields {
  readonly type: 'task-revoked';
  /** It was running and its AbortSignal fired. */
  readonly terminated: boolean;
  /** Its `expires` time passed before it started. */
  readonly expired: boolean;
}

/** Fields of every worker event (Celery's `freq`, `sw_ident`, `sw_ver`, `sw_sys`). */
export interface WorkerFields extends EventFields {
  /** Milliseconds between heartbeats (Celery's `freq`, in seconds there). */
  readonly freq: number;
  /** Always `celeriac`. */
  readonly swIdent: string;
  /** `@celeriac/runtime`'s version. */
  readonly swVer: string;
  /** Operating system and release, e.g. `linux 6.1.0`. */
  readonly swSys: string;
}

/** A worker started and announced itself. */
export interface WorkerOnlineEvent extends WorkerFields {
  readonly type: 'worker-online';
}

/** A worker is alive, with its counters. */
export interface WorkerHeartbeatEvent extends WorkerFields {
  readonly type: 'worker-heartbeat';
  /** Tasks running now. */
  readonly active: number;
  /** Tasks finished since the worker started. */
  readonly processed: number;
  /** Tasks failed since the worker started. */
  readonly failed: number;
  /** 1, 5 and 15 minute load averages of the machine. */
  readonly loadavg: readonly number[];
}

/** A worker stopped gracefully. (A killed worker sends nothing; its heartbeats stop.) */
export interface WorkerOfflineEvent extends WorkerFields {
  readonly type: 'worker-offline';
}

/** Any event. */
export type TaskEvent =
  | TaskReceivedEvent
  | TaskStartedEvent
  | TaskSucceededEvent
  | TaskFailedEvent
  | TaskRetriedEvent
  | TaskRevokedEvent
  | WorkerOnlineEvent
  | WorkerHeartbeatEvent
  | WorkerOfflineEvent;

/** An event read back, with its stream entry id: the cursor for paging and resuming. */
export type StoredTaskEvent = TaskEvent & {
  /** The Redis stream entry id (`<ms>-<seq>`); pass it as `before` or `after` (SSE's `Last-Event-ID`). */
  readonly id: string;
};

// ---------------------------------------------------------------------------------------------
// Schemas: every entry read back is checked against these.
// ---------------------------------------------------------------------------------------------

const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const Id = Text(1_000);
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Time = v.pipe(v.number(), v.finite());

const eventFields = { worker: Text(255), timestamp: Time, pid: Count };
const taskFields = { ...eventFields, taskId: Id, name: Text(1_000) };
const workerFields = { ...eventFields, freq: v.pipe(v.number(), v.finite(), v.minValue(0)), swIdent: Text(100), swVer: Text(100), swSys: Text(200) };
const REPR = Text(REPR_MAX_CHARS);
const TRACEBACK_MAX_CHARS = 8_192;

const TaskEventSchema = v.variant('type', [
  v.object({
    type: v.literal('task-received'),
    ...taskFields,
    args: REPR,
    kwargs: REPR,
    retries: Count,
    rootId: v.nullable(Id),
    parentId: v.nullable(Id),
    workflowId: v.nullable(Id),
    groupId: v.nullable(Id),
    queue: Text(1_000),
    eta: v.nullable(Time),
    expires: v.nullable(Time),
  }),
  v.object({ type: v.literal('task-started'), ...taskFields }),
  v.object({ type: v.literal('task-succeeded'), ...taskFields, result: REPR, runtime: Time }),
  v.object({ type: v.literal('task-failed'), ...taskFields, exception: REPR, traceback: Text(TRACEBACK_MAX_CHARS), runtime: v.nullable(Time) }),
  v.object({ type: v.literal('task-retried'), ...taskFields, exception: REPR, traceback: Text(TRACEBACK_MAX_CHARS), retries: Count }),
  v.object({ type: v.literal('task-revoked'), ...taskFields, terminated: v.boolean(), expired: v.boolean() }),
  v.object({ type: v.literal('worker-online'), ...workerFields }),
  v.object({
    type: v.literal('worker-heartbeat'),
    ...workerFields,
    active: Count,
    processed: Count,
    failed: Count,
    loadavg: v.pipe(v.array(v.pipe(v.number(), v.finite())), v.maxLength(3)),
  }),
  v.object({ type: v.literal('worker-offline'), ...workerFields }),
]) satisfies v.GenericSchema<unknown, TaskEvent>;

/** Celery's `sw_ident`, ours. */
const SW_IDENT = 'celeriac';

/** The stream entry's single field; its value is the event's JSON. */
const FIELD = 'e';

/** Longest entry a reader parses; what a writer produces stays far below. */
const MAX_ENTRY_LENGTH = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/** What a worker reports; the writer adds worker, pid and timestamp, and cuts long values. */
export type TaskEventInput =
  | {
      readonly type: 'task-received';
      readonly taskId: string;
      readonly name: string;
      /** The arguments themselves; the writer cuts their text. */
      readonly args: unknown;
      readonly kwargs: unknown;
      readonly retries: number;
      readonly rootId: string | null;
      readonly parentId: string | null;
      readonly workflowId: string | null;
      readonly groupId: string | null;
      readonly queue: string;
      readonly eta?: number | null;
      readonly expires?: number | null;
    }
  | { readonly type: 'task-started'; readonly taskId: string; readonly name: string }
  | { readonly type: 'task-succeeded'; readonly taskId: string; readonly name: string; readonly result: unknown; readonly runtime: number }
  | { readonly type: 'task-failed'; readonly taskId: string; readonly name: string; readonly error: unknown; readonly runtime?: number | null }
  | { readonly type: 'task-retried'; readonly taskId: string; readonly name: string; readonly error: unknown; readonly retries: number }
  | { readonly type: 'task-revoked'; readonly taskId: string; readonly name: string; readonly terminated: boolean; readonly expired: boolean }
  | { readonly type: 'worker-online' | 'worker-offline'; readonly freq: number }
  | {
      readonly type: 'worker-heartbeat';
      readonly freq: number;
      readonly active: number;
      readonly processed: number;
      readonly failed: number;
    };

/** Default stream length; see the README's design notes for the memory it takes. */
export const DEFAULT_MAX_EVENTS = 100_000;

/** Events a writer holds (queued or sent and not yet answered) before it drops new ones. */
export const DEFAULT_MAX_PENDING = 10_000;

/** Events sent in one script call at most; a turn that emits more sends several. */
const MAX_BATCH = 500;

/** Options of {@link TaskEventWriter}. */
export interface TaskEventWriterOptions {
  /** A connection the worker already uses; events are sent on it without waiting. Stays the caller's. */
  readonly redis: RedisClient;
  readonly prefix: string;
  /** The worker's name, written into every event. */
  readonly worker: string;
  readonly logger?: Logger;
  /** Approximate number of events the stream keeps (XADD MAXLEN ~). Default {@link DEFAULT_MAX_EVENTS}. */
  readonly maxLength?: number;
  /**
   * Events queued or sent but not yet written beyond which new ones are dropped (and counted in a
   * log line), so a stalled Redis cannot grow the worker's memory. Default {@link DEFAULT_MAX_PENDING}.
   */
  readonly maxPending?: number;
}

interface EventCommands {
  celeriacTaskEvents(key: string, maxLength: string, ...events: string[]): Promise<number>;
}

const defined = new WeakSet<RedisClient>();

function withEventScript(redis: RedisClient): RedisClient & EventCommands {
  if (!defined.has(redis)) {
    redis.defineCommand('celeriacTaskEvents', luaScripts.taskEvents);
    defined.add(redis);
  }
  return redis as RedisClient & EventCommands;
}

/**
 * Writes a worker's events. Create one only when events are on: `writer?.emit({...})` then costs
 * nothing when they are off, not even building the event (optional chaining skips the argument).
 *
 * @example
 * ```ts
 * const events = taskEvents ? new TaskEventWriter({ redis, prefix, worker: 'w1@host' }) : undefined;
 * events?.emit({ type: 'task-started', taskId: job.id, name: 'add' });
 * ```
 */
export class TaskEventWriter {
  /** The stream's key. */
  readonly key: string;
  private readonly redis: RedisClient & EventCommands;
  private readonly log: RateLimitedLog;
  private readonly maxLength: string;
  private readonly maxPending: number;
  private readonly swSys = `${platform()} ${release()}`;
  private readonly swVer = localVersions().celeriac;
  private readonly pid = process.pid;
  /** Built events waiting for the end of the turn. */
  private queue: string[] = [];
  private scheduled = false;
  /** Events sent and not yet answered. */
  private inFlight = 0;
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly options: TaskEventWriterOptions) {
    const maxLength = options.maxLength ?? DEFAULT_MAX_EVENTS;
    if (!Number.isInteger(maxLength) || maxLength < 1) {
      throw new ControlArgumentError('maxLength', `expected a whole number of events >= 1, got ${String(maxLength)}`);
    }
    this.key = taskEventsKey(options.prefix);
    this.redis = withEventScript(options.redis);
    this.maxLength = String(maxLength);
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.log = new RateLimitedLog(options.logger ?? consoleLogger('warn'));
  }

  /**
   * Records one event and returns at once; it is written at the end of the event-loop turn.
   * Never throws. The event is built now (the args a handler may later change are cut now).
   */
  emit(input: TaskEventInput): void {
    const pending = this.inFlight + this.queue.length;
    if (pending >= this.maxPending) {
      this.log.warn('backlog', `task events: ${pending} events are waiting for Redis; dropping new ones until it catches up`);
      return;
    }
    let json: string;
    try {
      json = JSON.stringify(this.event(input));
    } catch (error) {
      this.log.error('encode', `task events: could not encode a ${input.type} event`, error);
      return;
    }
    this.queue.push(json);
    if (this.queue.length >= MAX_BATCH) this.send();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.send();
      });
    }
  }

  /** Sends what is queued now, and resolves once every event emitted so far was written (or failed). */
  flush(): Promise<void> {
    this.send();
    // One connection answers in order: the last write settling means all did.
    return this.last;
  }

  private send(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.inFlight += batch.length;
    this.last = this.redis.celeriacTaskEvents(this.key, this.maxLength, ...batch).then(
      () => {
        this.inFlight -= batch.length;
      },
      (error: unknown) => {
        this.inFlight -= batch.length;
        this.log.warn('write', `task events: could not write ${batch.length} event(s) to Redis`, error);
      },
    );
  }

  /**
   * Builds the stored event from what the worker reported. Written out field by field: an object
   * spread here measured 50 µs per event in V8, a literal 1 µs.
   */
  private event(input: TaskEventInput): TaskEvent {
    const worker = this.options.worker;
    const timestamp = Date.now();
    const pid = this.pid;
    switch (input.type) {
      case 'task-received':
        return {
          type: input.type,
          worker,
          timestamp,
          pid,
          taskId: input.taskId,
          name: input.name,
          args: truncatedRepr(input.args),
          kwargs: truncatedRepr(input.kwargs),
          retries: input.retries,
          rootId: input.rootId,
          parentId: input.parentId,
          workflowId: input.workflowId,
          groupId: input.groupId,
          queue: input.queue,
          eta: input.eta ?? null,
          expires: input.expires ?? null,
        };
      case 'task-started':
        return { type: input.type, worker, timestamp, pid, taskId: input.taskId, name: input.name };
      case 'task-succeeded':
        return { type: input.type, worker, timestamp, pid, taskId: input.taskId, name: input.name, result: truncatedRepr(input.result), runtime: input.runtime };
      case 'task-failed': {
        const { exception, traceback } = failure(input.error);
        return { type: input.type, worker, timestamp, pid, taskId: input.taskId, name: input.name, exception, traceback, runtime: input.runtime ?? null };
      }
      case 'task-retried': {
        const { exception, traceback } = failure(input.error);
        return { type: input.type, worker, timestamp, pid, taskId: input.taskId, name: input.name, exception, traceback, retries: input.retries };
      }
      case 'task-revoked':
        return { type: input.type, worker, timestamp, pid, taskId: input.taskId, name: input.name, terminated: input.terminated, expired: input.expired };
      case 'worker-online':
      case 'worker-offline':
        return { type: input.type, worker, timestamp, pid, freq: input.freq, swIdent: SW_IDENT, swVer: this.swVer, swSys: this.swSys };
      case 'worker-heartbeat':
        return {
          type: input.type,
          worker,
          timestamp,
          pid,
          freq: input.freq,
          swIdent: SW_IDENT,
          swVer: this.swVer,
          swSys: this.swSys,
          active: input.active,
          processed: input.processed,
          failed: input.failed,
          loadavg: loadavg().map((load) => Math.round(load * 100) / 100),
        };
    }
  }
}

/**
 * `exception` and `traceback` of an error, cut to their limits. A worker reports the failure it
 * recorded (a plain `{ name, message, stack }`, as stored for the result), which counts as an error.
 */
function failure(error: unknown): { exception: string; traceback: string } {
  let exception: string;
  let traceback = '';
  try {
    if (error instanceof Error || isErrorLike(error)) {
      exception = `${String(error.name)}: ${String(error.message)}`;
      traceback = typeof error.stack === 'string' ? error.stack : '';
    } else {
      exception = `NonErrorThrown: ${truncatedRepr(error, REPR_MAX_CHARS)}`;
    }
  } catch {
    exception = 'NonErrorThrown: (a value that cannot be turned into text)';
  }
  return { exception: cut(exception, REPR_MAX_CHARS), traceback: cut(traceback, TRACEBACK_MAX_CHARS) };
}

function isErrorLike(value: unknown): value is { name: string; message: string; stack?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' && typeof (value as { message?: unknown }).message === 'string';
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** Options of {@link TaskEventReader.history}. */
export interface HistoryOptions {
  /** Events per page, 1 to 1 000. Default 100. */
  readonly limit?: number;
  /** Only events older than this stream id (the `next` of the previous page). Default: from the newest. */
  readonly before?: string;
  /** Only events of these types. */
  readonly types?: readonly TaskEventType[];
  /** Only events of this task. */
  readonly taskId?: string;
  /** Only events of this worker. */
  readonly worker?: string;
  /**
   * Stream entries examined at most per call when filtering, so a filter that matches little
   * cannot read the whole stream at once; the page then holds fewer events and `next` continues
   * the scan. Default 10 000.
   */
  readonly maxScan?: number;
}

/** One page of history, newest first. */
export interface EventPage {
  readonly events: readonly StoredTaskEvent[];
  /** Pass as `before` for the next (older) page; null when nothing older is left. */
  readonly next: string | null;
}

/** Options of {@link TaskEventReader.tail}. */
export interface TailOptions {
  /**
   * Resume after this stream id (the last one seen; SSE's `Last-Event-ID`). Default: only events
   * written from now on. `'0'` replays everything the stream still holds.
   */
  readonly after?: string;
  /** Ends the iteration (and closes its connection) when aborted. */
  readonly signal?: AbortSignal;
}

/** Options of {@link TaskEventReader}. */
export interface TaskEventReaderOptions {
  /** A connection for history reads; tails copy its settings for their own. Stays the caller's. */
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger?: Logger;
}

const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;
/** Milliseconds one XREAD blocks; a tail then checks its signal and reads again. */
const TAIL_BLOCK_MS = 5_000;
const TAIL_COUNT = 100;

/**
 * Reads the task-event stream: history pages and a live tail.
 *
 * @example
 * ```ts
 * const reader = new TaskEventReader({ redis, prefix: 'celeriac' });
 * const { events, next } = await reader.history({ limit: 50, types: ['task-failed'] });
 * for await (const event of reader.tail({ signal })) console.log(event.type, event.id);
 * ```
 */
export class TaskEventReader {
  /** The stream's key. */
  readonly key: string;
  private readonly log: RateLimitedLog;

  constructor(private readonly options: TaskEventReaderOptions) {
    this.key = taskEventsKey(options.prefix);
    this.log = new RateLimitedLog(options.logger ?? consoleLogger('warn'));
  }

  /**
   * One page of past events, newest first, filtered.
   *
   * @param options - page size, cursor and filters
   * @returns the events and the cursor of the next page
   * @throws ControlArgumentError for a bad limit, cursor or type
   */
  async history(options: HistoryOptions = {}): Promise<EventPage> {
    const { limit = 100, before, types, taskId, worker, maxScan = 10_000 } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1_000) throw new ControlArgumentError('limit', `expected a whole number from 1 to 1000, got ${String(limit)}`);
    if (!Number.isInteger(maxScan) || maxScan < limit) throw new ControlArgumentError('maxScan', `expected a whole number >= limit (${limit}), got ${String(maxScan)}`);
    if (before !== undefined) checkStreamId('before', before);
    const wanted = types === undefined ? undefined : new Set(types);
    types?.forEach((type, i) => {
      if (!(TASK_EVENT_TYPES as readonly string[]).includes(type)) throw new ControlArgumentError(`types[${i}]`, `expected one of ${TASK_EVENT_TYPES.join(', ')}, got ${String(type)}`);
    });
    const filtered = wanted !== undefined || taskId !== undefined || worker !== undefined;
    const matches = (event: TaskEvent): boolean =>
      (wanted === undefined || wanted.has(event.type)) &&
      (taskId === undefined || ('taskId' in event && event.taskId === taskId)) &&
      (worker === undefined || event.worker === worker);

    const events: StoredTaskEvent[] = [];
    let end = before === undefined ? '+' : `(${before}`;
    let scanned = 0;
    let last: string | null = null;
    while (scanned < maxScan) {
      const count = Math.min(filtered ? Math.max(limit, 500) : limit - events.length, maxScan - scanned);
      const entries = (await this.options.redis.xrevrange(this.key, end, '-', 'COUNT', count)) as [string, string[]][];
      for (const [id, fields] of entries) {
        scanned++;
        last = id;
        const event = this.parse(id, fields);
        if (event === undefined || !matches(event)) continue;
        events.push(event);
        if (events.length === limit) return { events, next: id };
      }
      if (entries.length < count) return { events, next: null };
      end = `(${last!}`;
    }
    return { events, next: last };
  }

  /**
   * Live events, oldest first, as they are written: an async iterator over XREAD BLOCK on a
   * connection of its own, closed when the loop ends (`break`), the signal aborts, or an error
   * ends it.
   *
   * @param options - where to resume, and a signal to stop
   * @returns the events
   * @throws ControlArgumentError for a bad `after`
   */
  tail(options: TailOptions = {}): AsyncGenerator<StoredTaskEvent, void, undefined> {
    if (options.after !== undefined && options.after !== '$') checkStreamId('after', options.after);
    return this.follow(options.after, options.signal);
  }

  private async *follow(after: string | undefined, signal: AbortSignal | undefined): AsyncGenerator<StoredTaskEvent, void, undefined> {
    // A function, so TypeScript does not narrow `aborted` across the awaits that change it.
    const aborted = (): boolean => signal?.aborted === true;
    if (aborted()) return;
    const connection = duplicateClient(this.options.redis, { maxRetriesPerRequest: null, lazyConnect: false });
    connection.on('error', (error: Error) => this.log.warn('tail connection', `task events: tail connection error (it reconnects on its own): ${error.message}`));
    const stop = (): void => connection.disconnect();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      // '$' would skip whatever is written between two reads; start from the newest id instead.
      let cursor = after ?? '$';
      if (cursor === '$') {
        const newest = (await connection.xrevrange(this.key, '+', '-', 'COUNT', 1)) as [string, string[]][];
        cursor = newest[0]?.[0] ?? '0';
      }
      while (!aborted()) {
        let reply: [string, [string, string[]][]][] | null;
        try {
          reply = (await connection.xread('COUNT', TAIL_COUNT, 'BLOCK', TAIL_BLOCK_MS, 'STREAMS', this.key, cursor)) as typeof reply;
        } catch (error) {
          if (aborted()) return;
          throw error;
        }
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          cursor = id;
          const event = this.parse(id, fields);
          if (event !== undefined) yield event;
          if (aborted()) return;
        }
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      connection.disconnect();
    }
  }

  /** Checks one stream entry; a malformed one is logged (rate-limited) and skipped. */
  private parse(id: string, fields: unknown): StoredTaskEvent | undefined {
    const text = Array.isArray(fields) && fields.length === 2 && fields[0] === FIELD ? fields[1] : undefined;
    if (typeof text !== 'string') return this.skip(id, 'it is not a single "e" field');
    if (text.length > MAX_ENTRY_LENGTH) return this.skip(id, `it is ${text.length} chars, over the ${MAX_ENTRY_LENGTH} limit`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.skip(id, 'it is not JSON');
    }
    const parsed = v.safeParse(TaskEventSchema, json);
    if (!parsed.success) return this.skip(id, v.summarize(parsed.issues));
    return { ...parsed.output, id };
  }

  private skip(id: string, reason: string): undefined {
    this.log.warn('entry', `task events: skipped malformed entry ${id} of ${this.key}: ${reason}`);
    return undefined;
  }
}

function checkStreamId(argument: string, id: string): void {
  if (typeof id !== 'string' || !STREAM_ID.test(id)) {
    throw new ControlArgumentError(argument, `expected a stream id such as "1700000000000-0", got ${JSON.stringify(id) ?? String(id)}`);
  }
}
