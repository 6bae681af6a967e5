/**
 * The app: one Redis connection, a task registry, and the entry points to send work
 * (`apply`, `task.delay`), run it (`worker`) and observe it (`result`).
 */
import {
  CanvasError,
  compile,
  defineTask,
  parseCanvas,
  partial,
  signature,
  withOptions,
  type Canvas,
  type Chain,
  type Chord,
  type Group,
  type InferResult,
  type Json,
  type Kwargs,
  type Signature,
  type TaskOptions,
} from '@celeriac/canvas';
import { Redis, type RedisOptions } from 'ioredis';
import { builtinTasks } from './builtins.js';
import { Dispatcher } from './dispatch.js';
import { ClosedError, ResultNotFoundError } from './errors.js';
import { EventHub } from './events.js';
import { withScripts } from './lua.js';
import { freeze, type RunOptions } from './plan.js';
import { WorkflowView, type AnyResult, type AsyncResult, type GroupResult } from './result.js';
import { WorkflowStore } from './store.js';
import type { AppTask, ApplyOptions, RegisteredTask, TaskContext, TaskDefinitionOptions } from './task.js';
import { Worker, type Logger, type WorkerOptions } from './worker.js';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** App name (Celery's `-A proj`), shown by workers and the monitor. Default `"celeriac"`. */
  readonly name?: string;
  /**
   * Redis to use: a URL, ioredis options, or an ioredis instance. An instance stays yours: the app
   * duplicates it for workers and subscriptions and never closes it. Default `redis://127.0.0.1:6379`.
   */
  readonly redis?: string | RedisOptions | Redis;
  /** Prefix of every Redis key the app writes. Apps with different prefixes never see each other. Default `"celeriac"`. */
  readonly prefix?: string;
  /** Seconds that results and workflow state are kept; 0 keeps them forever. Default one day, as Celery. */
  readonly resultTtl?: number;
  /** Where problems that are not task failures are reported. Default: stderr. */
  readonly logger?: Logger;
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
export interface AppApplyOptions extends TaskOptions {
  /** Prepended to the args of the first executable node(s) (every member of a leading group). */
  readonly args?: readonly Json[];
  /** Merged into the kwargs of the first executable node(s); these win. */
  readonly kwargs?: Kwargs;
}

const stderrLogger: Logger = {
  // eslint-disable-next-line no-console
  warn: (message, detail) => console.warn(`[celeriac] ${message}`, detail ?? ''),
  // eslint-disable-next-line no-console
  error: (message, detail) => console.error(`[celeriac] ${message}`, detail ?? ''),
};

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
  private readonly ownsRedis: boolean;
  private readonly store: WorkflowStore;
  private readonly dispatcher: Dispatcher;
  private readonly events: EventHub;
  private readonly registry = new Map<string, RegisteredTask>();
  private readonly workers = new Set<Worker>();
  private readonly logger: Logger;
  private closed = false;

  /** @internal use {@link createApp}. */
  constructor(options: AppOptions = {}) {
    this.name = options.name ?? 'celeriac';
    this.prefix = options.prefix ?? 'celeriac';
    this.logger = options.logger ?? stderrLogger;
    const given = options.redis;
    this.ownsRedis = !(given instanceof Redis);
    this.redis =
      given instanceof Redis ? given : typeof given === 'string' ? new Redis(given) : new Redis(given ?? {});
    if (this.ownsRedis) this.redis.on('error', (error) => this.logger.warn('redis connection error', error));
    const ttl = options.resultTtl ?? 86_400;
    if (!Number.isInteger(ttl) || ttl < 0) {
      throw new CanvasError('resultTtl', `expected a whole number of seconds >= 0 (0 keeps results forever), got ${String(ttl)}`);
    }
    this.store = new WorkflowStore(withScripts(this.redis), this.prefix, ttl);
    this.dispatcher = new Dispatcher(this.redis, `${this.prefix}:q`);
    this.events = new EventHub(() => this.connect());
    for (const builtin of builtinTasks((name) => this.registry.get(name), () => this.registered)) {
      this.registry.set(builtin.name, builtin);
    }
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
    if (typeof name !== 'string' || name === '') throw new CanvasError('task', 'expected a non-empty task name');
    if (typeof handler !== 'function') throw new CanvasError('handler', `expected a function for task "${name}"`);
    const { bind = false, ...defaults } = options;
    // Validates the default options with the same rules as any signature's options.
    parseCanvas(signature(name, [], {}, defaults));
    this.registry.set(name, { name, handler, bind, defaults });
    const ref = defineTask<Json[], unknown>(name);
    return {
      ...ref,
      // async, so invalid arguments reject the returned promise instead of throwing synchronously.
      delay: async (...args: Json[]) => (await this.apply(signature(name, args))) as AsyncResult,
      applyAsync: async ({ args = [], kwargs = {}, ...rest }: ApplyOptions = {}) =>
        (await this.apply(signature(name, args, kwargs, rest))) as AsyncResult,
    };
  }

  /** Names of the tasks registered in this process. */
  get registered(): string[] {
    return [...this.registry.keys()].sort();
  }

  /** Starts a worker consuming `queues` (default `["default"]`) with this app's tasks. */
  worker(options: WorkerOptions = {}): Worker {
    this.assertOpen();
    const worker = new Worker(
      {
        store: this.store,
        dispatcher: this.dispatcher,
        registry: this.registry,
        logger: this.logger,
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
    if (args !== undefined || kwargs !== undefined) prepared = partial(prepared, args ?? [], kwargs ?? {});
    if (Object.keys(rest).length > 0) prepared = withOptions(prepared, rest);
    if (prepared !== canvas) prepared = parseCanvas(prepared);

    const plan = freeze(compile(prepared), (task) => this.defaultsOf(task));
    if (plan === null) throw new CanvasError('', 'the canvas is an empty chain: there is nothing to run');
    const created = await this.store.create(plan);
    const released = created
      ? plan.entries.map((index) => ({ index, spec: plan.specs[index]!, inputs: [] }))
      : await this.store.outbox(plan.meta.id);
    await this.dispatcher.enqueue(plan.meta.id, released, null);
    const view = new WorkflowView(this.backend(), created ? plan.meta : ((await this.store.meta(plan.meta.id)) ?? plan.meta));
    return view.resolve(view.meta.result) as ResultFor<TCanvas>;
  }

  /**
   * Rebuilds a result from its id — in any process — with its `.parent` chain and children.
   * Rejects with `ResultNotFoundError` when no workflow knows the id (never applied, or expired).
   */
  async result<TResult = unknown>(id: string): Promise<AnyResult<TResult>> {
    this.assertOpen();
    const location = await this.store.locate(id);
    const meta = location === null ? null : await this.store.meta(location.workflowId);
    if (location === null || meta === null) throw new ResultNotFoundError(id);
    const view = new WorkflowView(this.backend(), meta);
    return view.resolve(location.ref ?? meta.result) as AnyResult<TResult>;
  }

  /** Closes the app's workers (gracefully), queues and connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.workers].map((worker) => worker.close()));
    await this.dispatcher.close();
    await this.events.close();
    if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** @internal the store, for tests that check what the Lua scripts recorded. */
  get internals(): { store: WorkflowStore } {
    return { store: this.store };
  }

  private defaultsOf(task: string): RunOptions | undefined {
    return this.registry.get(task)?.defaults;
  }

  private backend(): { store: WorkflowStore; events: EventHub } {
    return { store: this.store, events: this.events };
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
