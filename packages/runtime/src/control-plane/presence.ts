/**
 * Worker presence: each worker's record (who it is, what it runs) and a heartbeat that keeps it
 * online. Times come from Redis's clock (the Lua scripts call TIME), so skewed machine clocks
 * cannot make a live worker look dead. Listing reads one sorted set and two hashes: O(workers),
 * never a SCAN, and all three keys share one hash tag, so every script touches one Cluster slot.
 *
 * Online means heard of within {@link ONLINE_WINDOW_BEATS} heartbeat intervals (the worker's own
 * interval, recorded with it). Celery allows 2; a Node worker runs handlers on its event loop, so
 * a CPU-bound handler delays the heartbeat timer, and a window of 3 lets two beats be missed (a
 * 4 s block at the default 2 s) before a live worker shows offline, while a killed one shows
 * offline within 6 s. Offline workers stay listed for the retention (1 h by default), so a
 * monitor can show them as offline, then are forgotten.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from '../connection.js';
import * as v from 'valibot';
import { ControlArgumentError } from '../errors.js';
import { presenceKeys, type PresenceKeys } from '../keys.js';
import { luaScripts } from '../lua-scripts.generated.js';
import { consoleLogger, RateLimitedLog, type Logger } from '../logger.js';
import type { TaskEventWriter } from './task-events.js';
import { localVersions, redisVersion, type SoftwareVersions } from './versions.js';

/** Celery's heartbeat interval: 2 s. */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 2_000;

/** A worker is online while its last heartbeat is at most this many of its intervals old. */
export const ONLINE_WINDOW_BEATS = 3;

/** How long an offline worker stays listed: 1 h. */
export const DEFAULT_RETENTION_MS = 3_600_000;

/** Longest record or counters text a reader parses (a worker with 20 000 task names stays under it). */
const MAX_RECORD_LENGTH = 1 << 20;

/** How long `leave()` waits for Redis before giving up (the record then expires as offline). */
const LEAVE_TIMEOUT_MS = 2_000;

/** What a worker tells presence about itself. */
export interface WorkerDescription {
  /** The worker's name, e.g. `w1@host`. */
  readonly name: string;
  /** The app's name (Celery's `-A proj`). */
  readonly app: string;
  /** Queues it consumes. */
  readonly queues: readonly string[];
  /** Tasks it runs at once. */
  readonly concurrency: number;
  /** Its pool: `async` (handlers on the event loop) or `processes`. */
  readonly pool: string;
  /** Task names it has registered. */
  readonly tasks: readonly string[];
  /** The machine's host name. Default: this machine's. */
  readonly hostname?: string;
  /** Default: this process's. */
  readonly pid?: number;
  /** Epoch ms it started. Default: when it joined. */
  readonly startedAt?: number;
}

/** A worker's record as stored. */
export interface WorkerRecord {
  readonly name: string;
  readonly app: string;
  readonly hostname: string;
  readonly pid: number;
  readonly queues: readonly string[];
  readonly concurrency: number;
  readonly pool: string;
  readonly tasks: readonly string[];
  readonly versions: SoftwareVersions;
  /** Epoch ms it started. */
  readonly startedAt: number;
  /** Milliseconds between its heartbeats. */
  readonly heartbeatInterval: number;
  /** Random id of the process, telling apart two processes that use the same name. */
  readonly instance: string;
}

/** A worker's live counters, sent with every heartbeat. */
export interface LiveCounters {
  /** Tasks running now. */
  readonly active: number;
  /** Tasks finished since it started. */
  readonly processed: number;
  /** Tasks failed since it started. */
  readonly failed: number;
}

/** A worker as listed: its record, its counters at the last heartbeat, and whether it is online. */
export interface WorkerStatus extends WorkerRecord, LiveCounters {
  /** Heard of within {@link ONLINE_WINDOW_BEATS} of its heartbeat intervals. */
  readonly online: boolean;
  /** Epoch ms of its last heartbeat, by Redis's clock. */
  readonly lastHeartbeat: number;
  /** Milliseconds since its last heartbeat, by Redis's clock (no clock skew between machines). */
  readonly heartbeatAge: number;
}

/** Options of {@link Presence}. */
export interface PresenceOptions {
  /** A connection for commands; stays the caller's. */
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly logger?: Logger;
  /** Milliseconds an offline worker stays listed. Default {@link DEFAULT_RETENTION_MS}. */
  readonly retention?: number;
}

/** Options of {@link Presence.join}. */
export interface JoinOptions {
  /** Milliseconds between heartbeats. Default {@link DEFAULT_HEARTBEAT_INTERVAL_MS}. */
  readonly interval?: number;
  /** Reads the worker's counters for each heartbeat. Default: all zero. */
  readonly live?: () => LiveCounters;
  /** Where `worker-online`, `worker-heartbeat` and `worker-offline` go, when task events are on. */
  readonly events?: TaskEventWriter | undefined;
}

/** A worker's membership; see {@link Presence.join}. */
export interface WorkerPresence {
  /** Resolves once the worker's record is in Redis (waits for Redis to be reachable). */
  readonly ready: Promise<void>;
  /** The record as last announced. */
  readonly record: WorkerRecord;
  /** Changes the record (after `addConsumer`, a pool resize, …); the next heartbeat, sent now, carries it. */
  update(changes: Partial<Pick<WorkerRecord, 'queues' | 'concurrency' | 'tasks'>>): void;
  /** Stops the heartbeat and removes the record at once (graceful stop). */
  leave(): Promise<void>;
}

const Text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const Count = v.pipe(v.number(), v.integer(), v.minValue(0));

const RecordSchema = v.object({
  name: Text(255),
  app: Text(255),
  hostname: Text(255),
  pid: Count,
  queues: v.pipe(v.array(Text(1_000)), v.maxLength(10_000)),
  concurrency: Count,
  pool: Text(32),
  tasks: v.pipe(v.array(Text(1_000)), v.maxLength(100_000)),
  versions: v.object({ celeriac: Text(100), bullmq: Text(100), node: Text(100), redis: Text(100) }),
  startedAt: v.pipe(v.number(), v.finite()),
  heartbeatInterval: v.pipe(v.number(), v.finite(), v.minValue(1)),
  instance: Text(100),
}) satisfies v.GenericSchema<unknown, WorkerRecord>;

const CountersSchema = v.object({ active: Count, processed: Count, failed: Count }) satisfies v.GenericSchema<unknown, LiveCounters>;

/** The scripts (embedded at build time, lua-scripts.generated.ts), defined once per connection. */
const scriptNames = { beat: 'celeriacPresenceBeat', list: 'celeriacPresenceList' } as const;
const defined = new WeakSet<RedisClient>();

interface PresenceCommands {
  celeriacPresenceBeat(...keysAndArgs: (string | number)[]): Promise<[number, number, string]>;
  celeriacPresenceList(...keysAndArgs: (string | number)[]): Promise<(string | number | null)[]>;
}

function withPresenceScripts(redis: RedisClient): RedisClient & PresenceCommands {
  if (!defined.has(redis)) {
    redis.defineCommand(scriptNames.beat, luaScripts.presenceBeat);
    redis.defineCommand(scriptNames.list, luaScripts.presenceList);
    defined.add(redis);
  }
  return redis as RedisClient & PresenceCommands;
}

/**
 * Worker presence for one app: workers join it, anyone lists it.
 *
 * @example
 * ```ts
 * const presence = new Presence({ redis, prefix: 'celeriac' });
 * const membership = presence.join({ name: 'w1@host', app: 'proj', queues: ['default'], concurrency: 4, pool: 'async', tasks: ['add'] });
 * await membership.ready;
 * (await presence.workers()).map((w) => `${w.name} ${w.online ? 'online' : 'offline'}`);
 * await membership.leave();
 * ```
 */
export class Presence {
  private readonly keys: PresenceKeys;
  private readonly redis: RedisClient & PresenceCommands;
  /** @internal */
  readonly log: RateLimitedLog;
  /** Milliseconds an offline worker stays listed. */
  readonly retention: number;

  constructor(options: PresenceOptions) {
    const retention = options.retention ?? DEFAULT_RETENTION_MS;
    if (!Number.isInteger(retention) || retention < 1_000) {
      throw new ControlArgumentError('retention', `expected whole milliseconds >= 1000, got ${String(retention)}`);
    }
    this.retention = retention;
    this.keys = presenceKeys(options.prefix);
    this.redis = withPresenceScripts(options.redis);
    this.log = new RateLimitedLog(options.logger ?? consoleLogger('warn'));
  }

  /**
   * Announces a worker and keeps it online with heartbeats until `leave()`. If Redis is down the
   * worker keeps trying at each heartbeat, and joins once Redis is back.
   *
   * @param worker - what to record about the worker
   * @param options - heartbeat interval, live counters, event writer
   * @returns the membership, to update or leave
   * @throws ControlArgumentError when the interval is not positive or the retention is not longer than the online window
   */
  join(worker: WorkerDescription, options: JoinOptions = {}): WorkerPresence {
    const interval = options.interval ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    if (!Number.isInteger(interval) || interval < 10) {
      throw new ControlArgumentError('interval', `expected whole milliseconds >= 10, got ${String(interval)}`);
    }
    if (interval * ONLINE_WINDOW_BEATS >= this.retention) {
      throw new ControlArgumentError('interval', `${ONLINE_WINDOW_BEATS} heartbeat intervals (${interval * ONLINE_WINDOW_BEATS} ms) must be shorter than the retention (${this.retention} ms)`);
    }
    const membership = new Membership(this, worker, interval, options);
    membership.start();
    return membership;
  }

  /**
   * Every worker presence knows, online or recently offline, sorted by name.
   *
   * @returns the workers' statuses
   */
  async workers(): Promise<WorkerStatus[]> {
    const { seen, info, live } = this.keys;
    const reply = await this.redis.celeriacPresenceList(seen, info, live, this.retention);
    const now = Number(reply[0]);
    const workers: WorkerStatus[] = [];
    for (let i = 1; i + 3 < reply.length; i += 4) {
      const [name, beat, record, counters] = [reply[i], reply[i + 1], reply[i + 2], reply[i + 3]];
      const parsedRecord = this.parse(RecordSchema, record, `record of worker ${String(name)}`);
      if (parsedRecord === undefined) continue;
      if (parsedRecord.name !== name) {
        this.log.warn('record', `presence: skipped the record listed as ${String(name)}: it names ${parsedRecord.name}`);
        continue;
      }
      const parsedCounters = this.parse(CountersSchema, counters, `counters of worker ${String(name)}`) ?? { active: 0, processed: 0, failed: 0 };
      const lastHeartbeat = Number(beat);
      const heartbeatAge = Math.max(0, now - lastHeartbeat);
      workers.push({
        ...parsedRecord,
        ...parsedCounters,
        online: heartbeatAge <= parsedRecord.heartbeatInterval * ONLINE_WINDOW_BEATS,
        lastHeartbeat,
        heartbeatAge,
      });
    }
    return workers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Names of the workers online now. */
  async online(): Promise<string[]> {
    return (await this.workers()).filter((worker) => worker.online).map((worker) => worker.name);
  }

  /** @internal one heartbeat (with the record when announcing). */
  beat(name: string, counters: string, record: string, instance: string, window: number): Promise<[number, number, string]> {
    const { seen, info, live } = this.keys;
    return this.redis.celeriacPresenceBeat(seen, info, live, name, counters, record, this.retention, instance, window);
  }

  /** @internal removes a worker at once. */
  async remove(name: string): Promise<void> {
    const { seen, info, live } = this.keys;
    await this.redis.multi().zrem(seen, name).hdel(info, name).hdel(live, name).exec();
  }

  /** @internal */
  version(): Promise<string> {
    return redisVersion(this.redis);
  }

  private parse<TOutput>(schema: v.GenericSchema<unknown, TOutput>, text: unknown, what: string): TOutput | undefined {
    if (typeof text !== 'string') {
      this.log.warn('record', `presence: skipped worker data that is missing: ${what}`);
      return undefined;
    }
    if (text.length > MAX_RECORD_LENGTH) {
      this.log.warn('record', `presence: skipped the ${what}: ${text.length} chars, over the ${MAX_RECORD_LENGTH} limit`);
      return undefined;
    }
    try {
      const parsed = v.safeParse(schema, JSON.parse(text));
      if (parsed.success) return parsed.output;
      this.log.warn('record', `presence: skipped malformed ${what}: ${v.summarize(parsed.issues)}`);
    } catch {
      this.log.warn('record', `presence: skipped malformed ${what}: not JSON`);
    }
    return undefined;
  }
}

/** One worker's heartbeat loop. */
class Membership implements WorkerPresence {
  readonly ready: Promise<void>;
  record: WorkerRecord;
  private resolveReady = (): void => {};
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Whether the record in Redis is the current one (as far as this process knows). */
  private announced = false;
  private online = false;
  private stopped = false;
  /** The record changed while a heartbeat was running: send the next one at once. */
  private urgent = false;
  private readonly live: () => LiveCounters;
  private readonly events: TaskEventWriter | undefined;

  constructor(
    private readonly presence: Presence,
    worker: WorkerDescription,
    private readonly interval: number,
    options: JoinOptions,
  ) {
    this.ready = new Promise((resolve) => (this.resolveReady = resolve));
    this.live = options.live ?? (() => ({ active: 0, processed: 0, failed: 0 }));
    this.events = options.events;
    this.record = {
      name: worker.name,
      app: worker.app,
      hostname: worker.hostname ?? hostname(),
      pid: worker.pid ?? process.pid,
      queues: [...worker.queues],
      concurrency: worker.concurrency,
      pool: worker.pool,
      tasks: [...worker.tasks],
      versions: { ...localVersions(), redis: 'unknown' },
      startedAt: worker.startedAt ?? Date.now(),
      heartbeatInterval: interval,
      instance: randomUUID(),
    };
  }

  start(): void {
    this.schedule(0);
  }

  update(changes: Partial<Pick<WorkerRecord, 'queues' | 'concurrency' | 'tasks'>>): void {
    this.record = { ...this.record, ...changes };
    this.announced = false;
    this.urgent = true;
    if (this.running === undefined && !this.stopped) this.schedule(0);
  }

  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    if (!this.online) return;
    this.events?.emit({ type: 'worker-offline', freq: this.interval });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, LEAVE_TIMEOUT_MS, 'timeout')));
    try {
      const outcome = await Promise.race([this.presence.remove(this.record.name), timeout]);
      if (outcome === 'timeout') this.presence.log.warn('leave', `presence: Redis did not answer within ${LEAVE_TIMEOUT_MS} ms; worker ${this.record.name} will show offline, then expire`);
    } catch (error) {
      this.presence.log.warn('leave', `presence: could not remove worker ${this.record.name}; it will show offline, then expire`, error);
    } finally {
      clearTimeout(timer);
    }
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.urgent = false;
      this.running = this.beat().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.urgent ? 0 : this.interval);
      });
    }, delay);
    // Presence alone must not keep a process alive.
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const window = this.interval * ONLINE_WINDOW_BEATS;
    try {
      const counters = this.live();
      const live = JSON.stringify({ active: counters.active, processed: counters.processed, failed: counters.failed, instance: this.record.instance });
      if (!this.announced && this.record.versions.redis === 'unknown') {
        this.record = { ...this.record, versions: { ...this.record.versions, redis: await this.presence.version() } };
      }
      let [, status, other] = await this.presence.beat(this.record.name, live, this.announced ? '' : JSON.stringify(this.record), this.record.instance, window);
      if (status === 0) {
        // The record expired or Redis lost it (a restart without persistence): announce again.
        [, status, other] = await this.presence.beat(this.record.name, live, JSON.stringify(this.record), this.record.instance, window);
      }
      this.announced = true;
      if (other !== '') {
        this.presence.log.warn('duplicate', `presence: another process (instance ${other}) is online under the worker name ${this.record.name}; give each worker a unique name (-n), or replies and presence will mix them up`);
      }
      if (!this.online) {
        this.online = true;
        this.resolveReady();
        this.events?.emit({ type: 'worker-online', freq: this.interval });
      } else {
        this.events?.emit({ type: 'worker-heartbeat', freq: this.interval, ...counters });
      }
    } catch (error) {
      this.presence.log.warn('heartbeat', `presence: heartbeat of worker ${this.record.name} failed; retrying every ${this.interval} ms`, error);
    }
  }
}
