/**
 * The control commands: for each, its name on the wire (Celery's), the arguments it takes and the
 * reply it gives, as valibot schemas. Workers check the arguments of every command they receive;
 * callers check the reply of every worker. The reply types are Celery's shapes (what `celery
 * inspect … --json` prints per worker), with camelCased fields.
 */
import * as v from 'valibot';

/** The reply of a command that does something: Celery's `{"ok": "…"}`. */
export interface OkReply {
  readonly ok: string;
}

/** A task a worker holds: running (`active`), fetched and waiting to run (`reserved`), or delayed (`scheduled`). */
export interface TaskRequestInfo {
  /** The task's id. */
  readonly id: string;
  /** The task's registered name. */
  readonly name: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** The queue it came from. */
  readonly queue: string;
  /** Retries so far. */
  readonly retries: number;
  /** Epoch ms the handler started; null while it has not. */
  readonly started: number | null;
  /** Pid of the process running it (a pool child's, with the processes pool); null while not running. */
  readonly workerPid: number | null;
}

/** A task waiting for its countdown or eta (Celery's `scheduled` entry). */
export interface ScheduledTaskInfo {
  /** Epoch ms it is due. */
  readonly eta: number;
  readonly priority: number | null;
  readonly request: TaskRequestInfo;
}

/** A queue a worker consumes (Celery's `active_queues` entry). */
export interface QueueInfo {
  readonly name: string;
}

/** A worker's pool (Celery's `stats().pool`). */
export interface PoolStats {
  /** `async` or `processes`. */
  readonly kind: string;
  /** Tasks it runs at once (Celery's `max-concurrency`). */
  readonly maxConcurrency: number;
  /** Pids of its child processes (empty for the async pool). */
  readonly processes: readonly number[];
}

/** Resource usage of the worker's process (Celery's `rusage`, from `process.resourceUsage()`). */
export interface ResourceUsage {
  /** User CPU time, seconds. */
  readonly utime: number;
  /** System CPU time, seconds. */
  readonly stime: number;
  /** Peak resident set size, KiB. */
  readonly maxrss: number;
  /** Minor and major page faults. */
  readonly minflt: number;
  readonly majflt: number;
  /** File system reads and writes (blocks). */
  readonly inblock: number;
  readonly oublock: number;
  /** Voluntary and involuntary context switches. */
  readonly nvcsw: number;
  readonly nivcsw: number;
}

/** `inspect stats`: one worker's numbers. */
export interface WorkerStats {
  readonly pid: number;
  /** Seconds since the worker started. */
  readonly uptime: number;
  /** Tasks finished, by task name (Celery's `total`). */
  readonly total: Readonly<Record<string, number>>;
  /** Tasks failed, by task name. */
  readonly failed: Readonly<Record<string, number>>;
  readonly pool: PoolStats;
  readonly rusage: ResourceUsage;
}

/** Where a worker holds a task, and the task (Celery's `query_task` value). */
export type QueriedTask = readonly [state: 'active' | 'reserved' | 'scheduled', request: TaskRequestInfo];

/** `inspect query_task`: the tasks a worker holds among those asked about, by id. */
export type QueryTaskReply = Readonly<Record<string, QueriedTask>>;

/** The reply of each command. */
export interface CommandReplies {
  ping: OkReply;
  registered: readonly string[];
  active: readonly TaskRequestInfo[];
  reserved: readonly TaskRequestInfo[];
  scheduled: readonly ScheduledTaskInfo[];
  revoked: readonly string[];
  stats: WorkerStats;
  active_queues: readonly QueueInfo[];
  query_task: QueryTaskReply;
  shutdown: OkReply;
  rate_limit: OkReply;
  time_limit: OkReply;
  add_consumer: OkReply;
  cancel_consumer: OkReply;
  revoke: OkReply;
  pool_grow: OkReply;
  pool_shrink: OkReply;
}

/** A command's wire name (Celery's). */
export type CommandName = keyof CommandReplies;

/** A rate limit: `"10/s"`, `"100/m"`, `"1000/h"`, a number per second, or null (or 0) for none. */
export type RateLimit = string | number | null;

/** Soft and hard time limits in seconds; null removes one. */
export interface TimeLimits {
  readonly soft: number | null;
  readonly hard: number | null;
}

/** The arguments of each command. */
export interface CommandArgs {
  ping: Record<string, never>;
  registered: Record<string, never>;
  active: Record<string, never>;
  reserved: Record<string, never>;
  scheduled: Record<string, never>;
  revoked: Record<string, never>;
  stats: Record<string, never>;
  active_queues: Record<string, never>;
  query_task: { readonly ids: readonly string[] };
  shutdown: Record<string, never>;
  rate_limit: { readonly task: string; readonly rate: RateLimit };
  time_limit: { readonly task: string } & TimeLimits;
  add_consumer: { readonly queue: string };
  cancel_consumer: { readonly queue: string };
  revoke: { readonly ids: readonly string[]; readonly terminate: boolean };
  pool_grow: { readonly n: number };
  pool_shrink: { readonly n: number };
}

// ---------------------------------------------------------------------------------------------

const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const Name = (what: string) => v.pipe(v.string(), v.minLength(1, `expected a non-empty ${what}`), v.maxLength(1_000, `expected a ${what} of at most 1000 chars`));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
const Time = v.pipe(v.number(), v.finite());
/** A JSON object; unlike `v.record` it keeps data keys named `constructor` (JSON.parse cannot pollute prototypes). */
const PlainObject = v.custom<Readonly<Record<string, unknown>>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'expected an object',
);

const NoArgs = v.strictObject({});
const Ids = v.pipe(v.array(Name('task id')), v.minLength(1, 'expected at least one task id'), v.maxLength(100_000, 'expected at most 100000 task ids'));
const Seconds = v.nullable(v.pipe(v.number('expected seconds or null'), v.finite('expected finite seconds'), v.gtValue(0, 'expected seconds > 0, or null for no limit')));
const PoolDelta = v.pipe(v.number(), v.integer('expected a whole number'), v.minValue(1, 'expected at least 1'), v.maxValue(10_000, 'expected at most 10000'));
const RateSchema = v.nullable(
  v.union(
    [
      v.pipe(v.string(), v.regex(/^\s*\d+(\.\d+)?\s*(\/\s*[smh])?\s*$/)),
      v.pipe(v.number(), v.finite(), v.minValue(0)),
    ],
    'expected "<n>/s", "<n>/m", "<n>/h", a number per second, or null for no limit',
  ),
);

const OkSchema = v.object({ ok: Text(100_000) });
const TaskRequestSchema = v.object({
  id: Text(1_000),
  name: Text(1_000),
  args: v.array(v.unknown()),
  kwargs: PlainObject,
  queue: Text(1_000),
  retries: Count,
  started: v.nullable(Time),
  workerPid: v.nullable(Count),
});
const ScheduledSchema = v.object({ eta: Time, priority: v.nullable(v.number()), request: TaskRequestSchema });
const Counts = v.custom<Readonly<Record<string, number>>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((n) => Number.isInteger(n) && (n as number) >= 0),
  'expected counts by task name',
);
const StatsSchema = v.object({
  pid: Count,
  uptime: Time,
  total: Counts,
  failed: Counts,
  pool: v.object({ kind: Text(32), maxConcurrency: Count, processes: v.array(Count) }),
  rusage: v.object({
    utime: Time,
    stime: Time,
    maxrss: Time,
    minflt: Time,
    majflt: Time,
    inblock: Time,
    oublock: Time,
    nvcsw: Time,
    nivcsw: Time,
  }),
});
const QueriedSchema = v.tuple([v.picklist(['active', 'reserved', 'scheduled']), TaskRequestSchema]);
const QueryTaskSchema = v.custom<QueryTaskReply>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((entry) => v.is(QueriedSchema, entry)),
  'expected [state, task] pairs by task id',
);

type Spec<TName extends CommandName> = {
  readonly args: v.GenericSchema<unknown, CommandArgs[TName]>;
  readonly reply: v.GenericSchema<unknown, CommandReplies[TName]>;
};

/** Each command's argument and reply schemas, by wire name. */
export const commandSpecs: { readonly [TName in CommandName]: Spec<TName> } = {
  ping: { args: NoArgs, reply: OkSchema },
  registered: { args: NoArgs, reply: v.array(Text(1_000)) },
  active: { args: NoArgs, reply: v.array(TaskRequestSchema) },
  reserved: { args: NoArgs, reply: v.array(TaskRequestSchema) },
  scheduled: { args: NoArgs, reply: v.array(ScheduledSchema) },
  revoked: { args: NoArgs, reply: v.array(Text(1_000)) },
  stats: { args: NoArgs, reply: StatsSchema },
  active_queues: { args: NoArgs, reply: v.array(v.object({ name: Text(1_000) })) },
  query_task: { args: v.strictObject({ ids: Ids }), reply: QueryTaskSchema },
  shutdown: { args: NoArgs, reply: OkSchema },
  rate_limit: { args: v.strictObject({ task: Name('task name'), rate: RateSchema }), reply: OkSchema },
  time_limit: {
    args: v.pipe(
      v.strictObject({ task: Name('task name'), soft: Seconds, hard: Seconds }),
      v.check(({ soft, hard }) => soft === null || hard === null || soft <= hard, 'expected the soft limit to be at most the hard limit'),
    ),
    reply: OkSchema,
  },
  add_consumer: { args: v.strictObject({ queue: Name('queue name') }), reply: OkSchema },
  cancel_consumer: { args: v.strictObject({ queue: Name('queue name') }), reply: OkSchema },
  revoke: { args: v.strictObject({ ids: Ids, terminate: v.boolean() }), reply: OkSchema },
  pool_grow: { args: v.strictObject({ n: PoolDelta }), reply: OkSchema },
  pool_shrink: { args: v.strictObject({ n: PoolDelta }), reply: OkSchema },
};

/** Every command name, in Celery's order (inspect, then control). */
export const COMMAND_NAMES = Object.keys(commandSpecs) as CommandName[];
