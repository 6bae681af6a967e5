/**
 * Turns released nodes into BullMQ jobs. The job id is the node's task id, so enqueueing the same
 * node twice (a retried apply, a redelivered predecessor finishing its outbox) adds it once.
 * Each job carries only its own node (O(node) message size, never the rest of the workflow).
 *
 * Whether a release is enqueued directly or as release jobs is decided here, once
 * ({@link DIRECT_RELEASE_LIMIT}); the store's scripts are given the same limit so they never
 * build a reply of more nodes than this module would enqueue itself.
 */
import { Job, Queue, type JobsOptions, type RedisClient as BullClient } from 'bullmq';
import { callEach, isCluster, retryRedirected, type RedisClient } from './connection.js';
import { RELEASE_JOB, releaseWire, taskWire, type ReleaseWire, type TaskWire } from './job-data.js';
import type { NodeSpec, RunOptions } from './plan.js';
import type { Released, ReleaseJobRef, ReplicaWait } from './store.js';

/** Name of the queue a task goes to when nothing routes it elsewhere. */
export const DEFAULT_QUEUE = 'default';

/**
 * Released nodes one process enqueues itself. Up to here that is fastest: no extra hop, and the
 * work overlaps with the workers'. A larger release (a huge group's members) becomes release jobs
 * that workers turn into the nodes' jobs, because building and sending 100 000 jobs would cost
 * the releasing process about 100 MB of memory (garbage that V8 lets pile up between full GCs).
 */
export const DIRECT_RELEASE_LIMIT = 10_000;

/**
 * Nodes released to run, read lazily, so a release of any size is sent without building every
 * node's spec at once (and, beyond {@link DIRECT_RELEASE_LIMIT}, without building them at all).
 */
export interface Release {
  readonly size: number;
  /** The k-th node's index in its workflow. */
  index(k: number): number;
  /** The queue the k-th node's job goes to (or the release job carrying it). */
  queue(k: number): string;
  /** The k-th node, with its spec and inputs; only asked for when the release is enqueued directly. */
  node(k: number): Released;
}

/** A release of nodes already read, with their specs. */
export function releaseOf(nodes: readonly Released[]): Release {
  return { size: nodes.length, index: (k) => nodes[k]!.index, queue: (k) => queueOf(nodes[k]!.spec), node: (k) => nodes[k]! };
}

/** A release known only by indices: its release jobs go to `queue`, and their workers read each node. */
export function releaseOfIndices(indices: readonly number[], queue: string): Release {
  return {
    size: indices.length,
    index: (k) => indices[k]!,
    queue: () => queue,
    node: () => {
      throw new RangeError('a release known only by indices is sent as release jobs');
    },
  };
}

/**
 * Completed jobs are dropped at once: their results live in the workflow's hashes, and a node
 * leaves the outbox atomically with its result, so nothing re-adds a finished node's job (except a
 * stale recovery; the re-run cannot record or release anything twice). Failed jobs stay a week for inspection.
 */
const KEEP_FAILED = { age: 7 * 24 * 3600 };
/** Jobs per addBulk call. */
const ENQUEUE_SLICE = 250;
/** Nodes per release job: each is one outbox read and four bulk adds for a worker. */
const RELEASE_BATCH = 1_000;
/**
 * Task retries are the worker's business (same job, moved to delayed): the retry limit may be a
 * default the producer does not know. BullMQ attempts only cover infrastructure errors around the
 * handler (Redis unreachable while recording the outcome): the job is simply run again.
 */
const INFRASTRUCTURE_RETRIES = { attempts: 5, backoff: { type: 'exponential', delay: 1_000 } } as const;

interface BulkJob<TData> {
  readonly name: string;
  readonly data: TData;
  readonly opts: JobsOptions;
}

export class Dispatcher {
  private readonly queues = new Map<string, Queue>();
  /** Each queue's BullMQ client — this connection — once BullMQ's commands are defined on it. */
  private readonly clients = new Map<string, BullClient>();

  constructor(
    private readonly connection: RedisClient,
    /** BullMQ's key prefix for a queue (see `queuePrefix` in keys.ts: on a cluster, one hash tag per queue). */
    readonly queuePrefix: (queue: string) => string,
    /** Where the queues' errors go (BullMQ prints them to the console when nothing listens). */
    private readonly onError: (error: Error) => void,
    /** When set, the jobs a send added are followed by `WAIT` on each queue's node (the app's `waitForReplicas`). */
    private readonly replicaWait?: ReplicaWait,
    /** Where a workflow's release jobs are written down before they are added (the store's `recordReleaseJobs`). */
    private readonly recordReleaseJobs?: (workflowId: string, jobs: readonly ReleaseJobRef[]) => Promise<void>,
  ) {}

  /** The BullMQ queue behind a Celeriac queue name. */
  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.connection, prefix: this.queuePrefix(name) });
      queue.on('error', this.onError);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Enqueues a release. Up to {@link DIRECT_RELEASE_LIMIT} nodes are sent as their own jobs, per
   * slice of {@link ENQUEUE_SLICE} one bulk add per queue. More are sent as release jobs, one per
   * {@link RELEASE_BATCH} nodes of a queue, and the workers of that queue enqueue them (`sentAt`
   * keeps their countdowns and expiry counting from the release). A release job is idempotent:
   * it enqueues only the nodes still in the outbox, under their own job ids.
   */
  async send(workflowId: string, release: Release, parentId: string | null, sentAt = Date.now()): Promise<void> {
    if (release.size > DIRECT_RELEASE_LIMIT) return this.sendReleaseJobs(workflowId, release, parentId, sentAt);
    for (let from = 0; from < release.size; from += ENQUEUE_SLICE) {
      const byQueue = new Map<string, BulkJob<TaskWire>[]>();
      for (let k = from; k < Math.min(release.size, from + ENQUEUE_SLICE); k++) {
        const node = release.node(k);
        const queue = queueOf(node.spec);
        let jobs = byQueue.get(queue);
        if (jobs === undefined) byQueue.set(queue, (jobs = []));
        jobs.push({ name: node.spec.task, data: taskWire(workflowId, node, parentId, sentAt), opts: jobOptions(node.spec, sentAt) });
      }
      // A lone job goes without addBulk's MULTI/EXEC wrapper: the common case of a chain step.
      // Adds are idempotent (job ids), so a bulk add cut by a failover or a migration is sent again.
      await Promise.all(
        [...byQueue].map(([queue, jobs]) =>
          retryRedirected<unknown>(() =>
            jobs.length === 1 ? this.queue(queue).add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts) : this.queue(queue).addBulk(jobs),
          ),
        ),
      );
      await this.replicated([...byQueue.keys()]);
    }
  }

  /**
   * Opens the queues `entries` go to that this dispatcher has not used yet: BullMQ defines its
   * commands on a queue's client once. Undefined when every one is open, so that the caller can
   * go on in the same turn of the event loop.
   */
  openQueuesOf(entries: readonly Released[]): Promise<void> | undefined {
    let unknown: string[] | undefined;
    for (const { spec } of entries) {
      const name = queueOf(spec);
      if (!this.clients.has(name)) (unknown ??= []).push(name);
    }
    if (unknown === undefined) return undefined;
    return Promise.all(unknown.map(async (name) => this.clients.set(name, await this.queue(name).getBackend().client))).then(() => {});
  }

  /**
   * Adds a new workflow's entry nodes on this dispatcher's connection, through BullMQ's
   * `Job.addJob`, without `Queue.add`'s layers. Each add is written before this returns (an async
   * function runs to its first `await` at once), so it runs after whatever was written on the
   * connection before (the plan: see launcher.ts); a node that cannot be added rejects. Their
   * queues must be open ({@link openQueuesOf}).
   */
  async addEntries(workflowId: string, entries: readonly Released[], sentAt: number): Promise<unknown> {
    return Promise.all(entries.map((node) => this.addOn(this.clients.get(queueOf(node.spec))!, workflowId, node, null, sentAt)));
  }

  /**
   * With `replicaWait`, waits until replicas hold what this connection wrote to `queues`: a WAIT
   * sent after a key of each queue goes to that queue's node (one WAIT on one server).
   */
  private async replicated(queues: readonly string[]): Promise<void> {
    const wait = this.replicaWait;
    if (wait === undefined || queues.length === 0) return;
    const targets = isCluster(this.connection) ? queues : queues.slice(0, 1);
    await Promise.all(
      targets.map((queue) => this.connection.pipeline().exists(`${this.queuePrefix(queue)}:${queue}:meta`).call('WAIT', wait.replicas, wait.timeout).exec()),
    );
  }

  /**
   * Adds one released node's job through `client`, a worker's connection. The command is written
   * before this returns (BullMQ's `Job.addJob`), so whatever is sent on `client` next runs after it
   * (see handoff.ts); the promise settles with Redis's reply.
   */
  addOn(client: BullClient, workflowId: string, node: Released, parentId: string | null, sentAt = Date.now()): Promise<string> {
    const { spec } = node;
    const job = new Job(this.queue(queueOf(spec)), spec.task, taskWire(workflowId, node, parentId, sentAt), jobOptions(spec, sentAt), spec.id);
    return job.addJob(client);
  }

  /**
   * The nodes among `nodes` whose job will not run: none in their queue, or one that has finished
   * (one HMGET per node). A completed job is removed at once and a failed one is kept a week
   * ({@link KEEP_FAILED}), so for a node still released a finished job is a stale one: left by an
   * earlier workflow with the same ids (a `taskId` applied again after its workflow expired), on
   * which BullMQ's add is a no-op until it is removed.
   */
  async withoutLiveJobs<TNode extends { readonly spec: NodeSpec }>(nodes: readonly TNode[]): Promise<TNode[]> {
    const jobs = (await callEach(
      this.connection,
      nodes.map(({ spec }) => ['HMGET', this.queue(queueOf(spec)).toKey(spec.id), 'timestamp', 'finishedOn']),
    )) as (string | null)[][];
    return nodes.filter((_, k) => jobs[k]![0] === null || jobs[k]![1] !== null);
  }

  /**
   * Whether one of these release jobs is still to run: its job is there and has not finished (a
   * completed one is removed, a failed one kept a week). For the outbox sweeper, which must not
   * enqueue the nodes such a job will.
   */
  async hasReleaseJobToRun(jobs: readonly ReleaseJobRef[]): Promise<boolean> {
    const read = (await callEach(
      this.connection,
      jobs.map(({ queue, id }) => ['HMGET', this.queue(queue).toKey(id), 'timestamp', 'finishedOn']),
    )) as (string | null)[][];
    return read.some(([added, finished]) => added !== null && finished === null);
  }

  /** Removes a job that has not started; a job a worker holds stays (it is running). */
  async remove(queue: string, jobId: string): Promise<void> {
    await this.queue(queue).remove(jobId).catch(() => 0);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((queue) => queue.close()));
    this.queues.clear();
    this.clients.clear();
  }

  /** Release jobs for a release of any size: per queue, one job per {@link RELEASE_BATCH} nodes. */
  private async sendReleaseJobs(workflowId: string, release: Release, parentId: string | null, sentAt: number): Promise<void> {
    const byQueue = new Map<string, number[]>();
    for (let k = 0; k < release.size; k++) {
      const queue = release.queue(k);
      let indices = byQueue.get(queue);
      if (indices === undefined) byQueue.set(queue, (indices = []));
      indices.push(release.index(k));
    }
    const batches = [...byQueue].map(([queue, indices]) => {
      const jobs: BulkJob<ReleaseWire>[] = [];
      for (let from = 0; from < indices.length; from += RELEASE_BATCH) {
        const batch = indices.slice(from, from + RELEASE_BATCH);
        jobs.push({
          name: RELEASE_JOB,
          data: releaseWire({ workflowId, indices: batch, parentId, sentAt }),
          // Derived from the first node, so a release sent twice (a retried apply) is added once.
          opts: { jobId: `${workflowId}.r${batch[0]!}`, removeOnComplete: true, removeOnFail: KEEP_FAILED, ...INFRASTRUCTURE_RETRIES },
        });
      }
      return { queue, jobs };
    });
    // Written down first, so that the outbox sweeper never finds these jobs' nodes without them.
    await this.recordReleaseJobs?.(workflowId, batches.flatMap(({ queue, jobs }) => jobs.map(({ opts }) => ({ queue, id: opts.jobId! }))));
    await Promise.all(batches.map(({ queue, jobs }) => retryRedirected(() => this.queue(queue).addBulk(jobs))));
    await this.replicated([...byQueue.keys()]);
  }
}

/** The queue a node's job goes to. */
export function queueOf(spec: NodeSpec): string {
  return spec.options.queue ?? DEFAULT_QUEUE;
}

function jobOptions(spec: NodeSpec, sentAt: number): JobsOptions {
  const { options } = spec;
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
