/**
 * The app: one Redis connection, a task registry, and the entry points to send work
 * (`apply`, `task.delay`), run it (`worker`) and observe it (`result`, `revoke`). It wires the
 * runtime's parts together; each part lives in a module of its own.
 */
import {
  compile,
  defineTask,
  isReservedTaskName,
  RESERVED_TASK_PREFIX,
  parseCanvas,
  partial,
  signature,
  withOptions,
  CanvasError,
  type Canvas,
  type CompiledGraph,
  type InferResult,
  type AnyRes,
  type AsyncRes,
  type GroupRes,
  type Lineage,
  type LineageOf,
  type Json,
  type Kwargs,
} from '@celeriac/canvas';
import type { RedisOptions } from 'ioredis';
import { within } from './bounded.js';
import { builtinTasks } from './builtins.js';
import {
  addressOf,
  checkRedisInput,
  ConnectionWatch,
  describeRedisInput,
  duplicateClient,
  isCluster,
  isConnectionError,
  openConnection,
  retryRedirected,
  type RedisClient,
  type RedisInput,
} from './connection.js';
import { createControlPlane, type ControlPlane, type RemoteControl, type TaskEventReader } from './control-plane/index.js';
import { eventsChannelReader, queuePrefix } from './keys.js';
import { Revoker, type RevokeOptions } from './control.js';
import { Dispatcher, releaseOf, queueOf, type Release } from './dispatch.js';
import { ClosedError, InvalidArgumentError } from './errors.js';
import { withScripts } from './lua.js';
import { DEFAULT_MAX_PAYLOAD } from './envelope.js';
import { consoleLogger, RateLimitedLog, type Logger } from './logger.js';
import { locate } from './lookup.js';
import { incomingValue } from './job-data.js';
import { freeze, inputIndices, type RunOptions, type WorkflowPlan } from './plan.js';
import { purgeQueues, queueCounts, queueNames, type QueueCounts } from './queues.js';
import { Replacer } from './replace.js';
import { WorkflowView, type AnyResult, type AsyncResult, type GroupResult, type ResultBackend } from './result.js';
import { Settler } from './settle.js';
import { readSnapshot, watchWorkflow, type NodeChange, type SnapshotOptions, type WorkflowSnapshot } from './snapshot.js';
import { WorkflowStore, type Released, type ReplicaWait } from './store.js';
import { listWorkflows, type WorkflowList, type WorkflowListOptions } from './workflow-list.js';
import { ChannelSubscriber } from './subscriber.js';
import { HeardSinceApply } from './heard.js';
import { Launcher } from './launcher.js';
import { LocalOutcomes } from './local-outcomes.js';
import {
  rateInterval,
  toTaskOptions,
  type AppTask,
  type ApplyOptions,
  type CallOptions,
  type RegisteredTask,
  type TaskContext,
  type TaskDefinitionOptions,
} from './task.js';
import { Waiters } from './wait.js';
import { Worker, type WorkerOptions } from './worker.js';

/** How waiting results hear of their announcements: see {@link AppOptions.resultSubscription}. */
export type ResultSubscription = 'app' | 'result';

/** Options of {@link createApp}. An option given as `undefined` counts as not given. */
export interface AppOptions {
  /** App name (Celery's `-A proj`), shown by workers and the monitor. Default `"celeriac"`. */
  readonly name?: string | undefined;
  /**
   * Redis to use: a `redis://`/`rediss://` URL, ioredis options, or an ioredis `Redis`; or a Redis
   * Cluster, as a `redis+cluster://host1:port1,host2:port2` (TLS: `rediss+cluster://`) URL, a
   * description `{ cluster: ['redis://host1:port1', …], ...clusterOptions }`, or an ioredis
   * `Cluster`. An instance stays yours: the app duplicates it for workers and subscriptions and
   * never closes it. Anything else is refused with `InvalidArgumentError`. Default
   * `redis://127.0.0.1:6379`.
   */
  readonly redis?: RedisInput | undefined;
  /** Prefix of every Redis key the app writes. Apps with different prefixes never see each other. Default `"celeriac"`. */
  readonly prefix?: string | undefined;
  /** Seconds that results and workflow state are kept; 0 keeps them forever. Default one day, as Celery. */
  readonly resultTtl?: number | undefined;
  /** Where tasks' lives (`info`) and problems (`warn`, `error`) are reported. Default: the console, `warn` and above. */
  readonly logger?: Logger | undefined;
  /**
   * Milliseconds `apply`, `get()` and the other calls wait for a Redis that is down before they
   * reject with `ConnectionError` naming it (workers wait for it without end). Default 10 000.
   */
  readonly unavailableTimeout?: number | undefined;
  /**
   * Bytes of JSON a task's arguments, or its result, may take; beyond it `apply` rejects (and a
   * task fails) with `PayloadTooLargeError`. Redis keeps both in memory for `resultTtl`. Default 16 MiB.
   */
  readonly maxPayloadSize?: number | undefined;
  /**
   * Durability against a master failover. Redis replicates asynchronously: a master that dies can
   * take the writes it acknowledged in its last moments with it, and on a cluster the recorded
   * result (the workflow's master) and its successors' jobs (their queues' masters) can be lost
   * independently — a step back to PENDING, or a successor never released. With this set, each
   * result or failure recorded, each workflow created and each batch of jobs enqueued is followed
   * by Redis's `WAIT <replicas> <timeout>` on the same node, so the next step starts only once that
   * many replicas hold it (or `timeout` ms passed: WAIT does not fail, it bounds the wait). It
   * costs a replication round trip per step boundary. Default: off.
   */
  readonly waitForReplicas?: { readonly replicas: number; readonly timeout?: number | undefined } | undefined;
  /**
   * How a waiting `get()` hears that its result is ready.
   *
   * - `'app'` (default): one pattern subscription (PSUBSCRIBE) carries the announcements of every
   *   workflow of the app, so a wait costs no SUBSCRIBE round trip. But while anything waits, the
   *   process receives every task's announcement of the whole app, as a BullMQ `QueueEvents`
   *   receives every event of its queue: each such process costs Redis about 1 µs per task of the
   *   app, and costs itself a few µs.
   * - `'result'`: each wait subscribes its own workflow's channel, as Celery's Redis result backend
   *   does: up to two round trips more per `get()` (the SUBSCRIBE, and a first read), but the
   *   process hears only what it waits for. Choose it when many processes wait (dozens of web
   *   servers) on an app that runs many tasks.
   */
  readonly resultSubscription?: ResultSubscription | undefined;
  /**
   * Further modules to import for the tasks they register (Celery's `include`): paths relative to
   * the app's own module, file URLs, or package names. The `celeriac` CLI (`-A`) and the processes
   * pool's children import them after the app module; a program that starts its own worker in the
   * async pool imports its task modules itself. Default none.
   *
   * @example
   * ```ts
   * export const app = createApp({ name: 'proj', include: ['./tasks/email.ts', './tasks/reports.ts'] });
   * ```
   */
  readonly include?: readonly (string | URL)[] | undefined;
}

/**
 * What `apply` returns for a canvas: the last result of its lineage (see `Lineage` in
 * `@celeriac/canvas`), whose `.parent` is the one before, and so on back to the first, whose
 * `.parent` is `null` — an `AsyncResult` for a task, a `GroupResult` for a group or chord header.
 * Where the canvas cannot tell (parsed JSON, an untyped step or a group of unknown size in a
 * chain), the result, or the parent from there on, is an `AnyResult`.
 *
 * @example
 * ```ts
 * const res = await app.apply(chain(add.s(2, 2), group(add.s(1), add.s(2)), tsum.s()));
 * // res: AsyncResult<number, GroupResult<[number, number], AsyncResult<number, null>>>
 * await res.parent.parent.get(); // 4
 * ```
 */
export type ResultFor<TCanvas> = Canvas extends TCanvas
  ? AnyResult
  : TCanvas extends unknown
    ? LineageResult<LineageOf<TCanvas>, InferResult<TCanvas>>
    : never;

/** The handle a lineage ends in; `AnyResult` when it is unknown, or empty (`apply` rejects an empty chain). */
type LineageResult<TLineage extends Lineage, TResult> = number extends TLineage['length']
  ? AnyResult<TResult>
  : TLineage extends readonly []
    ? AnyResult<TResult>
    : ParentChain<TLineage, null>;

/** The handle for the last entry of `TLineage`, the first entry's `.parent` being `TParent`. */
type ParentChain<TLineage extends readonly unknown[], TParent> = TLineage extends readonly [infer TEntry, ...infer TRest]
  ? ParentChain<TRest, HandleFor<TEntry, TParent>>
  : TParent;

/** The result handle for one lineage entry. */
type HandleFor<TEntry, TParent> =
  TEntry extends AsyncRes<infer TValue>
    ? AsyncResult<TValue, TParent>
    : TEntry extends GroupRes<infer TValue>
      ? GroupResult<TValue, TParent>
      : TEntry extends AnyRes<infer TValue>
        ? AnyResult<TValue>
        : never;

/** Options of `app.apply(canvas, options)`: partial args/kwargs for the first node(s) plus options. */
export interface AppApplyOptions extends CallOptions {
  /** Prepended to the args of the first executable node(s) (every member of a leading group). */
  readonly args?: readonly Json[] | undefined;
  /** Merged into the kwargs of the first executable node(s); these win. */
  readonly kwargs?: Kwargs | undefined;
}

/** Entry nodes take no predecessor results. */
const NO_INPUTS: readonly unknown[] = Object.freeze([]);

/**
 * A Celeriac application. Create it with {@link createApp}.
 *
 * @example
 * ```ts
 * const app = createApp({ redis: process.env.REDIS_URL });
 * const add = app.task('add', (x: number, y: number) => x + y);
 * const worker = app.worker({ concurrency: 4 });
 * const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
 * await res.get({ timeout: 10_000 }); // 16
 * await worker.close();
 * await app.close();
 * ```
 */
export class App {
  readonly name: string;
  private readonly registry = new Map<string, RegisteredTask>();
  private readonly workers = new Set<Worker>();
  /** Applies not yet answered: `close()` lets them finish first. */
  private readonly applying = new Set<Promise<unknown>>();
  private readonly ttl: number;
  private readonly maxPayloadSize: number;
  private readonly replicaWait: ReplicaWait | undefined;
  private readonly resultSubscription: ResultSubscription;
  private unavailableTimeout: number;
  private logger: Logger;
  /** For problems that repeat, such as malformed messages from a hostile publisher: one line a minute per kind. */
  private throttledLog: RateLimitedLog;
  /** Modules to import for their tasks (see `AppOptions.include`). */
  readonly include: readonly (string | URL)[];
  private settings: { readonly redis: RedisInput | undefined; readonly prefix: string };
  private connected: Connected | undefined;
  private closed = false;

  /** @internal use {@link createApp}. */
  constructor(options: AppOptions = {}) {
    this.name = options.name ?? 'celeriac';
    this.logger = options.logger ?? consoleLogger('warn');
    this.throttledLog = new RateLimitedLog(this.logger);
    this.ttl = options.resultTtl ?? 86_400;
    if (!Number.isInteger(this.ttl) || this.ttl < 0) {
      throw new InvalidArgumentError('resultTtl', `expected a whole number of seconds >= 0 (0 keeps results forever), got ${String(this.ttl)}`);
    }
    this.maxPayloadSize = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD;
    if (!Number.isSafeInteger(this.maxPayloadSize) || this.maxPayloadSize < 1) {
      throw new InvalidArgumentError('maxPayloadSize', `expected a whole number of bytes >= 1, got ${String(options.maxPayloadSize)}`);
    }
    this.replicaWait = replicaWaitOf(options.waitForReplicas);
    this.resultSubscription = checkResultSubscription(options.resultSubscription);
    this.unavailableTimeout = checkUnavailableTimeout(options.unavailableTimeout ?? 10_000);
    checkRedisInput(options.redis);
    this.include = checkInclude(options.include);
    this.settings = { redis: options.redis, prefix: checkPrefix(options.prefix ?? 'celeriac') };
    for (const builtin of builtinTasks((name) => this.registry.get(name), () => this.registered)) this.registry.set(builtin.name, builtin);
  }

  /**
   * Where the app's Redis is, for banners and messages (`redis://host:port/db`, never a password),
   * or `undefined` when the app was given no `redis` option and so uses `redis://127.0.0.1:6379`.
   */
  get broker(): string | undefined {
    return describeRedisInput(this.settings.redis);
  }

  /** Prefix of every Redis key the app writes. */
  get prefix(): string {
    return this.settings.prefix;
  }

  /** The app's own Redis connection (opened on first use). */
  get redis(): RedisClient {
    return this.parts.redis;
  }

  /**
   * Remote control and inspection of the app's workers, in any process (Celery's `app.control`):
   * `workers()`, `inspect({ destination, timeout }).registered()` and the other queries,
   * `shutdown`, `rateLimit`, `timeLimit`, `addConsumer`, `cancelConsumer`, `revoke`, `poolGrow`,
   * `poolShrink`.
   */
  get control(): RemoteControl {
    return this.parts.plane.control;
  }

  /** Task and worker events (Celery's `-E`): `history({ limit, before })` pages and a live `tail()`. */
  get events(): TaskEventReader {
    return this.parts.plane.events;
  }

  /**
   * Points the app at another Redis or prefix, or another logger or `unavailableTimeout`, before
   * it is used — what the CLI's `--broker`, `--prefix` and `--loglevel` do to an app module that
   * names its own. Throws `InvalidArgumentError` once the app has connected (it has sent work,
   * started a worker, or been asked anything).
   */
  configure(options: {
    readonly redis?: RedisInput | undefined;
    readonly prefix?: string | undefined;
    readonly logger?: Logger | undefined;
    readonly unavailableTimeout?: number | undefined;
  }): void {
    this.assertOpen();
    if (this.connected !== undefined) {
      throw new InvalidArgumentError('configure', `app "${this.name}" is already connected to Redis; configure it before using it`);
    }
    if (options.redis !== undefined) checkRedisInput(options.redis);
    if (options.unavailableTimeout !== undefined) this.unavailableTimeout = checkUnavailableTimeout(options.unavailableTimeout);
    if (options.logger !== undefined) {
      this.logger = options.logger;
      this.throttledLog = new RateLimitedLog(options.logger);
    }
    this.settings = {
      redis: options.redis ?? this.settings.redis,
      prefix: options.prefix === undefined ? this.settings.prefix : checkPrefix(options.prefix),
    };
  }

  /**
   * Registers a task handler and returns its typed reference. The handler receives the task's
   * positional args; with `{ bind: true }` it first receives a {@link TaskContext}.
   *
   * @example
   * ```ts
   * const add = app.task('add', (x: number, y: number) => x + y);
   * const who = app.task('who', (ctx: TaskContext) => ctx.id, { bind: true });
   * ```
   */
  task<TArgs extends unknown[], TResult>(
    name: string,
    handler: (ctx: TaskContext, ...args: TArgs) => TResult | Promise<TResult>,
    options: TaskDefinitionOptions & { readonly bind: true },
  ): AppTask<TArgs, TResult>;
  task<TArgs extends unknown[], TResult>(
    name: string,
    handler: (...args: TArgs) => TResult | Promise<TResult>,
    options?: TaskDefinitionOptions & { readonly bind?: false },
  ): AppTask<TArgs, TResult>;
  task(name: string, handler: (...args: never[]) => unknown, options: TaskDefinitionOptions = {}): AppTask<Json[], unknown> {
    this.assertOpen();
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('task', 'expected a non-empty task name');
    if (isReservedTaskName(name)) {
      throw new InvalidArgumentError('task', `task names starting with "${RESERVED_TASK_PREFIX}" are reserved for Celeriac's own jobs; rename "${name}"`);
    }
    if (typeof handler !== 'function') throw new InvalidArgumentError('handler', `expected a function for task "${name}"`);
    const { bind = false, rateLimit, autoretryFor, ...defaults } = options;
    // Validates the default options with the same rules as any signature's options.
    parseCanvas(signature(name, [], {}, defaults));
    this.registry.set(name, {
      name,
      handler,
      bind,
      defaults: defaults as RunOptions,
      ...(rateLimit === undefined ? {} : { rateInterval: rateInterval(rateLimit, name) }),
      ...(autoretryFor === undefined ? {} : { autoretryFor }),
    });
    const ref = defineTask<Json[], unknown>(name);
    return {
      ...ref,
      // async, so invalid arguments reject the returned promise instead of throwing synchronously;
      // returned, not awaited, so nothing of the call is held while Redis answers. A lone task
      // has no parent.
      delay: async (...args: Json[]) => this.apply(signature(name, args)) as Promise<AsyncResult<unknown, null>>,
      applyAsync: async ({ args = [], kwargs = {}, ...rest }: ApplyOptions = {}) =>
        this.apply(signature(name, args, kwargs), rest) as Promise<AsyncResult<unknown, null>>,
    };
  }

  /** Names of the tasks registered in this process (Celery's own `celery.*` built-ins left out). */
  get registered(): string[] {
    return [...this.registry.keys()].filter((name) => !name.startsWith('celery.')).sort();
  }

  /** Starts a worker consuming `queues` (default `["default"]`) with this app's tasks. */
  worker(options: WorkerOptions = {}): Worker {
    this.assertOpen();
    this.parts.local.activate();
    const worker = new Worker(
      {
        app: this.name,
        store: this.parts.store,
        settler: this.parts.settler,
        dispatcher: this.parts.dispatcher,
        replacer: this.parts.replacer,
        registry: this.registry,
        logger: this.logger,
        plane: this.parts.plane,
        prefix: this.prefix,
        connect: () => this.duplicate({ maxRetriesPerRequest: null }),
        translate: (error) => this.parts.watch.translate(error),
      },
      options,
    );
    this.workers.add(worker);
    return worker;
  }

  /**
   * Sends a canvas to run. Every result id is assigned before anything runs, so the returned
   * result's `.parent` chain is complete at once. Rejects with `CanvasError` (naming the JSON path)
   * when the canvas or its args are not valid JSON data.
   *
   * @example
   * ```ts
   * const res = await app.apply(chain(add.si(2, 2), add.si(4, 4), add.si(8, 8)));
   * await res.get(); // 16
   * await res.parent.get(); // 8
   * ```
   */
  async apply<TCanvas extends Canvas>(canvas: TCanvas, options: AppApplyOptions = {}): Promise<ResultFor<TCanvas>> {
    this.assertOpen();
    const { args, kwargs, ...rest } = options;
    let prepared = parseCanvas(canvas);
    if ((args !== undefined && args.length > 0) || kwargs !== undefined) prepared = partial(prepared, args ?? [], kwargs ?? {});
    const callOptions = definedOnly(rest);
    if (callOptions !== undefined) prepared = withOptions(prepared, toTaskOptions(callOptions));
    if (prepared !== canvas) prepared = parseCanvas(prepared);
    const graph = compile(prepared);
    const applied = this.guard(() => this.launch(graph));
    // Until it is answered, `close()` waits for it (a `delay` whose promise nobody awaits included).
    this.applying.add(applied);
    const done = (): void => void this.applying.delete(applied);
    applied.then(done, done);
    return applied as Promise<ResultFor<TCanvas>>;
  }

  /**
   * Runs a compiled canvas: writes its plan once and enqueues its first tasks. Applying the same
   * ids again (a retried apply with the same taskId) enqueues whatever the workflow's outbox still holds.
   */
  private async launch(graph: CompiledGraph): Promise<AnyResult> {
    const plan = freeze(graph, (task) => this.registry.get(task)?.defaults);
    if (plan === null) throw new CanvasError('', 'the canvas is an empty chain: there is nothing to run');
    // Taken now: `close()` lets an apply in flight finish, and `parts` refuses a closed app.
    const { store, dispatcher, launcher, heard, backend } = this.parts;
    const { id } = plan.meta;
    // Before anything is written, so that every announcement of the workflow is heard (heard.ts);
    // only for a generated id, which no workflow can have yet: one with a user's taskId may exist,
    // and may have ended, already.
    if (!plan.idChosen) heard.follow(id);
    // A small plan with a generated id goes in one round trip, its entries behind it.
    if (launcher !== undefined && !plan.idChosen && store.replicaWait === undefined && store.fitsWhole(plan)) return this.launchWhole(launcher, plan);
    // A creation cut by a cluster failover never ran its last step, `create`: sending it again is safe.
    const created = await retryRedirected(() => store.create(plan));
    await dispatcher.send(id, created ? entriesOf(plan) : releaseOf(await store.outbox(id)), null);
    const view = new WorkflowView(backend, created ? plan.meta : ((await store.meta(id)) ?? plan.meta));
    return view.resolve(view.meta.result);
  }

  /**
   * Writes a small plan with a generated id and adds its entry jobs behind it, without waiting for
   * Redis in between (launcher.ts): the apply costs one round trip, as a bare BullMQ `add` does,
   * and the plans of the applies made in the same moment share one request. A generated id is new,
   * so the write cannot find another workflow whose entries must not be added again. A crash in
   * between leaves what a crash after `create` always left: the entries in the outbox. (A user's
   * own `taskId`, a retried apply, waits for the write to know which case it is: `launch`.)
   *
   * Not async, and nothing waiting for Redis holds the plan: only its meta and its entry nodes
   * are kept until the reply, so a burst of applies carries less through each garbage collection
   * (1 000 delays in flight held 11.6 KB of heap each when the plan stayed; 7.7 KB then, BullMQ's
   * adds 4.5 KB; bench/README "Round two, continued (10)").
   */
  private launchWhole(launcher: Launcher, plan: WorkflowPlan): Promise<AnyResult> {
    const { backend } = this.parts;
    const { meta } = plan;
    // A loop, not a closure: the reply's callback below shares this function's closure context.
    const entries: Released[] = [];
    for (const index of plan.entries) entries.push({ index, spec: plan.spec(index), inputs: NO_INPUTS });
    return launcher.launch(plan, entries).then(() => new WorkflowView(backend, meta).resolve(meta.result));
  }

  /**
   * Rebuilds a result from its id — in any process — with its `.parent` chain and children.
   * Rejects with `ResultNotFoundError` when no workflow knows the id (never applied, or expired).
   */
  async result<TResult = unknown>(id: string): Promise<AnyResult<TResult>> {
    const { meta, ref } = await this.guard(() => locate(this.parts.store, id));
    return new WorkflowView(this.parts.backend, meta).resolve(ref) as AnyResult<TResult>;
  }

  /**
   * The workflow a result id belongs to, read from Redis in any process: every node's state,
   * result or error, links and group progress — what the monitor and `celeriac result --tree`
   * draw. Rejects with `ResultNotFoundError` when no workflow knows the id.
   *
   * @example
   * ```ts
   * const snapshot = await app.workflow(res.id);
   * snapshot.nodes.map((node) => `${node.task} ${node.state}`); // ['add SUCCESS', 'add STARTED', …]
   * ```
   */
  async workflow(id: string, options: SnapshotOptions = {}): Promise<WorkflowSnapshot> {
    return this.guard(async () => readSnapshot(this.parts.store, (await locate(this.parts.store, id)).meta, options));
  }

  /**
   * The workflows Redis holds, newest first, each with its state and how many of its tasks are in
   * each state — read from the store, so it works whether or not workers send task events (the
   * monitor lists these when they do not). It scans every workflow's key, so its cost grows with
   * how many Redis holds: meant for an operator's page, not a hot path.
   *
   * @example
   * ```ts
   * const { workflows, next } = await app.workflows({ limit: 20 });
   * workflows.map((w) => `${w.id} ${w.task} ${w.state}`);
   * if (next !== null) await app.workflows({ limit: 20, before: next }); // the older ones
   * ```
   */
  async workflows(options: WorkflowListOptions = {}): Promise<WorkflowList> {
    this.assertOpen();
    return listWorkflows(this.redis, this.parts.store, options);
  }

  /**
   * Follows the workflow a result id belongs to: yields each node's state as it changes (the
   * current states first), until every node has ended or `signal` aborts.
   *
   * @example
   * ```ts
   * for await (const change of app.watch(res.id)) console.log(change.id, change.state);
   * ```
   */
  async *watch(id: string, options: { signal?: AbortSignal | undefined } = {}): AsyncGenerator<NodeChange, void, undefined> {
    const { meta } = await this.guard(() => locate(this.parts.store, id));
    try {
      yield* watchWorkflow(this.parts.store, this.parts.subscriber, this.throttledLog, meta, options.signal);
    } catch (error) {
      throw this.parts.watch.translate(error);
    }
  }

  /**
   * Sends a task again, as a new task of its own, with the arguments it ran with (the incoming
   * value it received included) and the same kwargs and options — the monitor's "retry" of a
   * failed task. Its original result is left as it was. Rejects with `ResultNotFoundError` for an
   * unknown id, and `InvalidArgumentError` for a group's id or a task whose input is not stored.
   */
  async rerun<TResult = unknown>(id: string): Promise<AsyncResult<TResult>> {
    const { store } = this.parts;
    const { meta, ref } = await this.guard(() => locate(store, id));
    if (!('n' in ref)) throw new InvalidArgumentError('id', `"${id}" is a group's id; rerun its members one by one`);
    const [spec] = await this.guard(() => store.specs(meta.id, [ref.n]));
    if (spec === null || spec === undefined) throw new InvalidArgumentError('id', `task "${id}" has no stored plan`);
    let args = spec.args;
    if (spec.input !== null) {
      const input = spec.input;
      const envelopes = await this.guard(() => store.envelopes(meta.id, inputIndices(input)));
      if (envelopes.some((envelope) => envelope?.state !== 'SUCCESS')) {
        throw new InvalidArgumentError('id', `task "${id}" never received its input (a task before it did not succeed), so it cannot run again`);
      }
      const values = envelopes.map((envelope) => (envelope?.state === 'SUCCESS' ? envelope.value : null));
      // An error callback's incoming value is the failed task's id, stored in the plan itself.
      args = [incomingValue(spec.input, spec, values), ...spec.args];
    }
    const { queue, priority, maxRetries, backoff, timeLimit, softTimeLimit, ignoreResult } = spec.options;
    const options = { queue, priority, maxRetries, backoff, timeLimit, softTimeLimit, ignoreResult };
    const again = signature(spec.task, args, spec.kwargs, Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)));
    return (await this.apply(again)) as AsyncResult<TResult>;
  }

  /**
   * The app's queues — every queue a job was ever sent to — with how many jobs each holds by
   * state (waiting, active, delayed, prioritized, failed, completed).
   */
  async queues(): Promise<QueueCounts[]> {
    return this.guard(async () => queueCounts(this.parts.dispatcher, await queueNames(this.redis, this.prefix)));
  }

  /**
   * Removes the jobs that have not started from `queues` (default: every queue of the app), as
   * `celery purge` does, and revokes their tasks so that no waiter hangs. Running jobs are left
   * alone. Resolves to the number of tasks purged.
   */
  async purge(queues?: readonly string[]): Promise<number> {
    return this.guard(async () =>
      purgeQueues(this.parts.dispatcher, this.parts.settler, queues ?? (await queueNames(this.redis, this.prefix))),
    );
  }

  /**
   * Revokes a task, group or workflow by id, in any process: what has not run yet never runs
   * (state REVOKED, `get()` rejects with RevokedError), including everything downstream of it.
   * The id `apply` returned revokes every unfinished task of the workflow. With `terminate`,
   * running tasks' AbortSignals fire. Revocations live in Redis, so they survive worker restarts.
   * Resolves to the ids of the tasks revoked.
   */
  async revoke(id: string, options: RevokeOptions = {}): Promise<string[]> {
    return this.guard(async () => {
      const { meta, ref } = await locate(this.parts.store, id);
      return this.parts.revoker.revoke(meta, ref, options);
    });
  }

  /**
   * Closes the app's workers (gracefully), queues and connections. Work applied before the call
   * is sent first, even a `delay` whose promise was not awaited.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The applies already made go out before anything closes: their plans may still be gathered
    // for the end of this turn (launcher.ts), their queues opening, their creation awaited.
    const applied = Promise.allSettled([...this.applying]);
    await Promise.all([...this.workers].map((worker) => worker.close()));
    const parts = this.connected;
    if (parts === undefined) return;
    // Each step is bounded: Redis may be gone, and then nothing would ever answer.
    await within(CLOSE_STEP_MS, applied);
    await within(CLOSE_STEP_MS, parts.dispatcher.close());
    parts.heard.close();
    parts.waiters?.close();
    await within(CLOSE_STEP_MS, parts.subscriber.close());
    if (parts.ownsRedis) {
      await within(CLOSE_STEP_MS, parts.redis.quit());
      parts.redis.disconnect();
    }
  }

  /**
   * @internal the store, for tests that check what the Lua scripts recorded; the task registry,
   * for the children of a processes pool (pool/child.ts), which run the app's handlers — without
   * connecting to Redis, which a child only does if a handler uses the app.
   */
  get internals(): { readonly store: WorkflowStore; readonly registry: ReadonlyMap<string, RegisteredTask> } {
    const parts = (): Connected => this.parts;
    return {
      get store() {
        return parts().store;
      },
      registry: this.registry,
    };
  }

  /**
   * Runs a Redis operation, turning what Redis or the connection failed with into the error a
   * user can act on (see ConnectionWatch): the cause of an outage, a refused certificate or
   * password, a missing ACL permission. Not async where it need not be: nothing waiting for Redis
   * then holds `run` and what it closes over (a burst of applies' graphs).
   */
  private guard<T>(run: () => Promise<T>): Promise<T> {
    let watch: ConnectionWatch;
    try {
      watch = this.parts.watch;
    } catch (error) {
      return Promise.reject(error); // the app is closed
    }
    if (watch.bounds) return this.guardBounded(run, watch);
    try {
      return run().catch((error: unknown) => {
        throw watch.translate(error);
      });
    } catch (error) {
      return Promise.reject(watch.translate(error));
    }
  }

  /** {@link guard} on a cluster, where a call may wait for as long as every node is down: the watch ends it (see boundCalls). */
  private async guardBounded<T>(run: () => Promise<T>, watch: ConnectionWatch): Promise<T> {
    let stop = (): void => {};
    const tooLong = new Promise<never>((_, reject) => {
      stop = watch.whenTooLong(reject);
    });
    try {
      return await Promise.race([run(), tooLong]);
    } catch (error) {
      throw watch.translate(error);
    } finally {
      stop();
    }
  }

  /** The parts that talk to Redis, made on first use (so `configure` can still change where). */
  private get parts(): Connected {
    this.assertOpen();
    return (this.connected ??= this.connect());
  }

  private connect(): Connected {
    const { client: redis, owned: ownsRedis } = openConnection(this.settings.redis, this.unavailableTimeout);
    const watch = new ConnectionWatch(addressOf(redis), this.prefix, this.logger);
    if (isCluster(redis)) watch.boundCalls(this.unavailableTimeout);
    watch.follow(redis, ownsRedis);
    const store = new WorkflowStore(withScripts(redis), this.prefix, this.ttl, this.maxPayloadSize, this.replicaWait);
    const cluster = isCluster(redis);
    const dispatcher = new Dispatcher(redis, (queue) => queuePrefix(this.prefix, queue, cluster), (error) => {
      // Lost connections are reported once per outage by the watch.
      if (!isConnectionError(error)) this.throttledLog.error('queue', `a queue reported: ${error.message}`, error);
    }, this.replicaWait, (workflowId, jobs) => store.recordReleaseJobs(workflowId, jobs));
    const local = new LocalOutcomes();
    const settler = new Settler(store, dispatcher, local);
    const subscriber = new ChannelSubscriber(redis, new RateLimitedLog(this.logger), watch);
    const plane = createControlPlane({ redis, subscriber, prefix: this.prefix, logger: this.logger });
    // Without the app's pattern, each wait subscribes its own channel, and nothing is heard before it.
    const eventsPattern = this.resultSubscription === 'app' ? store.eventsPattern : undefined;
    const workflowOf = eventsChannelReader(this.prefix);
    const heard = new HeardSinceApply(subscriber, eventsPattern, workflowOf);
    const parts = {
      heard,
      eventsPattern,
      waiters: eventsPattern === undefined ? undefined : new Waiters(subscriber, eventsPattern, workflowOf, this.throttledLog),
      local,
      redis,
      ownsRedis,
      // One Redis server runs the connection's commands in the order sent; a cluster spreads them over nodes.
      launcher: cluster ? undefined : new Launcher(store, dispatcher),
      watch,
      store,
      dispatcher,
      settler,
      subscriber,
      plane,
      revoker: new Revoker(store, settler, dispatcher, plane.control),
      replacer: new Replacer(store, settler, (graph) => this.launch(graph).then(() => {})),
    };
    return { ...parts, backend: this.resultBackend(parts) };
  }

  /** What results need from the app; made once, with the parts it hands out. */
  private resultBackend(parts: Omit<Connected, 'backend'>): ResultBackend {
    const { store, subscriber, revoker, heard, eventsPattern, waiters, local, redis, watch } = parts;
    return {
      store,
      subscriber,
      eventsPattern,
      waiters,
      local,
      heard: (workflowId) => heard.heard(workflowId),
      revoke: (meta, ref, options) => revoker.revoke(meta, ref, options),
      guard: (run) => this.guard(run),
      unavailable: (wait) => watch.unavailableFor(this.unavailableTimeout, wait),
      stopUnavailable: (wait) => watch.stopUnavailable(wait),
      log: this.throttledLog,
      recheckMs: isCluster(redis) ? CLUSTER_RECHECK_MS : undefined,
    };
  }

  private duplicate(overrides: Partial<RedisOptions> = {}): RedisClient {
    const connection = duplicateClient(this.redis, overrides);
    this.parts.watch.follow(connection, true);
    return connection;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`App "${this.name}"`);
  }
}

/** On a cluster, how often a waiting `get()` reads its states again without being told (see result.ts). */
const CLUSTER_RECHECK_MS = 2_000;

/** Milliseconds each step of closing an app may take. */
const CLOSE_STEP_MS = 2_000;

/** The parts of an app that talk to Redis. */
interface Connected {
  readonly redis: RedisClient;
  /** Whether the app opened `redis` (and so closes it). */
  readonly ownsRedis: boolean;
  readonly watch: ConnectionWatch;
  readonly store: WorkflowStore;
  readonly dispatcher: Dispatcher;
  readonly settler: Settler;
  readonly subscriber: ChannelSubscriber;
  /** What was heard about the workflows this app applied moments ago. */
  readonly heard: HeardSinceApply;
  /** The pattern that carries every workflow's announcements to waiters; undefined: each wait subscribes its own channel. */
  readonly eventsPattern: string | undefined;
  /** The waits riding `eventsPattern`, found by workflow. */
  readonly waiters: Waiters | undefined;
  /** Outcomes this app's workers record, handed to its waiters in memory. */
  readonly local: LocalOutcomes;
  /**
   * Applies small workflows with their adds behind their plans: only on one Redis server, which
   * runs the connection's commands in the order sent (the store and the dispatcher share it); a
   * cluster's nodes each keep their own order.
   */
  readonly launcher: Launcher | undefined;
  readonly plane: ControlPlane;
  readonly revoker: Revoker;
  readonly replacer: Replacer;
  /** What results need from the app, shared by every result it hands out. */
  readonly backend: ResultBackend;
}

/** `options` without its undefined values; undefined when none is left (a plain `delay`). */
function definedOnly(options: CallOptions): CallOptions | undefined {
  let defined: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(options)) if (value !== undefined) (defined ??= {})[key] = value;
  return defined as CallOptions | undefined;
}

/** Checks `waitForReplicas`; its timeout defaults to one second. */
function replicaWaitOf(given: AppOptions['waitForReplicas']): ReplicaWait | undefined {
  if (given === undefined) return undefined;
  const { replicas, timeout = 1_000 } = given;
  if (!Number.isSafeInteger(replicas) || replicas < 1) {
    throw new InvalidArgumentError('waitForReplicas.replicas', `expected a whole number >= 1, got ${String(replicas)}`);
  }
  if (!Number.isSafeInteger(timeout) || timeout < 1) {
    throw new InvalidArgumentError('waitForReplicas.timeout', `expected a whole number of milliseconds >= 1, got ${String(timeout)}`);
  }
  return { replicas, timeout };
}

/** `AppOptions.resultSubscription`, checked; `'app'` when not given. */
function checkResultSubscription(given: unknown): ResultSubscription {
  if (given === undefined || given === 'app' || given === 'result') return given ?? 'app';
  throw new InvalidArgumentError('resultSubscription', `expected 'app' or 'result', got ${JSON.stringify(given) ?? String(given)}`);
}

/** `AppOptions.unavailableTimeout`, checked. */
function checkUnavailableTimeout(ms: number): number {
  if (!(ms > 0) || !Number.isFinite(ms)) throw new InvalidArgumentError('unavailableTimeout', `expected milliseconds > 0, got ${String(ms)}`);
  return ms;
}

/** `AppOptions.include`, checked: module specifiers (strings) or URLs. */
function checkInclude(include: unknown): readonly (string | URL)[] {
  if (include === undefined) return [];
  if (!Array.isArray(include) || !include.every((entry) => (typeof entry === 'string' && entry !== '') || entry instanceof URL)) {
    throw new InvalidArgumentError('include', 'expected an array of module paths, package names or URLs');
  }
  return Object.freeze([...(include as (string | URL)[])]);
}

/** A key prefix: non-empty, no spaces or braces (braces are Redis Cluster hash tags). */
function checkPrefix(prefix: string): string {
  if (typeof prefix !== 'string' || !/^[^\s{}]+$/.test(prefix)) {
    throw new InvalidArgumentError('prefix', `expected a non-empty prefix without spaces or braces, got ${JSON.stringify(prefix)}`);
  }
  return prefix;
}

/** A new workflow's first tasks, read lazily (a huge group's specs are built only if sent directly). */
function entriesOf(plan: WorkflowPlan): Release {
  const { entries } = plan;
  return {
    size: entries.length,
    index: (k) => entries[k]!,
    queue: (k) => queueOf(plan.spec(entries[k]!)),
    node: (k) => ({ index: entries[k]!, spec: plan.spec(entries[k]!), inputs: NO_INPUTS }),
  };
}

/**
 * Creates a Celeriac app bound to one Redis.
 *
 * @example
 * ```ts
 * const app = createApp({ name: 'proj', redis: process.env.REDIS_URL, prefix: 'celeriac' });
 * ```
 */
export function createApp(options: AppOptions = {}): App {
  return new App(options);
}
