/**
 * The job wire format: what a Celeriac BullMQ job carries, built, encoded and validated in one
 * place. Field names are short on the wire (a 100 000-member group sends 100 000 of them); the
 * program reads the named fields of {@link TaskJob} and {@link ReleaseJob}. Every job read back
 * is validated: a job is data anyone with access to the queue could have written.
 */
import type { Json, Kwargs } from '@celeriac/canvas';
import * as v from 'valibot';
import { InvalidJobError } from './errors.js';
import { inputIndices, type NodeSpec, type RunOptions, type SpecInput } from './plan.js';
import type { Released } from './store.js';

/** The options a worker needs while running a job; `expiresAt` is fixed when the job is sent. */
export interface JobOptions {
  /** Retries allowed; `null` retries without limit (Celery's `max_retries=None`). */
  readonly maxRetries?: number | null;
  readonly backoff?: RunOptions['backoff'];
  readonly timeLimit?: number;
  readonly softTimeLimit?: number;
  readonly ignoreResult?: boolean;
  /** Epoch ms after which the job is revoked instead of run. */
  readonly expiresAt?: number;
}

/** A task job as the worker reads it: one node of one workflow. */
export interface TaskJob {
  /** Workflow id and node index: where the outcome is recorded. */
  readonly workflowId: string;
  readonly index: number;
  /** The task id (the node's result id, and the BullMQ job id). */
  readonly id: string;
  readonly task: string;
  /** Final positional arguments (the incoming value already prepended). */
  readonly args: readonly Json[];
  readonly kwargs: Kwargs;
  readonly rootId: string;
  readonly parentId: string | null;
  readonly groupId: string | null;
  readonly groupIndex: number | null;
  /** Execution options (the task's defaults fill what these leave unset). */
  readonly options: JobOptions;
  /** Retries so far (Celery's `request.retries`). */
  readonly retries: number;
}

/** A release job: nodes of one queue that a worker enqueues on the releasing process's behalf. */
export interface ReleaseJob {
  readonly workflowId: string;
  /** Indices of the nodes to enqueue; those no longer in the workflow's outbox are skipped. */
  readonly indices: readonly number[];
  /** Task id of the node whose outcome released them (the `parentId` of their jobs). */
  readonly parentId: string | null;
  /** Epoch ms the nodes were released: relative `countdown` and `expires` count from here. */
  readonly sentAt: number;
}

/** BullMQ job name of release jobs. Task names starting with `celeriac.` are reserved. */
export const RELEASE_JOB = 'celeriac.release';

/** A task job on the wire. */
export interface TaskWire {
  readonly v: 1;
  readonly w: string;
  readonly i: number;
  readonly id: string;
  readonly task: string;
  readonly args: readonly Json[];
  readonly kwargs: Kwargs;
  readonly rootId: string;
  readonly parentId: string | null;
  readonly groupId: string | null;
  readonly groupIndex: number | null;
  readonly o: JobOptions;
  readonly r: number;
}

/** A release job on the wire. */
export interface ReleaseWire {
  readonly v: 1;
  readonly w: string;
  readonly release: readonly number[];
  readonly parentId: string | null;
  readonly sentAt: number;
}

/** Builds the job of a released node; a relative `countdown`/`expires` counts from `sentAt`. */
export function taskWire(workflowId: string, node: Released, parentId: string | null, sentAt: number): TaskWire {
  const { spec } = node;
  const args = spec.input === null ? spec.args : [incomingValue(spec.input, spec, node.inputs), ...spec.args];
  return {
    v: 1,
    w: workflowId,
    i: node.index,
    id: spec.id,
    task: spec.task,
    args,
    kwargs: spec.kwargs,
    rootId: spec.rootId,
    parentId,
    groupId: spec.groupId ?? null,
    groupIndex: spec.groupIndex ?? null,
    o: jobOptionsOf(spec.options, sentAt),
    r: 0,
  };
}

/** The same job, due for retry number `retries`. */
export function retryWire(job: TaskJob, retries: number): TaskWire {
  return { ...wireOf(job), r: retries };
}

/** Builds a release job. */
export function releaseWire(release: ReleaseJob): ReleaseWire {
  return { v: 1, w: release.workflowId, release: release.indices, parentId: release.parentId, sentAt: release.sentAt };
}

/** The options a worker applies while running a job; a relative `expires` counts from `sentAt`. */
export function jobOptionsOf(options: RunOptions, sentAt: number): JobOptions {
  // Assignments, not conditional spreads: this runs for every job sent, and six spreads made it
  // slow and big to compile (V8 optimised it in the middle of the first chain after a burst).
  const { maxRetries, backoff, timeLimit, softTimeLimit, ignoreResult, expires } = options;
  const job: { -readonly [K in keyof JobOptions]: JobOptions[K] } = {};
  if (maxRetries !== undefined) job.maxRetries = maxRetries;
  if (backoff !== undefined) job.backoff = backoff;
  if (timeLimit !== undefined) job.timeLimit = timeLimit;
  if (softTimeLimit !== undefined) job.softTimeLimit = softTimeLimit;
  if (ignoreResult !== undefined) job.ignoreResult = ignoreResult;
  if (expires !== undefined) job.expiresAt = typeof expires === 'number' ? sentAt + expires * 1000 : Date.parse(expires);
  return job;
}

const finite = v.pipe(v.number(), v.finite());
const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const nullableId = v.nullable(v.string());
const jsonArray = v.custom<readonly Json[]>(Array.isArray, 'expected an array');
const plainObject = v.custom<Kwargs>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  'expected an object',
);

const optionsSchema = v.object({
  maxRetries: v.optional(v.nullable(count)),
  backoff: v.optional(
    v.object({
      type: v.picklist(['fixed', 'exponential']),
      delay: finite,
      maxDelay: v.optional(finite),
      jitter: v.optional(v.boolean()),
    }),
  ),
  timeLimit: v.optional(finite),
  softTimeLimit: v.optional(finite),
  ignoreResult: v.optional(v.boolean()),
  expiresAt: v.optional(v.number()),
});

const taskSchema = v.object({
  v: v.literal(1),
  w: v.string(),
  i: count,
  id: v.string(),
  task: v.string(),
  args: jsonArray,
  kwargs: plainObject,
  rootId: v.string(),
  parentId: nullableId,
  groupId: nullableId,
  groupIndex: v.nullable(count),
  o: optionsSchema,
  r: count,
});

const releaseSchema = v.object({
  v: v.literal(1),
  w: v.string(),
  release: v.array(count),
  parentId: nullableId,
  sentAt: v.number(),
});

/** A job whose data Celeriac cannot use, and why (in words for the failure it records). */
export interface UnreadableJob {
  readonly problem: string;
}

/** Validates a task job's data. */
export function readTaskJob(data: unknown): TaskJob | UnreadableJob {
  let wire: TaskWire;
  if (isPlainTaskWire(data)) {
    wire = data;
  } else {
    const parsed = v.safeParse(taskSchema, data);
    if (!parsed.success) return unreadable(describeIssues('task job', parsed.issues));
    wire = parsed.output as TaskWire;
  }
  const hostile = prototypeKey(wire.args, 'args') ?? prototypeKey(wire.kwargs, 'kwargs');
  if (hostile !== undefined) return unreadable(`its data holds ${hostile}, a key that could reach a prototype (apply refuses it)`);
  return {
    workflowId: wire.w,
    index: wire.i,
    id: wire.id,
    task: wire.task,
    args: wire.args,
    kwargs: wire.kwargs,
    rootId: wire.rootId,
    parentId: wire.parentId,
    groupId: wire.groupId,
    groupIndex: wire.groupIndex,
    options: wire.o,
    retries: wire.r,
  };
}

/**
 * The common job, checked by hand: `taskSchema` accepts everything this accepts, and this refuses
 * anything unusual (a backoff, an unknown option, a missing field) so that the schema decides it
 * and names the problem. Every job a worker takes is read here, and valibot's parse of the whole
 * object was a measurable share of a worker's CPU per task.
 */
function isPlainTaskWire(data: unknown): data is TaskWire {
  if (typeof data !== 'object' || data === null) return false;
  const wire = data as { readonly [K in keyof TaskWire]?: unknown };
  return (
    wire.v === 1 &&
    typeof wire.w === 'string' &&
    isCount(wire.i) &&
    typeof wire.id === 'string' &&
    typeof wire.task === 'string' &&
    Array.isArray(wire.args) &&
    isPlainObject(wire.kwargs) &&
    typeof wire.rootId === 'string' &&
    (wire.parentId === null || typeof wire.parentId === 'string') &&
    (wire.groupId === null || typeof wire.groupId === 'string') &&
    (wire.groupIndex === null || isCount(wire.groupIndex)) &&
    isCount(wire.r) &&
    isPlainOptions(wire.o)
  );
}

function isPlainOptions(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  for (const key of Object.keys(value)) {
    const option = value[key];
    switch (key) {
      case 'maxRetries':
        if (option !== null && !isCount(option)) return false;
        break;
      case 'timeLimit':
      case 'softTimeLimit':
        if (!Number.isFinite(option)) return false;
        break;
      case 'expiresAt':
        if (typeof option !== 'number') return false;
        break;
      case 'ignoreResult':
        if (typeof option !== 'boolean') return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A container being searched by {@link prototypeKey}, with the way to it. */
interface At {
  readonly value: object;
  readonly parent: At | undefined;
  readonly segment: string;
}

/**
 * The path of the first key that could reach a prototype if a handler merged the value naively —
 * what `apply` refuses: `__proto__`, and `constructor` holding an object or array — or undefined.
 * Job data is JSON that BullMQ parsed, so it is finite and acyclic: an explicit stack and no depth
 * limit (a chord body's list of results is one level deeper than any result). Scalars are never
 * pushed, so a list of numbers costs one pass and no allocation.
 */
function prototypeKey(value: object, root: string): string | undefined {
  const stack: At[] = [{ value, parent: undefined, segment: root }];
  for (let at = stack.pop(); at !== undefined; at = stack.pop()) {
    const container = at.value;
    if (Array.isArray(container)) {
      for (let k = 0; k < container.length; k++) {
        const item: unknown = container[k];
        if (typeof item === 'object' && item !== null) stack.push({ value: item, parent: at, segment: `[${k}]` });
      }
      continue;
    }
    const record = container as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      const isContainer = typeof item === 'object' && item !== null;
      if (key === '__proto__' || (key === 'constructor' && isContainer)) return pathOf(at, `.${key}`);
      if (isContainer) stack.push({ value: item, parent: at, segment: `.${key}` });
    }
  }
  return undefined;
}

function pathOf(at: At | undefined, last: string): string {
  let out = last;
  for (let step = at; step !== undefined; step = step.parent) out = `${step.segment}${out}`;
  return out;
}

/** Validates a release job's data. */
export function readReleaseJob(data: unknown): ReleaseJob | UnreadableJob {
  const parsed = v.safeParse(releaseSchema, data);
  if (!parsed.success) return unreadable(describeIssues('release job', parsed.issues));
  const wire = parsed.output;
  return { workflowId: wire.w, indices: wire.release, parentId: wire.parentId, sentAt: wire.sentAt };
}

/** Longest problem kept: it names what was received, and a hostile job's data can be megabytes. */
const MAX_PROBLEM = 500;

/**
 * A read that gave up. The problem goes into log lines, the job's failed reason and the node's
 * failure, so what the job sent is cut short rather than copied into each.
 */
function unreadable(problem: string): UnreadableJob {
  return { problem: problem.length <= MAX_PROBLEM ? problem : `${problem.slice(0, MAX_PROBLEM)}… (${problem.length - MAX_PROBLEM} more characters)` };
}

/** Whether a read gave up. */
export function isUnreadable(read: object): read is UnreadableJob {
  return 'problem' in read;
}

function wireOf(job: TaskJob): TaskWire {
  return {
    v: 1,
    w: job.workflowId,
    i: job.index,
    id: job.id,
    task: job.task,
    args: job.args,
    kwargs: job.kwargs,
    rootId: job.rootId,
    parentId: job.parentId,
    groupId: job.groupId,
    groupIndex: job.groupIndex,
    o: job.options,
    r: job.retries,
  };
}

/** `its data is not a Celeriac task job: o.maxRetries: expected …` — the first problem, with its path. */
function describeIssues(what: string, issues: readonly v.BaseIssue<unknown>[]): string {
  const [first] = issues;
  const path = first === undefined ? '' : v.getDotPath(first);
  return `its data is not a Celeriac ${what}: ${path === null || path === '' ? '' : `${path}: `}${first?.message ?? 'invalid'}`;
}

/**
 * Builds a node's incoming value from its predecessors' results (`inputs`, in the order of
 * `inputIndices(input)`): a chord body gets the ordered list, an error callback the failed task's id.
 */
export function incomingValue(input: SpecInput, spec: NodeSpec, inputs: readonly unknown[]): Json {
  // A chain step's input: one node's result, the only one in `inputs`.
  if ('n' in input) return inputs[0] as Json;
  const order = inputIndices(input);
  const values = new Map(order.map((index, k) => [index, inputs[k] as Json]));
  const build = (ref: SpecInput): Json => {
    if ('n' in ref) {
      if (!values.has(ref.n)) throw new InvalidJobError(`input ${ref.n} of task ${spec.task}[${spec.id}] is missing`);
      return values.get(ref.n)!;
    }
    if ('l' in ref) return ref.l.map(build);
    return ref.f;
  };
  return build(input);
}
