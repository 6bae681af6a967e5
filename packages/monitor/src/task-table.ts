/**
 * The tasks the monitor knows from task events, folded in memory as Flower's `State` does: one
 * record per task id, updated by each event in stream order, the oldest forgotten beyond
 * `maxTasks`. Pages are cut from it with filters, search and sorting; a full pass over 100 000
 * records takes a few milliseconds, so every page costs about the same.
 *
 * It also keeps what the metrics need from the events (counts by type, runtimes by task) and when
 * each worker last sent an event, which tells whether its task events are on.
 */
import type { StoredTaskEvent, TaskEvent } from '@celeriac/runtime';

/** A task's state as events tell it (Celery's event states). */
export type EventTaskState = 'RECEIVED' | 'STARTED' | 'SUCCESS' | 'FAILURE' | 'RETRY' | 'REVOKED';

/** Every {@link EventTaskState}, in the order of a task's life. */
export const EVENT_TASK_STATES: readonly EventTaskState[] = ['RECEIVED', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];

/** One task, from its events. Times are epoch ms. */
export interface TaskRecord {
  readonly id: string;
  name: string;
  state: EventTaskState;
  /** JSON text of its args, kwargs and result, cut to 1 024 chars by the worker. */
  args: string | null;
  kwargs: string | null;
  result: string | null;
  /** `Name: message` of its failure, and the stack. */
  exception: string | null;
  traceback: string | null;
  worker: string | null;
  queue: string | null;
  retries: number;
  received: number | null;
  started: number | null;
  succeeded: number | null;
  failed: number | null;
  retried: number | null;
  revoked: number | null;
  /** Milliseconds the handler ran. */
  runtime: number | null;
  eta: number | null;
  expires: number | null;
  rootId: string | null;
  parentId: string | null;
  workflowId: string | null;
  groupId: string | null;
  terminated: boolean;
  expired: boolean;
  /** Time of its last event. */
  timestamp: number;
  /** Ids of the tasks received with this one as their parent. */
  readonly children: string[];
  /** Stream id of its last event. */
  eventId: string;
}

/** A page request: filters, search, order and window. */
export interface TaskQuery {
  /** Only these states. */
  readonly states?: readonly string[] | undefined;
  /** Only tasks of this name. */
  readonly name?: string | undefined;
  /** Only tasks that ran on this worker. */
  readonly worker?: string | undefined;
  /** Only tasks of this workflow. */
  readonly workflowId?: string | undefined;
  /** Text to find, without regard to case, in the id, name, args, kwargs, result or exception. */
  readonly search?: string | undefined;
  /** Only tasks received in this window (epoch ms, inclusive). */
  readonly receivedFrom?: number | undefined;
  readonly receivedTo?: number | undefined;
  /** A {@link SORT_KEYS} key, `-` first for descending. Default: newest first. */
  readonly sortBy?: string | undefined;
  readonly offset?: number | undefined;
  readonly limit?: number | undefined;
}

/** A page of tasks and how many matched. */
export interface TaskPage {
  readonly total: number;
  readonly tasks: readonly TaskRecord[];
}

/** Keys a page may be sorted by (Flower's `sort_by`). */
export const SORT_KEYS = ['name', 'state', 'received', 'started', 'runtime', 'worker', 'timestamp'] as const;
type SortKey = (typeof SORT_KEYS)[number];

/** Upper bounds of the runtime histogram's buckets, in seconds (Prometheus's defaults, stretched to 5 minutes). */
export const RUNTIME_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] as const;

/** A histogram of one task's runtimes: counts per bucket (not cumulative), sum in seconds, count. */
export interface RuntimeHistogram {
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** What the table remembers of a worker's events. */
export interface WorkerEvents {
  /** Epoch ms of its last event, by the worker's clock. */
  lastEvent: number;
  /** Its heartbeat interval, from its events. */
  freq: number;
  /** Whether its last worker event was `worker-offline`. */
  offline: boolean;
}

const EVENT_STATE: Partial<Record<TaskEvent['type'], EventTaskState>> = {
  'task-received': 'RECEIVED',
  'task-started': 'STARTED',
  'task-succeeded': 'SUCCESS',
  'task-failed': 'FAILURE',
  'task-retried': 'RETRY',
  'task-revoked': 'REVOKED',
};

/** States a task does not leave, except by being received again (a retry). */
const FINAL: ReadonlySet<EventTaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** Tasks folded from events; see the module comment. */
export class TaskTable {
  private readonly byId = new Map<string, TaskRecord>();
  /** Records in the order first seen; `head` skips those already forgotten. A page walks this, not the map. */
  private order: TaskRecord[] = [];
  private head = 0;
  private readonly names = new Set<string>();
  /** Events seen, by `type\0name\0worker`. */
  readonly eventCounts = new Map<string, number>();
  /** Runtimes of succeeded tasks, by task name. */
  readonly runtimes = new Map<string, RuntimeHistogram>();
  readonly workers = new Map<string, WorkerEvents>();
  /** Task events folded since the table was made. */
  taskEvents = 0;
  /** Stream id of the last event folded. */
  lastEventId: string | null = null;

  constructor(readonly maxTasks: number) {}

  /** Number of tasks held. */
  get size(): number {
    return this.byId.size;
  }

  /** Names of every task seen, sorted. */
  get taskNames(): string[] {
    return [...this.names].sort();
  }

  /**
   * Folds one event in. Events must come in stream order.
   *
   * @param event - an event read from the stream
   */
  apply(event: StoredTaskEvent): void {
    this.lastEventId = event.id;
    const key = `${event.type}\u0000${'name' in event ? event.name : ''}\u0000${event.worker}`;
    this.eventCounts.set(key, (this.eventCounts.get(key) ?? 0) + 1);
    if (!('taskId' in event)) {
      const known = this.workers.get(event.worker);
      if (known === undefined) this.workers.set(event.worker, { lastEvent: event.timestamp, freq: event.freq, offline: event.type === 'worker-offline' });
      else {
        known.lastEvent = Math.max(known.lastEvent, event.timestamp);
        known.freq = event.freq;
        known.offline = event.type === 'worker-offline';
      }
      return;
    }
    this.taskEvents++;
    const worker = this.workers.get(event.worker);
    if (worker === undefined) this.workers.set(event.worker, { lastEvent: event.timestamp, freq: 2_000, offline: false });
    else worker.lastEvent = Math.max(worker.lastEvent, event.timestamp);
    const record = this.recordOf(event.taskId, event.name, event.timestamp, event.id);
    const previous = record.timestamp;
    record.name = event.name;
    record.worker = event.worker;
    record.timestamp = Math.max(previous, event.timestamp);
    record.eventId = event.id;
    this.names.add(event.name);
    const state = EVENT_STATE[event.type]!;
    // A late `received` or `started` (another worker's, after a redelivery) does not undo an end.
    if (!(FINAL.has(record.state) && (state === 'RECEIVED' || state === 'STARTED') && event.timestamp < previous)) record.state = state;
    switch (event.type) {
      case 'task-received':
        record.received = event.timestamp;
        record.args = event.args;
        record.kwargs = event.kwargs;
        record.retries = event.retries;
        record.queue = event.queue;
        record.eta = event.eta;
        record.expires = event.expires;
        record.rootId = event.rootId;
        record.workflowId = event.workflowId;
        record.groupId = event.groupId;
        if (event.parentId !== null && record.parentId !== event.parentId) {
          record.parentId = event.parentId;
          const parent = this.byId.get(event.parentId);
          if (parent !== undefined && !parent.children.includes(record.id)) parent.children.push(record.id);
        }
        break;
      case 'task-started':
        record.started = event.timestamp;
        break;
      case 'task-succeeded':
        record.succeeded = event.timestamp;
        record.result = event.result;
        record.runtime = event.runtime;
        this.observeRuntime(event.name, event.runtime);
        break;
      case 'task-failed':
        record.failed = event.timestamp;
        record.exception = event.exception;
        record.traceback = event.traceback;
        record.runtime = event.runtime;
        break;
      case 'task-retried':
        record.retried = event.timestamp;
        record.exception = event.exception;
        record.traceback = event.traceback;
        record.retries = event.retries;
        break;
      case 'task-revoked':
        record.revoked = event.timestamp;
        record.terminated = event.terminated;
        record.expired = event.expired;
        break;
    }
  }

  /**
   * A task by id.
   *
   * @param id - the task id
   * @returns its record, or undefined when no event named it (or it was forgotten)
   */
  get(id: string): TaskRecord | undefined {
    return this.byId.get(id);
  }

  /**
   * One page of tasks.
   *
   * @param query - filters, order and window
   * @returns the page and how many tasks matched in all
   */
  query(query: TaskQuery = {}): TaskPage {
    const { offset = 0, limit = 100 } = query;
    const matches = this.matcher(query);
    const sort = parseSort(query.sortBy);
    if (sort === null) {
      // Newest first, straight from the arrival order: no array of every match is built.
      const tasks: TaskRecord[] = [];
      let total = 0;
      for (let i = this.order.length - 1; i >= this.head; i--) {
        const record = this.order[i]!;
        if (!matches(record)) continue;
        if (total >= offset && tasks.length < limit) tasks.push(record);
        total++;
      }
      return { total, tasks };
    }
    // Sorted by a key taken once per record (a comparator that reads properties is several times slower).
    const { key, descending } = sort;
    const keyed: { readonly k: string | number | null; readonly r: TaskRecord }[] = [];
    for (let i = this.order.length - 1; i >= this.head; i--) {
      const record = this.order[i]!;
      if (matches(record)) keyed.push({ k: record[key], r: record });
    }
    keyed.sort((a, b) => compare(a.k, b.k, descending));
    return { total: keyed.length, tasks: keyed.slice(offset, offset + limit).map((entry) => entry.r) };
  }

  /** Counts of the tasks held, by name and state. */
  countsByNameAndState(): Map<string, Map<EventTaskState, number>> {
    const out = new Map<string, Map<EventTaskState, number>>();
    for (const record of this.byId.values()) {
      let byState = out.get(record.name);
      if (byState === undefined) out.set(record.name, (byState = new Map()));
      byState.set(record.state, (byState.get(record.state) ?? 0) + 1);
    }
    return out;
  }

  private matcher(query: TaskQuery): (record: TaskRecord) => boolean {
    const states = query.states === undefined || query.states.length === 0 ? null : new Set(query.states.map((s) => s.toUpperCase()));
    const { name, worker, workflowId, receivedFrom, receivedTo } = query;
    // One case-insensitive pattern, tested in place: lower-casing every field of every record per page costs more.
    const search = query.search === undefined || query.search === '' ? null : new RegExp(query.search.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
    const contains = (text: string | null): boolean => text !== null && search!.test(text);
    return (record) =>
      (states === null || states.has(record.state)) &&
      (name === undefined || name === '' || record.name === name) &&
      (worker === undefined || worker === '' || record.worker === worker) &&
      (workflowId === undefined || workflowId === '' || record.workflowId === workflowId) &&
      (receivedFrom === undefined || (record.received ?? record.timestamp) >= receivedFrom) &&
      (receivedTo === undefined || (record.received ?? record.timestamp) <= receivedTo) &&
      (search === null ||
        search.test(record.id) ||
        contains(record.name) ||
        contains(record.args) ||
        contains(record.kwargs) ||
        contains(record.result) ||
        contains(record.exception));
  }

  private recordOf(id: string, name: string, timestamp: number, eventId: string): TaskRecord {
    const known = this.byId.get(id);
    if (known !== undefined) return known;
    const record: TaskRecord = {
      id,
      name,
      state: 'RECEIVED',
      args: null,
      kwargs: null,
      result: null,
      exception: null,
      traceback: null,
      worker: null,
      queue: null,
      retries: 0,
      received: null,
      started: null,
      succeeded: null,
      failed: null,
      retried: null,
      revoked: null,
      runtime: null,
      eta: null,
      expires: null,
      rootId: null,
      parentId: null,
      workflowId: null,
      groupId: null,
      terminated: false,
      expired: false,
      timestamp,
      children: [],
      eventId,
    };
    this.byId.set(id, record);
    this.order.push(record);
    if (this.byId.size > this.maxTasks) this.forgetOldest();
    return record;
  }

  private forgetOldest(): void {
    while (this.byId.size > this.maxTasks && this.head < this.order.length) {
      this.byId.delete(this.order[this.head]!.id);
      this.head++;
    }
    // Compact once the forgotten prefix is as long as what is kept.
    if (this.head > 1_024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  private observeRuntime(name: string, ms: number): void {
    let histogram = this.runtimes.get(name);
    if (histogram === undefined) this.runtimes.set(name, (histogram = { buckets: new Array<number>(RUNTIME_BUCKETS.length).fill(0), sum: 0, count: 0 }));
    const seconds = ms / 1000;
    const bucket = RUNTIME_BUCKETS.findIndex((le) => seconds <= le);
    if (bucket >= 0) histogram.buckets[bucket]!++;
    histogram.sum += seconds;
    histogram.count++;
  }
}

function parseSort(sortBy: string | undefined): { key: SortKey; descending: boolean } | null {
  if (sortBy === undefined || sortBy === '') return null;
  const descending = sortBy.startsWith('-');
  const key = (descending ? sortBy.slice(1) : sortBy) as SortKey;
  if (!SORT_KEYS.includes(key)) return null;
  return { key, descending };
}

/** Orders values, nulls last either way. */
function compare(a: string | number | null, b: string | number | null, descending: boolean): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return (a < b ? -1 : 1) * (descending ? -1 : 1);
}
