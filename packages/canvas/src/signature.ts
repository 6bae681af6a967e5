/**
 * Signatures and the modifiers that work on any canvas: Celery's `signature()`, `task.s()`,
 * `task.si()`, `sig.clone(args, kwargs)` (here `partial`), `sig.set(**options)` (here
 * `withOptions`) and `set_immutable(True)` (here `immutable`). All of them return new, deeply
 * frozen values and leave their inputs alone.
 */
import { adopt, checkAt, checkOptions, withoutUndefined } from './internal/values.js';
import { seal } from './internal/sealed.js';
import type { Canvas, Json, Kwargs, Signature, TaskOptions } from './types.js';
import type {
  AnyCanvas,
  AnySignature,
  DropLast,
  ImmutableOf,
  ImmutableSignature,
  PartialArgs,
  PartialOf,
  Suffixes,
} from './typing.js';

/**
 * A typed reference to a task, made by {@link defineTask}. It is a plain object of functions
 * that do not use `this`, so the runtime can extend it (`app.task()` adds `delay`/`applyAsync`).
 *
 * @typeParam TArgs - The task's parameters, e.g. `[x: number, y: number]`.
 * @typeParam TResult - What the task returns.
 */
export interface TaskRef<TArgs extends readonly unknown[], TResult> {
  /** The registered task name. */
  readonly name: string;
  /**
   * A partial signature binding the trailing parameters: when it runs, the previous step's result
   * (or partial args) is prepended, as in Celery. Its `TAccepts` is `TArgs` without the bound ones.
   *
   * @example
   * ```ts
   * chain(add.s(2, 2), add.s(4)); // add(2, 2) = 4, then add(4, 4) with the 4 prepended
   * ```
   */
  s<TBound extends Suffixes<TArgs>>(...bound: TBound): Signature<DropLast<TArgs, TBound>, TResult>;
  /**
   * An immutable signature: it runs with exactly these arguments and ignores the previous result.
   *
   * @example
   * ```ts
   * chain(add.si(2, 2), add.si(4, 4)); // 8: the second step does not see the 4
   * ```
   */
  si(...args: TArgs): ImmutableSignature<TResult>;
}

/**
 * Builds an untyped signature: Celery's `signature(name, args, kwargs, **options)`. It fits
 * anywhere in a typed chain (its arguments and result are unchecked).
 *
 * @param task - The task name (or anything with a `name`, like a {@link TaskRef}).
 * @param args - Positional arguments (JSON); partial arguments are prepended to them when it runs.
 * @param kwargs - Keyword arguments (JSON).
 * @param options - Execution options; keys set to `undefined` are ignored.
 * @returns A frozen, mutable (non-`immutable`) signature.
 * @throws CanvasError when the name is empty or reserved (see `RESERVED_TASK_PREFIX`), an argument is
 *   not JSON, or an option is invalid.
 * @example
 * ```ts
 * signature('tasks.add', [2, 2], {}, { countdown: 10 });
 * ```
 */
export function signature(
  task: string | { readonly name: string },
  args?: readonly Json[],
  kwargs?: Kwargs,
  options?: TaskOptions,
): AnySignature {
  const name = typeof task === 'object' && task !== null ? task.name : task;
  return makeSignature(name, args ?? [], kwargs ?? {}, options, false);
}

/**
 * Declares a typed reference to a task by name, for building type-checked canvases without
 * importing the handler (the runtime's `app.task()` returns a richer one).
 *
 * @typeParam TArgs - The task's parameters, e.g. `[x: number, y: number]`.
 * @typeParam TResult - What the task returns.
 * @param name - The registered task name.
 * @returns A {@link TaskRef}.
 * @throws CanvasError when the name is not a non-empty string, or is reserved (see `RESERVED_TASK_PREFIX`).
 * @example
 * ```ts
 * const add = defineTask<[x: number, y: number], number>('add');
 * chain(add.s(2, 2), add.s(4)); // Chain<[], number>
 * ```
 */
export function defineTask<TArgs extends readonly unknown[] = readonly unknown[], TResult = unknown>(
  name: string,
): TaskRef<TArgs, TResult> {
  checkAt(['name'], (parser) => parser.taskName(name));
  return {
    name,
    s: <TBound extends Suffixes<TArgs>>(...bound: TBound) =>
      makeSignature(name, bound as readonly unknown[], {}, undefined, false) as Signature<
        DropLast<TArgs, TBound>,
        TResult
      >,
    si: (...args: TArgs) =>
      makeSignature(name, args, {}, undefined, true) as ImmutableSignature<TResult>,
  };
}

function makeSignature(
  task: unknown,
  args: unknown,
  kwargs: unknown,
  options: unknown,
  immutable: boolean,
): AnySignature {
  const node = checkAt([], (parser) =>
    parser.canvas({
      kind: 'signature',
      task,
      args,
      kwargs,
      options: withoutUndefined(options ?? {}),
      immutable,
    }),
  );
  return seal(node as AnySignature);
}

/**
 * Makes a canvas ignore the value passed in from its parent and partial arguments (Celery's
 * `set_immutable(True)`): a signature becomes immutable; a group, every member; a chord, every
 * header member (not the body, as in Celery); a chain, its first step.
 *
 * @param canvas - Any canvas.
 * @returns A new frozen canvas; an immutable signature type-checks anywhere in a chain.
 * @example
 * ```ts
 * chain(add.s(1, 1), immutable(add.s(2, 2))); // the second add ignores the 2
 * ```
 */
export function immutable<C extends AnyCanvas>(canvas: C): ImmutableOf<C> {
  return seal(toImmutable(adopt(canvas, ['canvas'], 'immutable()')), [], 'immutable()') as ImmutableOf<C>;
}

function toImmutable(canvas: Canvas): Canvas {
  switch (canvas.kind) {
    case 'signature':
      return canvas.immutable ? canvas : { ...canvas, immutable: true };
    case 'chain': {
      const [first, ...rest] = canvas.tasks;
      return first === undefined ? canvas : { ...canvas, tasks: [toImmutable(first), ...rest] };
    }
    case 'group':
      return { ...canvas, tasks: canvas.tasks.map(toImmutable) };
    case 'chord':
      return { ...canvas, header: canvas.header.map(toImmutable) };
  }
}

/**
 * Applies partial arguments, Celery's `clone(args, kwargs)` / `apply_async(args=…, kwargs=…)`:
 * `args` go before the signature's own args and `kwargs` override its kwargs. An immutable
 * signature keeps its args and kwargs. On a chain they go to its first step (recursively), on a
 * group to every member, on a chord to every header member, never to the body.
 *
 * @param canvas - Any canvas.
 * @param args - Arguments to prepend (JSON).
 * @param kwargs - Keyword arguments to merge in; they win over the canvas's own.
 * @returns A new frozen canvas whose `TAccepts` lacks the prepended parameters.
 * @throws CanvasError when an argument is not JSON.
 * @example
 * ```ts
 * partial(add.s(2), [4], { debug: true }); // add(4, 2, debug=True) when run
 * ```
 */
export function partial<C extends AnyCanvas, TArgs extends readonly unknown[] | [] = []>(
  canvas: C,
  args?: TArgs & PartialArgs<C>,
  kwargs?: Kwargs,
): PartialOf<C, TArgs>;
export function partial(canvas: AnyCanvas, args?: readonly unknown[], kwargs?: Kwargs): Canvas {
  const own = adopt(canvas, ['canvas'], 'partial()');
  const extraArgs = checkAt(['args'], (parser) => parser.jsonArray(args ?? []));
  const extraKwargs = checkAt(['kwargs'], (parser) => parser.jsonObject(kwargs ?? {}));
  if (extraArgs.length === 0 && Object.keys(extraKwargs).length === 0) return own;
  return seal(prepend(own, extraArgs, extraKwargs), [], 'partial()');
}

function prepend(canvas: Canvas, args: readonly Json[], kwargs: Kwargs): Canvas {
  switch (canvas.kind) {
    case 'signature':
      if (canvas.immutable) return canvas;
      return { ...canvas, args: [...args, ...canvas.args], kwargs: { ...canvas.kwargs, ...kwargs } };
    case 'chain': {
      const [first, ...rest] = canvas.tasks;
      return first === undefined ? canvas : { ...canvas, tasks: [prepend(first, args, kwargs), ...rest] };
    }
    case 'group':
      return { ...canvas, tasks: canvas.tasks.map((task) => prepend(task, args, kwargs)) };
    case 'chord':
      return { ...canvas, header: canvas.header.map((task) => prepend(task, args, kwargs)) };
  }
}

/**
 * Sets execution options on any canvas, Celery's `.set(**options)` without the mutation: the new
 * options are merged over the canvas's own (new win); keys set to `undefined` are dropped and do
 * not override. Options on a container stay on the container: the compiler distributes them
 * (a chain's to its first step, except `taskId`/`link` to the last and `linkError` to every step;
 * a group's to every member; a chord's to the body and header, see `TaskOptions`).
 *
 * @param canvas - Any canvas.
 * @param options - Options to set.
 * @returns A new frozen canvas of the same type.
 * @throws CanvasError when an option is invalid.
 * @example
 * ```ts
 * withOptions(add.s(2, 2), { queue: 'math', countdown: 5 });
 * ```
 */
export function withOptions<C extends AnyCanvas>(canvas: C, options: TaskOptions): C {
  const own = adopt(canvas, ['canvas'], 'withOptions()');
  const extra = checkOptions(options, ['options']);
  const merged = checkOptions({ ...own.options, ...extra }, ['options']);
  return seal({ ...own, options: merged }, [], 'withOptions()') as C;
}
