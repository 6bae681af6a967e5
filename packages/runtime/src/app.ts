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
  type Chain,
  type CompiledGraph,
  type Chord,
  type Group,
  type InferResult,
  type Json,
  type Kwargs,
  type Signature,
} from '@celeriac/canvas';
import type { RedisOptions, Redis } from 'ioredis';
import { builtinTasks } from './builtins.js';
import { openConnection, type RedisInput } from './connection.js';
import { createControlPlane, type ControlPlane, type RemoteControl, type TaskEventReader } from './control-plane/index.js';
import { queuePrefix } from './keys.js';
import { Revoker, type RevokeOptions } from './control.js';
import { Dispatcher, releaseOf, queueOf, type Release } from './dispatch.js';
import { ClosedError, InvalidArgumentError } from './errors.js';
import { withScripts } from './lua.js';
import { consoleLogger, RateLimitedLog, type Logger } from './logger.js';
import { locate } from './lookup.js';
import { freeze, type RunOptions, type WorkflowPlan } from './plan.js';
import { Replacer } from './replace.js';
import { WorkflowView, type AnyResult, type AsyncResult, type GroupResult, type ResultBackend } from './result.js';
import { Settler } from './settle.js';
import { WorkflowStore } from './store.js';
import { ChannelSubscriber } from './subscriber.js';
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
import { Worker, type WorkerOptions } from './worker.js';

/** Options of {@link createApp}. An option given as `undefined` counts as not given. */
export interface AppOptions {
  /** App name (Celery's `-A proj`), shown by workers and the monitor. Default `"celeriac"`. */
  readonly name?: string | undefined;
  /**
   * Redis to use: a `redis://`/`rediss://` URL, ioredis options, or an ioredis instance. An
   * instance stays yours: the app duplicates it for workers and subscriptions and never closes it.
   * Default `redis://127.0.0.1:6379`.
   */
  readonly redis?: RedisInput | undefined;
  /** Prefix of every Redis key the app writes. Apps with different prefixes never see each other. Default `"celeriac"`. */
  readonly prefix?: string | undefined;
  /** Seconds that results and workflow state are kept; 0 keeps them forever. Default one day, as Celery. */
  readonly resultTtl?: number | undefined;
  /** Where tasks' lives (`info`) and problems (`warn`, `error`) are reported. Default: the console, `warn` and above. */
  readonly logger?: Logger | undefined;
}

/** What `apply` returns for each kind of canvas. */
export type ResultFor<TCanvas> = TCanvas extends Group
  ? GroupResult<InferResult<TCanvas>>
  : TCanvas extends Signature | Chord
    ? AsyncResult<InferResult<TCanvas>>
    : TCanvas extends Chain
      ? AnyResult<InferResult<TCanvas>>
      : AnyResult;

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
  readonly prefix: string;
  /** The app's own Redis connection. */
  readonly redis: Redis;
  /**
   * Remote control and inspection of the app's workers, in any process (Celery's `app.control`):
   * `workers()`, `inspect({ destination, timeout }).registered()` and the other queries,
   * `shutdown`, `rateLimit`, `timeLimit`, `addConsumer`, `cancelConsumer`, `revoke`, `poolGrow`,
   * `poolShrink`.
   */
  readonly control: RemoteControl;
  /** Task and worker events (Celery's `-E`): `history({ limit, before })` pages and a live `tail()`. */
  readonly events: TaskEventReader;
  private readonly ownsRedis: boolean;
  private readonly store: WorkflowStore;
  private readonly settler: Settler;
  private readonly dispatcher: Dispatcher;
  private readonly subscriber: ChannelSubscriber;
  private readonly plane: ControlPlane;
  private readonly revoker: Revoker;
  private readonly replacer: Replacer;
  private readonly registry = new Map<string, RegisteredTask>();
  private readonly workers = new Set<Worker>();
  private readonly logger: Logger;
  private closed = false;

  /** @internal use {@link createApp}. */
  constructor(options: AppOptions = {}) {
    this.name = options.name ?? 'celeriac';
    this.prefix = options.prefix ?? 'celeriac';
    this.logger = options.logger ?? consoleLogger('warn');
    const ttl = options.resultTtl ?? 86_400;
    if (!Number.isInteger(ttl) || ttl < 0) {
      throw new InvalidArgumentError('resultTtl', `expected a whole number of seconds >= 0 (0 keeps results forever), got ${String(ttl)}`);
    }
    const { client, owned } = openConnection(options.redis);
    this.redis = client;
    this.ownsRedis = owned;
    if (owned) this.redis.on('error', (error) => this.logger.warn('redis connection error', error));
    this.store = new WorkflowStore(withScripts(this.redis), this.prefix, ttl);
    this.dispatcher = new Dispatcher(this.redis, queuePrefix(this.prefix));
    this.settler = new Settler(this.store, this.dispatcher);
    this.subscriber = new ChannelSubscriber(this.redis, new RateLimitedLog(this.logger));
    this.plane = createControlPlane({ redis: this.redis, subscriber: this.subscriber, prefix: this.prefix, logger: this.logger });
    this.control = this.plane.control;
    this.events = this.plane.events;
    this.revoker = new Revoker(this.store, this.settler, this.dispatcher, this.control);
    this.replacer = new Replacer(this.store, this.settler, (graph) => this.launch(graph).then(() => {}));
    for (const builtin of builtinTasks((name) => this.registry.get(name), () => this.registered)) this.registry.set(builtin.name, builtin);
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
      // async, so invalid arguments reject the returned promise instead of throwing synchronously.
      delay: async (...args: Json[]) => (await this.apply(signature(name, args))) as AsyncResult,
      applyAsync: async ({ args = [], kwargs = {}, ...rest }: ApplyOptions = {}) =>
        (await this.apply(signature(name, args, kwargs), rest)) as AsyncResult,
    };
  }

  /** Names of the tasks registered in this process (Celery's own `celery.*` built-ins left out). */
  get registered(): string[] {
    return [...this.registry.keys()].filter((name) => !name.startsWith('celery.')).sort();
  }

  /** Starts a worker consuming `queues` (default `["default"]`) with this app's tasks. */
  worker(options: WorkerOptions = {}): Worker {
    this.assertOpen();
    const worker = new Worker(
      {
        app: this.name,
        store: this.store,
        settler: this.settler,
        dispatcher: this.dispatcher,
        replacer: this.replacer,
        registry: this.registry,
        logger: this.logger,
        plane: this.plane,
        connect: () => this.connect({ maxRetriesPerRequest: null }),
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
   * await res.parent!.get(); // 8
   * ```
   */
  async apply<TCanvas extends Canvas>(canvas: TCanvas, options: AppApplyOptions = {}): Promise<ResultFor<TCanvas>> {
    this.assertOpen();
    const { args, kwargs, ...rest } = options;
    let prepared = parseCanvas(canvas);
    if ((args !== undefined && args.length > 0) || kwargs !== undefined) prepared = partial(prepared, args ?? [], kwargs ?? {});
    const callOptions = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as CallOptions;
    if (Object.keys(callOptions).length > 0) prepared = withOptions(prepared, toTaskOptions(callOptions));
    if (prepared !== canvas) prepared = parseCanvas(prepared);
    return (await this.launch(compile(prepared))) as ResultFor<TCanvas>;
  }

  /**
   * Runs a compiled canvas: writes its plan once and enqueues its first tasks. Applying the same
   * ids again (a retried apply with the same taskId) enqueues whatever the workflow's outbox still holds.
   */
  private async launch(graph: CompiledGraph): Promise<AnyResult> {
    const plan = freeze(graph, (task) => this.registry.get(task)?.defaults);
    if (plan === null) throw new CanvasError('', 'the canvas is an empty chain: there is nothing to run');
    const created = await this.store.create(plan);
    const { id } = plan.meta;
    await this.dispatcher.send(id, created ? entriesOf(plan) : releaseOf(await this.store.outbox(id)), null);
    const view = new WorkflowView(this.backend(), created ? plan.meta : ((await this.store.meta(id)) ?? plan.meta));
    return view.resolve(view.meta.result);
  }

  /**
   * Rebuilds a result from its id — in any process — with its `.parent` chain and children.
   * Rejects with `ResultNotFoundError` when no workflow knows the id (never applied, or expired).
   */
  async result<TResult = unknown>(id: string): Promise<AnyResult<TResult>> {
    this.assertOpen();
    const { meta, ref } = await locate(this.store, id);
    return new WorkflowView(this.backend(), meta).resolve(ref) as AnyResult<TResult>;
  }

  /**
   * Revokes a task, group or workflow by id, in any process: what has not run yet never runs
   * (state REVOKED, `get()` rejects with RevokedError), including everything downstream of it.
   * The id `apply` returned revokes every unfinished task of the workflow. With `terminate`,
   * running tasks' AbortSignals fire. Revocations live in Redis, so they survive worker restarts.
   * Resolves to the ids of the tasks revoked.
   */
  async revoke(id: string, options: RevokeOptions = {}): Promise<string[]> {
    this.assertOpen();
    const { meta, ref } = await locate(this.store, id);
    return this.revoker.revoke(meta, ref, options);
  }

  /** Closes the app's workers (gracefully), queues and connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.workers].map((worker) => worker.close()));
    await this.dispatcher.close();
    await this.subscriber.close();
    if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** @internal the store, for tests that check what the Lua scripts recorded. */
  get internals(): { store: WorkflowStore } {
    return { store: this.store };
  }

  private backend(): ResultBackend {
    return { store: this.store, subscriber: this.subscriber, revoke: (meta, ref, options) => this.revoker.revoke(meta, ref, options) };
  }

  private connect(overrides: Partial<RedisOptions> = {}): Redis {
    const connection = this.redis.duplicate(overrides);
    connection.on('error', (error) => this.logger.warn('redis connection error', error));
    return connection;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`App "${this.name}"`);
  }
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
