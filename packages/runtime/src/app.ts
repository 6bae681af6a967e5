/**
 * The app: one Redis connection, a task registry, and the entry points to send work
 * (`apply`, `task.delay`), run it (`worker`) and observe it (`result`).
 */
import {
  CanvasError,
  chain,
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
} from '@celeriac/canvas';
import { Redis, type RedisOptions } from 'ioredis';
import { builtinTasks } from './builtins.js';
import { Control, type RevokeOptions } from './control.js';
import { DIRECT_RELEASE_LIMIT, Dispatcher, queueOf, type JobData } from './dispatch.js';
import { ClosedError, ResultNotFoundError, toRemoteError } from './errors.js';
import { encodeSuccess } from './envelope.js';
import { EventHub } from './events.js';
import { withScripts } from './lua.js';
import { freeze, nodeId, type ResultIndex, type RunOptions, type WorkflowMeta, type WorkflowPlan } from './plan.js';
import { WorkflowView, type AnyResult, type AsyncResult, type GroupResult, type ResultBackend } from './result.js';
import { WorkflowStore } from './store.js';
import { recordFailure, recordSuccess } from './outcome.js';
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
export interface AppApplyOptions extends CallOptions {
  /** Prepended to the args of the first executable node(s) (every member of a leading group). */
  readonly args?: readonly Json[];
  /** Merged into the kwargs of the first executable node(s); these win. */
  readonly kwargs?: Kwargs;
}

/** Entry nodes take no predecessor results. */
const NO_INPUTS: readonly unknown[] = Object.freeze([]);

/** Built-in tasks finishing a replaced task (see `ctx.replace`). */
const REPLACED = 'celeriac.replaced';
const REPLACE_FAILED = 'celeriac.replace_failed';

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
  private readonly control: Control;
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
    // No ready check on the subscriber: ioredis may send SUBSCRIBE before it, and the check's INFO
    // then fails in subscriber mode.
    this.events = new EventHub(() => this.connect({ enableReadyCheck: false }));
    this.control = new Control(this.store, this.redis, this.dispatcher, `${this.prefix}:control`);
    for (const builtin of [...builtinTasks((name) => this.registry.get(name), () => this.registered), ...this.replaceTasks()]) {
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
    if (name.startsWith('celeriac.')) {
      throw new CanvasError('task', `task names starting with "celeriac." are reserved for Celeriac's own jobs; rename "${name}"`);
    }
    if (typeof handler !== 'function') throw new CanvasError('handler', `expected a function for task "${name}"`);
    const { bind = false, rateLimit, autoretryFor, ...defaults } = options;
    // Validates the default options with the same rules as any signature's options.
    parseCanvas(signature(name, [], {}, defaults));
    this.registry.set(name, {
      name,
      handler,
      bind,
      defaults,
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
        controlChannel: this.control.channel,
        connect: () => this.connect({ maxRetriesPerRequest: null }),
        listen: (channel, listener) => this.events.listen(channel, listener),
        replace: (data, canvas, queue) => this.replace(data, canvas, queue),
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
    if (Object.keys(rest).length > 0) prepared = withOptions(prepared, toTaskOptions(rest));
    if (prepared !== canvas) prepared = parseCanvas(prepared);

    const plan = freeze(compile(prepared), (task) => this.defaultsOf(task));
    if (plan === null) throw new CanvasError('', 'the canvas is an empty chain: there is nothing to run');
    const created = await this.store.create(plan);
    await this.release(plan, created);
    const view = new WorkflowView(this.backend(), created ? plan.meta : ((await this.store.meta(plan.meta.id)) ?? plan.meta));
    return view.resolve(view.meta.result) as ResultFor<TCanvas>;
  }

  /**
   * Enqueues a new workflow's entries; for a workflow that already existed (a retried apply with
   * the same taskId), whatever its outbox still holds.
   */
  private async release(plan: WorkflowPlan, created: boolean): Promise<void> {
    const { id } = plan.meta;
    if (!created) return this.dispatcher.enqueue(id, await this.store.outbox(id), null);
    if (plan.entries.length > DIRECT_RELEASE_LIMIT) {
      return this.dispatcher.sendReleases(id, plan.entries, (k) => queueOf(plan.spec(plan.entries[k]!)), null);
    }
    await this.dispatcher.enqueue(id, plan.entries.map((index) => ({ index, spec: plan.spec(index), inputs: NO_INPUTS })), null);
  }

  /**
   * Rebuilds a result from its id — in any process — with its `.parent` chain and children.
   * Rejects with `ResultNotFoundError` when no workflow knows the id (never applied, or expired).
   */
  async result<TResult = unknown>(id: string): Promise<AnyResult<TResult>> {
    this.assertOpen();
    const { meta, ref } = await this.find(id);
    return new WorkflowView(this.backend(), meta).resolve(ref) as AnyResult<TResult>;
  }

  private async find(id: string): Promise<{ meta: WorkflowMeta; ref: ResultIndex }> {
    for (const { workflowId, ref } of await this.store.locate(id)) {
      const meta = await this.store.meta(workflowId);
      if (meta === null) continue;
      if (ref === null) return { meta, ref: meta.result };
      const known = 'n' in ref ? (ref.n < meta.nodes.length ? nodeId(meta, ref.n) : undefined) : meta.groups[ref.g]?.id;
      if (known === id) return { meta, ref };
    }
    throw new ResultNotFoundError(id);
  }

  /**
   * `ctx.replace`: runs `canvas`, then a built-in step that records its final result as the
   * replaced node's (or its failure, through an error callback). The ids are derived from the
   * replaced task's id, so a redelivered task that replaces itself again changes nothing.
   */
  private async replace(data: JobData, canvas: Canvas, queue: string): Promise<void> {
    const target = { w: data.w, i: data.i, id: data.id, task: data.task };
    const finish = signature(REPLACED, [], target, { taskId: `${data.id}.replaced`, queue });
    const onError = signature(REPLACE_FAILED, [], target, { queue });
    await this.apply(withOptions(chain([canvas, finish]), { linkError: [onError] }));
  }

  /** The built-in tasks that finish a replaced task from its replacement's outcome. */
  private replaceTasks(): RegisteredTask[] {
    const targetOf = (ctx: TaskContext) => ctx.kwargs as unknown as { w: string; i: number; id: string; task: string };
    const replaced = (ctx: TaskContext, value: unknown): Promise<unknown> =>
      recordSuccess(this.store, this.dispatcher, targetOf(ctx), encodeSuccess(value), ctx.queue).then(() => value);
    const replaceFailed = async (ctx: TaskContext, failedId: string): Promise<null> => {
      const { meta, ref } = await this.find(failedId);
      const index = 'n' in ref ? ref.n : 0;
      const [envelope] = await this.store.envelopes(meta.id, [index]);
      const remote =
        envelope !== null && envelope !== undefined && envelope.state !== 'SUCCESS'
          ? envelope.error
          : toRemoteError(new Error(`replacement task ${failedId} failed`), ctx.task, failedId);
      await recordFailure(this.store, this.dispatcher, targetOf(ctx), remote);
      return null;
    };
    return [
      { name: REPLACED, handler: replaced as (...args: never[]) => unknown, bind: true, defaults: {} },
      { name: REPLACE_FAILED, handler: replaceFailed as (...args: never[]) => unknown, bind: true, defaults: {} },
    ];
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
    const { meta, ref } = await this.find(id);
    return this.control.revoke(meta, ref, options);
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

  private backend(): ResultBackend {
    return { store: this.store, events: this.events, control: this.control };
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
