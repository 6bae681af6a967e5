/**
 * Turns released nodes into BullMQ jobs. The job id is the node's task id, so enqueueing the same
 * node twice (a retried apply, a redelivered predecessor finishing its outbox) adds it once.
 * Each job carries only its own node (O(node) message size, never the rest of the workflow).
 */
import type { Json, Kwargs } from '@celeriac/canvas';
import { Job, Queue, type JobsOptions, type RedisClient } from 'bullmq';
import type { Redis } from 'ioredis';
import { InvalidJobError } from './errors.js';
import { inputIndices, type NodeSpec, type RunOptions, type SpecInput } from './plan.js';
import type { Recorded, Released } from './store.js';

/** The payload of every Celeriac job. */
export interface JobData {
  readonly v: 1;
  /** Workflow id and node index: where to record the outcome. */
  readonly w: string;
  readonly i: number;
  readonly id: string;
  readonly task: string;
  /** Final positional arguments (incoming value already prepended). */
  readonly args: readonly Json[];
  readonly kwargs: Kwargs;
  readonly rootId: string;
  readonly parentId: string | null;
  readonly groupId: string | null;
  readonly groupIndex: number | null;
  /** Execution options the worker applies (merged over the task's defaults). */
  readonly o: JobOptions;
  /** Retries so far. */
  readonly r: number;
}

/**
 * The payload of a release job: nodes of one queue that a worker enqueues on the producer's
 * behalf (see {@link Dispatcher.enqueue}).
 */
export interface ReleaseData {
  readonly v: 1;
  readonly w: string;
  /** Indices of the nodes to enqueue; those no longer in the workflow's outbox are skipped. */
  readonly release: readonly number[];
  /** Task id of the node whose outcome released them (`parentId` of their jobs). */
  readonly parentId: string | null;
  /** Epoch ms the nodes were released: relative `countdown` and `expires` count from here. */
  readonly sentAt: number;
}

/** Name of release jobs in queue listings. */
export const RELEASE_JOB = 'celeriac.release';

/** The options a worker needs while running a job; `expiresAt` is fixed when the job is sent. */
export interface JobOptions {
  readonly retries?: number;
  readonly backoff?: RunOptions['backoff'];
  readonly timeLimit?: number;
  readonly softTimeLimit?: number;
  readonly ignoreResult?: boolean;
  /** Epoch ms after which the job is revoked instead of run. */
  readonly expiresAt?: number;
}

/** Name of the queue a task goes to when nothing routes it elsewhere. */
export const DEFAULT_QUEUE = 'default';

/**
 * Completed jobs are dropped at once: their results live in the workflow's hashes, and a node
 * leaves the outbox atomically with its result, so nothing re-adds a finished node's job (except a
 * stale recovery; the re-run cannot record or release anything twice). Failed jobs stay a week for inspection.
 */
const KEEP_FAILED = { age: 7 * 24 * 3600 };
/** Jobs per addBulk call. */
const ENQUEUE_SLICE = 250;
/**
 * Released nodes one process enqueues itself. Up to here that is fastest: no extra hop, and the
 * work overlaps with the workers'. A larger release (a huge group's members) becomes release jobs
 * that workers turn into the nodes' jobs, because building and sending 100 000 jobs would cost
 * the releasing process about 100 MB of memory (garbage that V8 lets pile up between full GCs).
 */
export const DIRECT_RELEASE_LIMIT = 10_000;
/** Nodes per release job: each is one outbox read and four bulk adds for a worker. */
const RELEASE_BATCH = 1_000;
const INFRASTRUCTURE_RETRIES = { attempts: 5, backoff: { type: 'exponential', delay: 1_000 } } as const;

export class Dispatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    /** BullMQ key prefix (Celeriac's prefix plus `:q`). */
    readonly queuePrefix: string,
  ) {}

  /** The BullMQ queue behind a Celeriac queue name. */
  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.connection, prefix: this.queuePrefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Enqueues released nodes. Up to {@link DIRECT_RELEASE_LIMIT} of them are sent as their own jobs,
   * per slice of {@link ENQUEUE_SLICE} one bulk add per queue. More are sent as release jobs, one
   * per {@link RELEASE_BATCH} nodes of a queue, and the workers of that queue enqueue them
   * (`sentAt` keeps their countdowns and expiry counting from the release). A release job is
   * idempotent: it enqueues only the nodes still in the outbox, under their own job ids.
   */
  async enqueue(workflowId: string, released: readonly Released[], parentId: string | null, sentAt = Date.now()): Promise<void> {
    if (released.length > DIRECT_RELEASE_LIMIT) {
      return this.sendReleases(workflowId, released.map((node) => node.index), (k) => queueOf(released[k]!.spec), parentId, sentAt);
    }
    for (let from = 0; from < released.length; from += ENQUEUE_SLICE) {
      const byQueue = new Map<string, { name: string; data: JobData; opts: JobsOptions }[]>();
      for (const node of released.slice(from, from + ENQUEUE_SLICE)) {
        const queue = queueOf(node.spec);
        let jobs = byQueue.get(queue);
        if (jobs === undefined) byQueue.set(queue, (jobs = []));
        jobs.push({ name: node.spec.task, data: jobData(workflowId, node, parentId, sentAt), opts: jobOptions(node.spec, sentAt) });
      }
      // A lone job goes without addBulk's MULTI/EXEC wrapper: the common case of a chain step.
      await Promise.all(
        [...byQueue].map(([queue, jobs]) =>
          jobs.length === 1 ? this.queue(queue).add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts) : this.queue(queue).addBulk(jobs),
        ),
      );
    }
  }

  /**
   * Sends what a worker's recorded outcome released: the nodes' jobs, or, when the store returned
   * only their indices (more than {@link DIRECT_RELEASE_LIMIT}), release jobs into `queue`, the
   * queue of the job that released them, whose workers read each node from the outbox.
   */
  async sendRecorded(workflowId: string, recorded: Recorded, parentId: string, queue: string): Promise<void> {
    if (recorded.releasedIndices === undefined) return this.enqueue(workflowId, recorded.released, parentId);
    return this.sendReleases(workflowId, recorded.releasedIndices, () => queue, parentId);
  }

  /**
   * Sends release jobs for nodes of any number: per queue, one job per {@link RELEASE_BATCH}
   * nodes. Needs only the nodes' indices and a way to find the queue of the k-th, so a producer
   * can release a large workflow's entries without building their specs all at once.
   */
  async sendReleases(
    workflowId: string,
    nodes: readonly number[],
    queueAt: (k: number) => string,
    parentId: string | null,
    sentAt = Date.now(),
  ): Promise<void> {
    const byQueue = new Map<string, number[]>();
    nodes.forEach((index, k) => {
      const queue = queueAt(k);
      let indices = byQueue.get(queue);
      if (indices === undefined) byQueue.set(queue, (indices = []));
      indices.push(index);
    });
    await Promise.all(
      [...byQueue].map(([queue, indices]) => {
        const jobs: { name: string; data: ReleaseData; opts: JobsOptions }[] = [];
        for (let from = 0; from < indices.length; from += RELEASE_BATCH) {
          const release = indices.slice(from, from + RELEASE_BATCH);
          jobs.push({
            name: RELEASE_JOB,
            data: { v: 1, w: workflowId, release, parentId, sentAt },
            // Derived from the first node, so a release sent twice (a retried apply) is added once.
            opts: { jobId: `${workflowId}.r${release[0]!}`, removeOnComplete: true, removeOnFail: KEEP_FAILED, ...INFRASTRUCTURE_RETRIES },
          });
        }
        return this.queue(queue).addBulk(jobs);
      }),
    );
  }

  /**
   * Adds one released node's job through `client`, a worker's connection. The command is written
   * before this returns (BullMQ's `Job.addJob`), so whatever is sent on `client` next runs after it
   * (see handoff.ts); the promise settles with Redis's reply.
   */
  addOn(client: RedisClient, workflowId: string, node: Released, parentId: string | null, sentAt = Date.now()): Promise<string> {
    const { spec } = node;
    const job = new Job(this.queue(queueOf(spec)), spec.task, jobData(workflowId, node, parentId, sentAt), jobOptions(spec, sentAt), spec.id);
    return job.addJob(client);
  }

  /** Removes a job that has not started; a job a worker holds stays (it is running). */
  async remove(queue: string, jobId: string): Promise<void> {
    await this.queue(queue).remove(jobId).catch(() => 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
  }
}

/** The queue a node's job goes to. */
export function queueOf(spec: NodeSpec): string {
  return spec.options.queue ?? DEFAULT_QUEUE;
}

function jobData(workflowId: string, node: Released, parentId: string | null, sentAt: number): JobData {
  const { spec } = node;
  const args = spec.input === null ? spec.args : [assemble(spec.input, spec, node.inputs), ...spec.args];
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

/** The options a worker applies while running a job; a relative `expires` counts from `sentAt`. */
export function jobOptionsOf(options: RunOptions, sentAt: number): JobOptions {
  const { retries, backoff, timeLimit, softTimeLimit, ignoreResult, expires } = options;
  const expiresAt =
    expires === undefined ? undefined : typeof expires === 'number' ? sentAt + expires * 1000 : Date.parse(expires);
  return {
    ...(retries === undefined ? {} : { retries }),
    ...(backoff === undefined ? {} : { backoff }),
    ...(timeLimit === undefined ? {} : { timeLimit }),
    ...(softTimeLimit === undefined ? {} : { softTimeLimit }),
    ...(ignoreResult === undefined ? {} : { ignoreResult }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

/** Builds the incoming value from the predecessors' results (a chord body gets the ordered list). */
function assemble(input: SpecInput, spec: NodeSpec, inputs: readonly unknown[]): Json {
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

function jobOptions(spec: NodeSpec, sentAt: number): JobsOptions {
  const { options } = spec;
  // Task retries are the worker's business (same job, moved to delayed): the retry limit may be a
  // default the producer does not know. BullMQ attempts only cover infrastructure errors around
  // the handler (Redis unreachable while recording the outcome): the job is simply run again.
  const opts: JobsOptions = { jobId: spec.id, removeOnComplete: true, removeOnFail: KEEP_FAILED, ...INFRASTRUCTURE_RETRIES };
  const delay = delayOf(options, sentAt);
  if (delay > 0) opts.delay = delay;
  if (options.priority !== undefined) opts.priority = options.priority;
  return opts;
}

/** Milliseconds until the node may run: `countdown` (from `sentAt`) wins over `eta`, as in Celery. */
function delayOf(options: RunOptions, sentAt: number): number {
  if (options.countdown !== undefined) return Math.max(0, sentAt + options.countdown * 1000 - Date.now());
  if (options.eta !== undefined) return Math.max(0, Date.parse(options.eta) - Date.now());
  return 0;
}
