/**
 * All Redis I/O about workflow state: creating a plan, recording outcomes (through the Lua
 * scripts), and reading states and results. Queues are BullMQ's business, not this file's.
 */
import { randomUUID } from 'node:crypto';
import { ReplyError } from 'ioredis';
import { callEach, isCluster, retryRedirected, type RedisCall, type RedisClient } from './connection.js';
import { checkSize, decodeEnvelope, DEFAULT_MAX_PAYLOAD, type Envelope, type TaskState } from './envelope.js';
import { InvalidJobError } from './errors.js';
import { appChannelsPattern, eventsChannel, outboxSweepKeys, pointerKey, releaseJobsKey, rateKey, stagingKeys, workflowKeys, workflowKeyScan, type WorkflowKeys } from './keys.js';
import type { ReleaseReply, ScriptCommands, ScriptPipeline } from './lua.js';
import { scanStretch, type ScanCursors } from './scan.js';
import { checkStatus, ScriptStatus, type ScriptAnswer } from './script-status.js';
import { TickBatcher } from './tick-batch.js';
import { decodeSpec, derivedGroupId, derivedLocation, derivedNodeId, encodeSpec, inputIndices, type NodeSpec, type ResultIndex, type WorkflowMeta, type WorkflowPlan } from './plan.js';

/** A node released to run: its spec and the results of the nodes it takes input from. */
export interface Released {
  readonly index: number;
  readonly spec: NodeSpec;
  /** Values of `inputIndices(spec.input)`, in that order. */
  readonly inputs: readonly unknown[];
}

/** Outcome of recording a success or failure. */
export interface Recorded {
  /** Recorded now, already recorded (a duplicate delivery), or the node had ended otherwise. */
  readonly status: ScriptAnswer;
  readonly released: readonly Released[];
  /**
   * Set instead of `released` when more nodes were released than the caller's inline limit: their
   * indices only, to be sent as release jobs (which read each node from the outbox).
   */
  readonly releasedIndices?: readonly number[];
}

/** A node's links in the stored plan, by node index. */
export interface NodeLinks {
  /** Nodes it releases (or fails) when it ends. */
  readonly successors: readonly number[];
  /** Error callbacks its failure releases. */
  readonly errbacks: readonly number[];
  /** Nodes whose results it receives, in order. */
  readonly inputs: readonly number[];
}

/** The member every workflow hash and set holds from creation (see `lua/create-9.lua`). */
const SENTINEL = '_';

/** Nodes written per pipeline when creating a workflow. */
const SLICE = 1_000;
/**
 * Plans of up to this many nodes are written by one script call (`create-whole-n.lua`): a lone
 * task, a chain, a small group or chord. Larger ones go through staging keys, so no request and
 * no reply grows with the workflow.
 */
const WHOLE_LIMIT = 100;

/**
 * A plan that fits whole, encoded for `create-whole-n.lua`: its workflow's six keys, its arguments
 * (meta, graph, deps, outbox, each counted), and the pointers of the ids a user chose in it.
 */
export interface WholePlan {
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
  readonly pointers: readonly Pointer[];
}

/**
 * Successes recorded per `advance-n.lua` call at most. A worker with a high concurrency can reach
 * hundreds in one moment; Redis runs nothing else while a script runs, so no call may take long.
 */
const SUCCESSES_PER_CALL = 200;
/** A success for `advance-n.lua`: its workflow, node index, result envelope, inline limit. */
type Success = readonly [workflowId: string, index: number, envelope: string, inlineLimit: number];
/** Nodes read per `outcome-n.lua` call at most (two HGETs each). */
const OUTCOMES_PER_CALL = 500;
/** A read for `outcome-n.lua`: a node's workflow and index. */
type OutcomeRead = readonly [workflowId: string, index: number];
/** What `outcome-n.lua` returns per node: its state and stored envelope. */
type OutcomeReply = [state: string | null, envelope: string | null];
/** A pointer from an id a user chose to its workflow: the id, and `<workflow id> n<i>|g<g>`. */
type Pointer = [id: string, value: string];
/** A release job sent for a workflow, by its queue and job id (see dispatch.ts). */
export interface ReleaseJobRef {
  readonly queue: string;
  readonly id: string;
}

/** Where the outbox sweep left off (outbox-sweeper.ts): the released nodes its last pass counted, and its scan's cursors. */
export interface SweepProgress {
  readonly counted: number;
  readonly cursors: ScanCursors;
}

/** A stored {@link SweepProgress}, or a fresh start when there is none or it is not one. */
function readSweepProgress(text: string | null): SweepProgress {
  try {
    const value: unknown = text === null ? null : JSON.parse(text);
    if (typeof value === 'object' && value !== null && 'counted' in value && 'cursors' in value) {
      const { counted, cursors } = value;
      if (Number.isSafeInteger(counted) && typeof cursors === 'object' && cursors !== null && Object.values(cursors).every((c) => typeof c === 'string')) {
        return { counted: counted as number, cursors: { ...(cursors as ScanCursors) } };
      }
    }
  } catch {
    // unreadable: start over
  }
  return { counted: 0, cursors: {} };
}

/** Fields read per HMGET (results, states), so no reply grows with the workflow. */
export const READ_SLICE = 10_000;
/** Seconds the staging keys of an apply that died half-way live. */
const STAGING_TTL = 3_600;

export class WorkflowStore {
  constructor(
    private readonly redis: RedisClient & ScriptCommands,
    readonly prefix: string,
    /** Seconds results and workflow state live; 0 keeps them forever. */
    readonly ttl: number,
    /** Bytes of JSON one node's arguments, or one result, may take (the app's `maxPayloadSize`). */
    readonly maxPayloadSize = DEFAULT_MAX_PAYLOAD,
    /** When set, each script that records an outcome is followed by `WAIT` (the app's `waitForReplicas`). */
    readonly replicaWait?: ReplicaWait,
  ) {}

  keys(workflowId: string): WorkflowKeys {
    return workflowKeys(this.prefix, workflowId);
  }

  /** The channel that announces the workflow's nodes' final states (`<index>:<STATE>`). */
  eventsChannel(workflowId: string): string {
    return eventsChannel(this.prefix, workflowId);
  }

  /** A pattern every workflow's events channel matches (one subscription for all waiters). */
  get eventsPattern(): string {
    return appChannelsPattern(this.prefix);
  }

  /**
   * Writes a plan once. Returns false when a workflow with this id already exists. A plan of up to
   * {@link WHOLE_LIMIT} nodes is written by one script call ({@link createWhole}). A larger one is
   * written in slices of {@link SLICE} nodes under staging keys — one pipeline each, so memory and
   * argument lists stay bounded for any size — and then published atomically by `create-9.lua`.
   */
  async create(plan: WorkflowPlan): Promise<boolean> {
    return this.fitsWhole(plan) ? this.createWhole(plan) : this.createStaged(plan);
  }

  /** Whether {@link createWhole} can write `plan`: at most {@link WHOLE_LIMIT} nodes. */
  fitsWhole(plan: WorkflowPlan): boolean {
    return plan.meta.nodes.length <= WHOLE_LIMIT;
  }

  /**
   * Encodes a plan that {@link fitsWhole} for {@link createWhole} or {@link writeWhole}. Throws,
   * with nothing sent, when a node's arguments exceed `maxPayloadSize`.
   */
  encodeWhole(plan: WorkflowPlan): WholePlan {
    const { meta } = plan;
    const size = meta.nodes.length;
    if (size > WHOLE_LIMIT) throw new RangeError(`a plan of ${size} nodes is written in slices, not whole`);
    const pointers: Pointer[] = [];
    const { graph, deps, outbox } = this.encodeSlice(plan, 0, size, new Set(plan.entries), pointers);
    this.groupPointers(meta, pointers);
    // Whether a node can be released later (by a success or a failure): only then may the scripts
    // write the deps and released hashes, so only then are they created with the plan.
    let releases = 0;
    for (let i = 0; i < size && releases === 0; i++) if (plan.successors[i]!.length > 0 || plan.errbacks[i]!.length > 0) releases = 1;
    const args = [JSON.stringify(meta), releases, graph.length, ...graph, deps.length, ...deps, outbox.length, ...outbox];
    return { keys: this.keyList(this.keys(meta.id)), args, pointers };
  }

  /**
   * Writes a plan that {@link fitsWhole} in one request ({@link writeWhole}). Resolves to false
   * when a workflow with this id already exists.
   */
  async createWhole(plan: WorkflowPlan): Promise<boolean> {
    return (await this.writeWhole([this.encodeWhole(plan)]))[0] === 1;
  }

  /**
   * Writes plans that {@link fitsWhole}, each created atomically, in one `create-whole-n.lua`
   * call, after the pointers of the ids a user chose, and followed by `WAIT` with `replicaWait`.
   * On one Redis server without `replicaWait`, the request is written to the connection before
   * this returns: whatever is sent on it next runs after every plan is in place (launcher.ts relies
   * on it). On a cluster the pointers, which live in their own slots, are written first, and the
   * plans must share a slot. Resolves to each plan's reply: 1 created, 0 a workflow with its id
   * already existed (nothing written).
   */
  writeWhole(plans: readonly WholePlan[]): Promise<number[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.ttl];
    const pointers: Pointer[] = [];
    for (const plan of plans) {
      keys.push(...plan.keys);
      args.push(...plan.args);
      pointers.push(...plan.pointers);
    }
    if (pointers.length === 0 && this.replicaWait === undefined) return this.redis.createWhole(keys.length, ...keys, ...args);
    const pipeline = this.redis.pipeline() as ScriptPipeline;
    const apart = this.writePointers(pipeline, pointers);
    pipeline.createWhole(keys.length, ...keys, ...args);
    return this.execCreate(pipeline, apart) as Promise<number[]>;
  }

  private async createStaged(plan: WorkflowPlan): Promise<boolean> {
    const { meta } = plan;
    const size = meta.nodes.length;
    const keys = this.keys(meta.id);
    const nonce = randomUUID();
    const staged = stagingKeys(keys, nonce);
    const [stagedGraph, stagedDeps, stagedOutbox] = staged;
    let pipeline = this.redis.pipeline() as ScriptPipeline;
    const apart: Promise<unknown>[] = [];
    const entries = new Set(plan.entries);
    for (let from = 0; from < size; from += SLICE) {
      const to = Math.min(size, from + SLICE);
      const pointers: Pointer[] = [];
      const { graph, deps, outbox } = this.encodeSlice(plan, from, to, entries, pointers);
      apart.push(...this.writePointers(pipeline, pointers));
      pipeline.hset(stagedGraph, ...graph);
      if (deps.length > 0) pipeline.hset(stagedDeps, ...deps);
      if (outbox.length > 0) pipeline.sadd(stagedOutbox, ...outbox);
      // Staging left behind by an apply that died half-way cleans itself up.
      if (from === 0) for (const key of staged) pipeline.expire(key, STAGING_TTL);
      if (to < size) {
        await execOrThrow(pipeline);
        pipeline = this.redis.pipeline() as ScriptPipeline;
      }
    }
    const pointers: Pointer[] = [];
    this.groupPointers(meta, pointers);
    apart.push(...this.writePointers(pipeline, pointers));
    pipeline.create(...this.keyList(keys), ...staged, this.ttl, JSON.stringify(meta));
    return (await this.execCreate(pipeline, apart)) === 1;
  }

  /**
   * Sends a pipeline that ends with a create script — followed by `WAIT` with `replicaWait` —
   * once the pointers written apart are in place, and returns the script's reply. With nothing
   * written apart (one Redis server), the pipeline is written before this returns.
   */
  private async execCreate(pipeline: ScriptPipeline, apart: readonly Promise<unknown>[]): Promise<unknown> {
    if (apart.length > 0) await Promise.all(apart);
    const wait = this.replicaWait;
    if (wait !== undefined) pipeline.call('WAIT', wait.replicas, wait.timeout);
    const replies = await execOrThrow(pipeline);
    return replies[replies.length - (wait === undefined ? 1 : 2)]![1];
  }

  /**
   * The stored form of nodes `from` to `to` (excluded): graph fields and values, deps (index,
   * count) and outbox members. Pointers of ids a user chose go to `pointers`.
   */
  private encodeSlice(
    plan: WorkflowPlan,
    from: number,
    to: number,
    entries: ReadonlySet<number>,
    pointers: Pointer[],
  ): { graph: (string | number)[]; deps: number[]; outbox: number[] } {
    const { meta } = plan;
    const graph: (string | number)[] = [];
    const deps: number[] = [];
    const outbox: number[] = [];
    for (let i = from; i < to; i++) {
      const spec = plan.spec(i);
      const text = encodeSpec(spec);
      checkSize(text, this.maxPayloadSize, `the arguments of task ${spec.task}[${spec.id}]`);
      graph.push(`n:${i}`, text);
      const next = plan.successors[i]!;
      if (next.length > 0) graph.push(`s:${i}`, next.join(','));
      const errbacks = plan.errbacks[i]!;
      if (errbacks.length > 0) graph.push(`e:${i}`, errbacks.join(','));
      const inputs = inputIndices(spec.input);
      if (inputs.length > 0) graph.push(`a:${i}`, inputs.join(','));
      if (spec.input !== null && 'l' in spec.input) graph.push(`j:${i}`, 1);
      if (plan.waitsFor[i]! > 0) deps.push(i, plan.waitsFor[i]!);
      if (entries.has(i)) outbox.push(i);
      // Only ids a user chose need a pointer: the others are the workflow's id or derived from it.
      const id = meta.nodes[i]!.id;
      if (id !== undefined && id !== meta.id && id !== derivedNodeId(meta.id, i)) pointers.push([id, `${meta.id} n${i}`]);
    }
    return { graph, deps, outbox };
  }

  /** The pointers of group ids a user chose. */
  private groupPointers(meta: WorkflowMeta, pointers: Pointer[]): void {
    meta.groups.forEach((group, g) => {
      if (group.id !== meta.id && group.id !== derivedGroupId(meta.id, g)) pointers.push([group.id, `${meta.id} g${g}`]);
    });
  }

  /**
   * Writes pointers into `pipeline` on one Redis. On a cluster a pointer lives in its own id's
   * slot, which a pipeline of the workflow's slot cannot carry: each is written on its own, and the
   * returned promises must settle before the workflow is published.
   */
  private writePointers(pipeline: ScriptPipeline, pointers: readonly Pointer[]): Promise<unknown>[] {
    const cluster = isCluster(this.redis);
    return pointers.flatMap(([id, value]) => {
      const target = cluster ? this.redis : pipeline;
      const written = this.ttl > 0 ? target.set(pointerKey(this.prefix, id), value, 'EX', this.ttl) : target.set(pointerKey(this.prefix, id), value);
      return cluster ? [written as Promise<unknown>] : [];
    });
  }

  /**
   * Runs a script; with `replicaWait`, pipelined with WAIT on the same node (a cluster sends a
   * pipeline to the node of its keys), so the reply comes once replicas hold the write.
   */
  private async durably<T>(script: 'advance' | 'fail', args: (string | number)[]): Promise<T> {
    const wait = this.replicaWait;
    if (wait === undefined) return (await this.redis[script](...args)) as T;
    // A pipeline's redirections are not all followed by ioredis; the scripts are idempotent.
    return retryRedirected(async () => {
      const pipeline = this.redis.pipeline() as ScriptPipeline;
      pipeline[script](...args).call('WAIT', wait.replicas, wait.timeout);
      const replies = await execOrThrow(pipeline);
      return replies[0]![1] as T;
    });
  }

  /**
   * Records a success and releases the successors whose last predecessor it was. With
   * `inlineLimit`, a release of more nodes comes back as `releasedIndices` only. The successes
   * recorded in the same moment go to Redis in one call (`advance-n.lua` records each atomically,
   * in order): on one Redis server those of every workflow, on a cluster those of one workflow,
   * whose keys share a slot.
   */
  advance(workflowId: string, index: number, envelope: string, inlineLimit = 0): Promise<Recorded> {
    return this.successes.add(this.batchKey(workflowId), [workflowId, index, envelope, inlineLimit]);
  }

  // Each node is recorded atomically and at most once, so when a shared call is refused and sent
  // again per workflow (see sharedCall), what it did record comes back as recorded already, its
  // release included.
  private readonly successes = new TickBatcher<Success, ReleaseReply | Error, Recorded>(
    (_slot, successes) => sharedCall(successes, (own) => this.advanceScript(own)),
    ([workflowId], reply) => {
      if (reply instanceof Error) throw reply;
      return parseRelease(reply, workflowId, 'record a result');
    },
    SUCCESSES_PER_CALL,
  );

  /**
   * Which calls of the same moment may share one script call: on one Redis server all of them, on a
   * cluster those of one workflow (a script's keys must share a slot).
   */
  private batchKey(workflowId: string): string {
    return isCluster(this.redis) ? workflowId : '';
  }

  /** One `advance-n.lua` call: each workflow's six keys and channel once, its nodes by position. */
  private advanceScript(successes: readonly Success[]): Promise<ReleaseReply[]> {
    const position = new Map<string, number>();
    const keys: string[] = [];
    const channels: string[] = [];
    const nodes: (string | number)[] = [];
    for (const [workflowId, index, envelope, inlineLimit] of successes) {
      let w = position.get(workflowId);
      if (w === undefined) {
        const workflowKeys = this.keys(workflowId);
        keys.push(...this.keyList(workflowKeys));
        channels.push(workflowKeys.events);
        position.set(workflowId, (w = channels.length));
      }
      nodes.push(w, index, envelope, inlineLimit);
    }
    return this.durably<ReleaseReply[]>('advance', [keys.length, ...keys, this.ttl, channels.length, ...channels, ...nodes]);
  }

  /** Records a final failure, fails everything downstream, and returns the error callbacks released. */
  async fail(workflowId: string, index: number, envelope: string, joinEnvelope: string): Promise<Recorded> {
    const keys = this.keys(workflowId);
    const reply = await this.durably<ReleaseReply>('fail', [...this.keyList(keys), index, envelope, joinEnvelope, this.ttl, keys.events]);
    return parseRelease(reply, workflowId, 'record a failure');
  }

  /** Moves a node to STARTED or RETRY. Returns null when it did, or the terminal state it already had. */
  async mark(workflowId: string, index: number, state: 'STARTED' | 'RETRY', envelope = ''): Promise<TaskState | null> {
    const keys = this.keys(workflowId);
    const [status, ended] = await this.redis.mark(keys.state, keys.result, index, state, envelope);
    return checkStatus(status, workflowId, `mark a task ${state}`) === ScriptStatus.Recorded ? null : (ended as TaskState);
  }

  /**
   * Revokes nodes and everything downstream of them (`'all'`: every unfinished node of the
   * workflow). Returns the indices revoked now.
   */
  async revoke(workflowId: string, nodes: readonly number[] | 'all', envelope: string): Promise<number[]> {
    const keys = this.keys(workflowId);
    const list = nodes === 'all' ? [] : nodes;
    return this.redis.revoke(...this.keyList(keys), envelope, this.ttl, keys.events, nodes === 'all' ? 'all' : '', ...list);
  }

  /** Takes a start slot for a rate-limited task: 0 when it may start now, else ms to wait. */
  async rateLimit(task: string, intervalMs: number): Promise<number> {
    return this.redis.rate(rateKey(this.prefix, task), intervalMs);
  }

  /**
   * Released nodes whose jobs may not be enqueued yet: the whole outbox, or only those of `indices`
   * still in it (what a release job enqueues).
   */
  async outbox(workflowId: string, indices: readonly number[] = []): Promise<readonly Released[]> {
    const reply = await this.redis.outbox(...this.keyList(this.keys(workflowId)), ...indices);
    return parseRelease(reply, workflowId, 'read the outbox').released;
  }

  /**
   * The workflows whose outbox holds a node, with how many it holds, a page at a time: one stretch
   * of a scan of the one server or every master that resumes at `cursors` (see `scanStretch`; a
   * workflow may come twice). One SCARD per workflow: an outbox holding only its sentinel has
   * nothing waiting.
   */
  async *withOutboxes(cursors: ScanCursors, calls: number, count?: number): AsyncGenerator<{ id: string; released: number }[], void, undefined> {
    const { pattern, idOf } = workflowKeyScan(this.prefix, 'outbox');
    for await (const keys of scanStretch(this.redis, pattern, cursors, calls, count)) {
      const sizes = (await callEach(this.redis, keys.map((key) => ['SCARD', key]))) as number[];
      const page: { id: string; released: number }[] = [];
      keys.forEach((key, k) => {
        const id = sizes[k]! > 1 ? idOf(key) : undefined;
        if (id !== undefined) page.push({ id, released: sizes[k]! - 1 });
      });
      if (page.length > 0) yield page;
    }
  }

  /**
   * Takes the app's outbox-sweeping turn for `ms` (see outbox-sweeper.ts). Null while another's
   * lasts; else where the last pass left off (nothing when none did in the last day, or what it
   * left is unreadable).
   */
  async takeSweepTurn(holder: string, ms: number): Promise<SweepProgress | null> {
    const keys = outboxSweepKeys(this.prefix);
    if ((await this.redis.set(keys.turn, holder, 'PX', ms, 'NX')) !== 'OK') return null;
    return readSweepProgress(await this.redis.get(keys.progress));
  }

  /** Records where a pass left off, for the next one (kept a day). */
  async endSweepTurn(progress: SweepProgress): Promise<void> {
    await this.redis.set(outboxSweepKeys(this.prefix).progress, JSON.stringify(progress), 'EX', 86_400);
  }

  /** Writes down release jobs sent for a workflow (see dispatch.ts), kept as long as its results. */
  async recordReleaseJobs(workflowId: string, jobs: readonly ReleaseJobRef[]): Promise<void> {
    if (jobs.length === 0) return;
    const key = releaseJobsKey(this.prefix, workflowId);
    const pipeline = this.redis.pipeline().sadd(key, ...jobs.map(({ queue, id }) => `${queue} ${id}`));
    if (this.ttl > 0) pipeline.expire(key, this.ttl);
    await pipeline.exec();
  }

  /** The release jobs sent for a workflow, as {@link recordReleaseJobs} wrote them down. */
  async releaseJobs(workflowId: string): Promise<ReleaseJobRef[]> {
    const members = await this.redis.smembers(releaseJobsKey(this.prefix, workflowId));
    return members.map((member) => {
      const at = member.indexOf(' ');
      return { queue: member.slice(0, at), id: member.slice(at + 1) };
    });
  }

  /**
   * For each workflow, the indices of the nodes in its outbox (released, not ended): all of them,
   * or `count` picked at random (SRANDMEMBER, so a huge outbox is not read whole). One request on
   * one server.
   */
  async outboxIndicesOf(picks: readonly { readonly id: string; readonly count?: number | undefined }[]): Promise<number[][]> {
    const replies = (await callEach(
      this.redis,
      picks.map(({ id, count }) => (count === undefined ? ['SMEMBERS', this.keys(id).outbox] : ['SRANDMEMBER', this.keys(id).outbox, count + 1])),
    )) as string[][];
    return replies.map((members, k) => {
      const indices = members.filter((member) => member !== SENTINEL).map(Number);
      const count = picks[k]!.count;
      return count === undefined ? indices : indices.slice(0, count);
    });
  }

  /** For each workflow, the specs of some of its nodes ({@link specs} for many workflows; one request on one server). */
  async specsOf(reads: readonly { readonly id: string; readonly indices: readonly number[] }[]): Promise<(NodeSpec | null)[][]> {
    const calls: RedisCall[] = [];
    for (const { id, indices } of reads) {
      for (let from = 0; from < indices.length; from += READ_SLICE) calls.push(['HMGET', this.keys(id).graph, ...indices.slice(from, from + READ_SLICE).map((i) => `n:${i}`)]);
    }
    const values = ((await callEach(this.redis, calls)) as (string | null)[][]).flat();
    let at = 0;
    return reads.map(({ indices }) => indices.map(() => values[at++]!).map((value) => (value === null ? null : decodeSpec(value))));
  }

  /** Which of these workflows exist. */
  async existing(workflowIds: readonly string[]): Promise<boolean[]> {
    const found = (await callEach(this.redis, workflowIds.map((id) => ['EXISTS', this.keys(id).graph]))) as number[];
    return found.map((n) => n === 1);
  }

  /** The workflow's meta, or null when it does not exist (never applied, or expired). */
  async meta(workflowId: string): Promise<WorkflowMeta | null> {
    const text = await this.redis.hget(this.keys(workflowId).graph, 'meta');
    return text === null ? null : parseMeta(text, workflowId);
  }

  /**
   * Where a result id may live, most likely first: its pointer (a user-chosen id), the workflow its
   * shape derives from (`<workflow>.<n>`), or a workflow of its own. The caller takes the first
   * whose workflow exists.
   */
  async locate(id: string): Promise<{ workflowId: string; ref: ResultIndex | null }[]> {
    const pointer = await this.redis.get(pointerKey(this.prefix, id));
    if (pointer !== null) {
      const [workflowId, ref] = pointer.split(' ') as [string, string];
      const at = Number(ref.slice(1));
      return [{ workflowId, ref: ref.startsWith('g') ? { g: at } : { n: at } }];
    }
    const derived = derivedLocation(id);
    return [...(derived === null ? [] : [derived]), { workflowId: id, ref: null }];
  }

  /** The specs of some nodes (to find their queues). */
  async specs(workflowId: string, indices: readonly number[]): Promise<(NodeSpec | null)[]> {
    return (await this.specsOf([{ id: workflowId, indices }]))[0]!;
  }

  /**
   * How the given nodes are linked, as the plan stored it: each node's successors, error
   * callbacks and input nodes (what `advance`, `fail` and the released inputs follow).
   */
  async links(workflowId: string, indices: readonly number[]): Promise<NodeLinks[]> {
    const out: NodeLinks[] = [];
    const key = this.keys(workflowId).graph;
    for (let from = 0; from < indices.length; from += READ_SLICE / 4) {
      const slice = indices.slice(from, from + READ_SLICE / 4);
      const values = await this.redis.hmget(key, ...slice.flatMap((i) => [`s:${i}`, `e:${i}`, `a:${i}`]));
      slice.forEach((_, k) => {
        out.push({ successors: csv(values[3 * k]), errbacks: csv(values[3 * k + 1]), inputs: csv(values[3 * k + 2]) });
      });
    }
    return out;
  }

  /** States of the given nodes (PENDING when nothing is stored). */
  async states(workflowId: string, indices: readonly number[]): Promise<TaskState[]> {
    return this.fieldsOf(this.keys(workflowId).state, indices, (value) => (value ?? 'PENDING') as TaskState);
  }

  /** Stored envelopes of the given nodes (null when nothing is stored). */
  async envelopes(workflowId: string, indices: readonly number[]): Promise<(Envelope | null)[]> {
    return this.fieldsOf(this.keys(workflowId).result, indices, (value) => (value === null ? null : decodeEnvelope(value)));
  }

  /**
   * A node's state and stored envelope, read together and atomically: a waiter's read after an
   * announcement, so the value comes with the state that says it is final. The reads made in the
   * same moment go to Redis in one call (`outcome-n.lua`): on one Redis server those of every
   * workflow, on a cluster those of one workflow, whose keys share a slot.
   */
  outcome(workflowId: string, index: number): Promise<[TaskState, Envelope | null]> {
    return this.outcomes.add(this.batchKey(workflowId), [workflowId, index]);
  }

  private readonly outcomes = new TickBatcher<OutcomeRead, OutcomeReply | Error, [TaskState, Envelope | null]>(
    (_slot, reads) => sharedCall(reads, (own) => this.outcomeScript(own)),
    (_read, reply) => {
      if (reply instanceof Error) throw reply;
      const [state, envelope] = reply;
      return [(state ?? 'PENDING') as TaskState, envelope === null ? null : decodeEnvelope(envelope)];
    },
    OUTCOMES_PER_CALL,
  );

  /** One `outcome-n.lua` call: each node's state and result hash, then its index. */
  private outcomeScript(reads: readonly OutcomeRead[]): Promise<OutcomeReply[]> {
    const keys: string[] = [];
    for (const [workflowId] of reads) {
      const { state, result } = this.keys(workflowId);
      keys.push(state, result);
    }
    return this.redis.outcome(keys.length, ...keys, ...reads.map(([, index]) => index));
  }

  /** How many times each node was released (the crash tests check every count is 1). */
  async releaseCounts(workflowId: string): Promise<Record<string, number>> {
    const raw = await this.redis.hgetall(this.keys(workflowId).released);
    return Object.fromEntries(Object.entries(raw).filter(([key]) => key !== SENTINEL).map(([key, value]) => [key, Number(value)]));
  }

  /** Reads nodes' fields of a hash, one HMGET per {@link READ_SLICE}, decoding each as it comes. */
  private async fieldsOf<T>(key: string, indices: readonly number[], decode: (value: string | null) => T): Promise<T[]> {
    const out: T[] = [];
    for (let from = 0; from < indices.length; from += READ_SLICE) {
      const values = await this.redis.hmget(key, ...indices.slice(from, from + READ_SLICE).map(String));
      for (const value of values) out.push(decode(value));
    }
    return out;
  }

  private keyList(keys: WorkflowKeys): [string, string, string, string, string, string] {
    return [keys.graph, keys.state, keys.result, keys.deps, keys.outbox, keys.released];
  }
}

function csv(text: string | null | undefined): number[] {
  return text === null || text === undefined || text === '' ? [] : text.split(',').map(Number);
}

/** `WAIT <replicas> <timeout>` after each write that records an outcome (see `waitForReplicas` in app.ts). */
export interface ReplicaWait {
  readonly replicas: number;
  /** Milliseconds WAIT may block; then the write stands, acknowledged by fewer replicas. */
  readonly timeout: number;
}

async function execOrThrow(pipeline: ScriptPipeline): Promise<[Error | null, unknown][]> {
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.find(([error]) => error !== null);
  if (failed) throw failed[0]!;
  return replies;
}

/**
 * Sends `items`, each naming its workflow first, in one call. Should Redis refuse the call with an
 * error of its own (a key of one workflow holding the wrong type), each workflow's items go again
 * alone, so that a broken workflow fails only its own: its items get the error, the others their
 * replies. The calls must be safe to send twice.
 */
async function sharedCall<TItem extends readonly [workflowId: string, ...rest: unknown[]], TReply>(
  items: readonly TItem[],
  send: (items: readonly TItem[]) => Promise<readonly TReply[]>,
): Promise<readonly (TReply | Error)[]> {
  try {
    return await send(items);
  } catch (error) {
    const workflows = new Set(items.map(([workflowId]) => workflowId));
    if (workflows.size === 1 || !(error instanceof ReplyError)) throw error;
    const replies: (TReply | Error)[] = [];
    await Promise.all(
      [...workflows].map(async (workflowId) => {
        const own = items.flatMap((item, k) => (item[0] === workflowId ? [k] : []));
        try {
          const ownReplies = await send(own.map((k) => items[k]!));
          own.forEach((k, j) => (replies[k] = ownReplies[j]!));
        } catch (ownError) {
          for (const k of own) replies[k] = ownError instanceof Error ? ownError : new Error(String(ownError));
        }
      }),
    );
    return replies;
  }
}

function parseRelease(reply: ReleaseReply, workflowId: string, what: string): Recorded {
  const [code, ...rest] = reply;
  const status = checkStatus(code, workflowId, what);
  if (rest[0] === '#') return { status, released: [], releasedIndices: rest.slice(1).map(Number) };
  const released: Released[] = [];
  let at = 0;
  while (at < rest.length) {
    const index = Number(rest[at]);
    const specText = rest[at + 1];
    const count = Number(rest[at + 2]);
    if (typeof specText !== 'string') throw new InvalidJobError(`workflow node ${index} has no stored spec; its workflow expired or is corrupt`);
    const inputs = rest.slice(at + 3, at + 3 + count).map((text) => {
      if (typeof text !== 'string') return null;
      const envelope = decodeEnvelope(text);
      return envelope.state === 'SUCCESS' ? envelope.value : null;
    });
    released.push({ index, spec: decodeSpec(specText), inputs });
    at += 3 + count;
  }
  return { status, released };
}

/** A workflow's stored meta; the plan is trusted data (only `create` writes it), so this checks its frame only. */
function parseMeta(text: string, workflowId: string): WorkflowMeta {
  let meta: Partial<WorkflowMeta> | null = null;
  try {
    meta = JSON.parse(text) as Partial<WorkflowMeta> | null;
  } catch {
    // reported below
  }
  if (meta === null || typeof meta !== 'object' || meta.v !== 1 || !Array.isArray(meta.nodes) || !Array.isArray(meta.groups)) {
    throw new InvalidJobError(`the stored plan of workflow ${workflowId} was not written by this version of Celeriac`);
  }
  return meta as WorkflowMeta;
}
