/**
 * Conversion between our canvas and Celery's own signature dict (what `Signature.__json__` and
 * `signature(dict)` exchange), so a Python producer and a TypeScript worker can share workflows.
 * The Celery forms are those of CELERY-SEMANTICS §1.2; dispatch is on `subtask_type`, as in
 * Celery's `Signature.from_dict`.
 */
import { freeze } from 'immer';
import { describe } from './internal/describe.js';
import { EMPTY_ARRAY, EMPTY_OBJECT } from './internal/empty.js';
import { seal } from './internal/sealed.js';
import { chunkParts, mapSignature } from './map.js';
import { CanvasParser, OPTION_NAMES, parseCanvas, type OptionName } from './parse.js';
import { MAP_TASK, STARMAP_TASK } from './task-name.js';
import type { Backoff, Canvas, Chain, Chord, Group, Json, Kwargs, Signature, TaskOptions } from './types.js';

/**
 * Celery's `subtask_type` values besides `null` (a plain task).
 *
 * @example
 * ```ts
 * const type: CelerySubtaskType = 'chord';
 * ```
 */
export type CelerySubtaskType = 'chain' | 'group' | 'chord' | 'xmap' | 'xstarmap' | 'chunks';

/**
 * A value inside a Celery dict: JSON, where containers hold their children as nested dicts.
 *
 * @example
 * ```ts
 * const tasks: CeleryValue = [toCelery(add.s(1, 1))];
 * ```
 */
export type CeleryValue = Json | CelerySignatureDict | readonly CelerySignatureDict[];

/**
 * Celery's signature dict, exactly the six keys of `celery.canvas.Signature`.
 *
 * Containers keep their children in `kwargs`: `{ tasks: [...] }` for `celery.chain` and
 * `celery.group`, `{ kwargs: {}, header: [...], body: {...} }` for `celery.chord`,
 * `{ task: {...}, it: [...] }` for `celery.map`/`celery.starmap` (plus `n` for `celery.chunks`).
 *
 * @example
 * ```ts
 * const dict: CelerySignatureDict = {
 *   task: 'tasks.add', args: [2, 2], kwargs: {}, options: { countdown: 10 },
 *   subtask_type: null, immutable: false,
 * };
 * ```
 */
export interface CelerySignatureDict {
  readonly task: string;
  readonly args: readonly Json[];
  readonly kwargs: { readonly [key: string]: CeleryValue };
  readonly options: { readonly [key: string]: CeleryValue };
  readonly subtask_type: CelerySubtaskType | null;
  readonly immutable: boolean;
}

const SUBTASK_TYPES: readonly CelerySubtaskType[] = ['chain', 'group', 'chord', 'xmap', 'xstarmap', 'chunks'];

/** Celery's name for each option we model (Maps, not objects: input keys must never hit a prototype). */
const TO_CELERY_OPTION: ReadonlyMap<OptionName, string> = new Map<OptionName, string>([
  ['queue', 'queue'],
  ['priority', 'priority'],
  ['countdown', 'countdown'],
  ['eta', 'eta'],
  ['expires', 'expires'],
  ['maxRetries', 'max_retries'],
  ['backoff', 'backoff'],
  ['taskId', 'task_id'],
  ['timeLimit', 'time_limit'],
  ['softTimeLimit', 'soft_time_limit'],
  ['ignoreResult', 'ignore_result'],
  ['link', 'link'],
  ['linkError', 'link_error'],
]);

const FROM_CELERY_OPTION: ReadonlyMap<string, OptionName> = new Map(
  [...TO_CELERY_OPTION].map(([ours, celery]) => [celery, ours]),
);

const MAP_TASKS: ReadonlyMap<string, 'xmap' | 'xstarmap'> = new Map([
  [MAP_TASK, 'xmap'],
  [STARMAP_TASK, 'xstarmap'],
]);

/**
 * Converts a canvas to Celery's signature dict, which Celery's `signature(dict)` rebuilds.
 *
 * - chain / group: `celery.chain` / `celery.group` with `kwargs.tasks`;
 * - chord: `celery.chord` with `kwargs: { kwargs: {}, header: [...], body }`;
 * - a `celery.map` / `celery.starmap` signature: `subtask_type` `xmap` / `xstarmap`, its
 *   `kwargs.task` (a canvas in our format) converted too;
 * - options: camelCase to snake_case (`taskId` → `task_id`, `linkError` → `link_error`, …),
 *   callbacks converted recursively. `priority` is shifted down by one (our 1 is Celery-on-Redis'
 *   0: highest first in both). `maxRetries` becomes `max_retries` and `backoff` stays `backoff` with
 *   a `max_delay` field: Celeriac extensions, since Celery sets both per task, not per call, and
 *   passes unknown options through unused.
 *
 * The input is validated with {@link parseCanvas} first.
 *
 * @param canvas - Any canvas.
 * @returns A fresh, deeply frozen Celery dict; `JSON.stringify` it for a Python producer.
 * @throws {@link CanvasError} when `canvas` is invalid, or a map signature's `kwargs.task` is not
 *   a canvas.
 * @example
 * ```ts
 * toCelery(chain(add.s(2, 2), add.s(4)));
 * // { task: 'celery.chain', args: [], kwargs: { tasks: [ {task: 'add', …}, … ] },
 * //   options: {}, subtask_type: 'chain', immutable: false }
 * ```
 */
export function toCelery(canvas: Canvas): CelerySignatureDict {
  return new ToCelery().canvas(parseCanvas(canvas));
}

/**
 * Rebuilds a canvas from Celery's signature dict (JSON from a Python producer), validating it.
 *
 * Dispatch is on `subtask_type` as in Celery: `null` a task, `chain`, `group`, `chord`, `xmap`,
 * `xstarmap` and `chunks`; anything else is an error. As Celery's own `from_dict` does:
 * - the `task`, `args` and `immutable` of a chain or group are ignored, and map signatures are
 *   always immutable;
 * - a chord header given as one dict is unpacked: a group or chain dict into its tasks (dropping
 *   its own options), any other dict into a one-task header; a group body stays a group.
 * Where Celery would keep something we cannot represent, it is an error rather than silently
 * lost: a chord without a body, a chord's partial `args` or `kwargs.kwargs`.
 * `chunks` becomes a group of `celery.starmap` signatures over parts of at most `n` items.
 *
 * Options: `task_id`, `countdown`, `eta`, `expires`, `priority` (shifted up by one: Celery-on-Redis
 * 0 is our 1), `queue`, `link`, `link_error` (converted recursively), `time_limit`,
 * `soft_time_limit`, `ignore_result` and the Celeriac extensions `max_retries` and `backoff` are
 * kept, under our names, and validated as by {@link parseCanvas}; a `null` value means unset,
 * except for `max_retries`, where `None` means no limit (Celery's `Task.max_retries = None`).
 * Every other option is dropped: Celery's routing and message options (`routing_key`, `exchange`,
 * `headers`, `serializer`, `compression`, `shadow`, `reply_to`, …) and its bookkeeping
 * (`parent_id`, `root_id`, `group_id`, `group_index`, `chord`, `chain`, `stamped_headers`, and
 * `retries`, which counts the retries a message has had, not how many it may have). Unknown
 * top-level keys of a dict are ignored as well.
 *
 * @param dict - A Celery signature dict, typically `JSON.parse` output.
 * @returns A fresh, deeply frozen canvas.
 * @throws {@link CanvasError} whose path locates the problem inside `dict`, e.g.
 *   `kwargs.tasks[1].subtask_type: unknown subtask_type "foo"; …`.
 * @example
 * ```ts
 * fromCelery({ task: 'tasks.add', args: [2, 2], kwargs: {}, options: { task_id: 'x' },
 *              subtask_type: null, immutable: false });
 * // { kind: 'signature', task: 'tasks.add', args: [2, 2], kwargs: {}, options: { taskId: 'x' },
 * //   immutable: false }
 * ```
 */
export function fromCelery(dict: unknown): Canvas {
  // Sealing measures the result as parseCanvas would and refuses it if it is too deep: a Celery
  // dict holds a map's task one level higher than our format does.
  return seal(new FromCelery().canvas(dict), [], 'fromCelery()');
}

class FromCelery {
  private readonly p = new CanvasParser();

  canvas(value: unknown): Canvas {
    const p = this.p;
    const d = p.plainObject(value, 'a Celery signature dict');
    const type = p.at('subtask_type', () => this.subtaskType(p.own(d, 'subtask_type')));
    p.enter(d);
    let result: Canvas;
    switch (type) {
      case null: {
        // Our format marks map signatures by task name only; accept Celery dicts that do the same.
        const task = p.own(d, 'task');
        result = task === MAP_TASK || task === STARMAP_TASK ? this.map(d, task) : this.signature(d);
        break;
      }
      case 'chain':
      case 'group':
        result = this.container(d, type);
        break;
      case 'chord':
        result = this.chord(d);
        break;
      case 'xmap':
      case 'xstarmap':
        result = this.map(d, type === 'xmap' ? MAP_TASK : STARMAP_TASK);
        break;
      case 'chunks':
        result = this.chunks(d);
        break;
    }
    p.leave();
    return result;
  }

  private subtaskType(value: unknown): CelerySubtaskType | null {
    if (value === undefined || value === null) return null;
    if (typeof value === 'string' && (SUBTASK_TYPES as readonly string[]).includes(value)) {
      return value as CelerySubtaskType;
    }
    const got = typeof value === 'string' ? JSON.stringify(value) : describe(value);
    return this.p.fail(`unknown subtask_type ${got}; expected null, ${SUBTASK_TYPES.map((t) => `"${t}"`).join(', ')}`);
  }

  private signature(d: Readonly<Record<string, unknown>>): Signature {
    const p = this.p;
    const task = p.at('task', () => p.taskName(p.own(d, 'task')));
    const args = this.args(d);
    const rawKwargs = p.own(d, 'kwargs');
    const kwargs = rawKwargs === undefined || rawKwargs === null ? EMPTY_OBJECT : p.at('kwargs', () => p.jsonObject(rawKwargs));
    const options = this.options(d);
    const immutable = p.at('immutable', () => {
      const raw = p.own(d, 'immutable');
      if (raw === undefined || raw === null) return false;
      return typeof raw === 'boolean' ? raw : p.fail(`expected a boolean, got ${describe(raw)}`);
    });
    return freeze({ kind: 'signature', task, args, kwargs, options, immutable });
  }

  private container(d: Readonly<Record<string, unknown>>, kind: 'chain' | 'group'): Chain | Group {
    const p = this.p;
    const kwargs = this.kwargsObject(d);
    const tasks = p.at('kwargs', () => p.at('tasks', () => this.list(p.own(kwargs, 'tasks'))));
    return freeze({ kind, tasks, options: this.options(d) });
  }

  private chord(d: Readonly<Record<string, unknown>>): Chord {
    const p = this.p;
    const args = this.args(d);
    if (args.length > 0) {
      p.at('args', () => p.fail("a chord's partial args cannot be represented; add them to the header members"));
    }
    const kwargs = this.kwargsObject(d);
    const [header, body] = p.at('kwargs', () => {
      const own = p.own(kwargs, 'kwargs');
      if (own !== undefined && own !== null) {
        const partial = p.at('kwargs', () => p.jsonObject(own));
        if (Object.keys(partial).length > 0) {
          p.at('kwargs', () => p.fail("a chord's partial kwargs cannot be represented; add them to the header members"));
        }
      }
      const h = p.at('header', () => this.header(p.own(kwargs, 'header')));
      const b = p.at('body', () => {
        const raw = p.own(kwargs, 'body');
        if (raw === undefined || raw === null) {
          return p.fail('a chord needs a body (a chord without one cannot be represented)');
        }
        return this.canvas(raw);
      });
      return [h, b] as const;
    });
    return freeze({ kind: 'chord', header, body, options: this.options(d) });
  }

  /** Celery's `_maybe_group`: a group or chain dict is unpacked into its tasks, another dict wrapped. */
  private header(value: unknown): readonly Canvas[] {
    const p = this.p;
    if (Array.isArray(value)) return this.list(value);
    const d = p.plainObject(value, 'an array of Celery signature dicts or a group dict');
    const type = p.own(d, 'subtask_type');
    if (type === 'group' || type === 'chain') {
      p.enter(d);
      const kwargs = this.kwargsObject(d);
      const tasks = p.at('kwargs', () => p.at('tasks', () => this.list(p.own(kwargs, 'tasks'))));
      p.leave();
      return tasks;
    }
    return freeze([this.canvas(d)]);
  }

  private map(d: Readonly<Record<string, unknown>>, task: typeof MAP_TASK | typeof STARMAP_TASK): Signature {
    const p = this.p;
    const kwargs = this.kwargsObject(d);
    const [inner, it] = p.at('kwargs', () => [this.innerTask(kwargs), p.at('it', () => p.jsonArray(p.own(kwargs, 'it')))] as const);
    return mapSignature(task, inner, it, this.options(d));
  }

  private chunks(d: Readonly<Record<string, unknown>>): Group {
    const p = this.p;
    const kwargs = this.kwargsObject(d);
    const [inner, it, n] = p.at('kwargs', () => {
      const t = this.innerTask(kwargs);
      const items = p.at('it', () => p.jsonArray(p.own(kwargs, 'it')));
      const size = p.at('n', () => {
        const raw = p.own(kwargs, 'n');
        return Number.isSafeInteger(raw) && (raw as number) >= 1
          ? (raw as number)
          : p.fail(`expected a chunk size: an integer >= 1, got ${describe(raw)}`);
      });
      return [t, items, size] as const;
    });
    return freeze({ kind: 'group', tasks: freeze(chunkParts(inner, it, n)), options: this.options(d) });
  }

  /** The mapped task of xmap/xstarmap/chunks, in our format (it is kept as JSON in `kwargs.task`). */
  private innerTask(kwargs: Readonly<Record<string, unknown>>): Canvas {
    const p = this.p;
    return p.at('task', () => {
      const raw = p.own(kwargs, 'task');
      if (raw === undefined || raw === null) return p.fail('required: the Celery signature dict of the mapped task');
      return this.canvas(raw);
    });
  }

  private list(value: unknown): readonly Canvas[] {
    const p = this.p;
    if (!Array.isArray(value)) return p.fail(`expected an array of Celery signature dicts, got ${describe(value)}`);
    const out = new Array<Canvas>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = p.at(i, () => this.canvas(value[i]));
    return freeze(out);
  }

  private args(d: Readonly<Record<string, unknown>>): readonly Json[] {
    const p = this.p;
    const raw = p.own(d, 'args');
    return raw === undefined || raw === null ? EMPTY_ARRAY : p.at('args', () => p.jsonArray(raw));
  }

  private kwargsObject(d: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
    const p = this.p;
    return p.at('kwargs', () => p.plainObject(p.own(d, 'kwargs'), 'an object'));
  }

  private options(d: Readonly<Record<string, unknown>>): TaskOptions {
    const p = this.p;
    const raw = p.own(d, 'options');
    if (raw === undefined || raw === null) return EMPTY_OBJECT;
    return p.at('options', () => {
      const options = p.plainObject(raw, 'an options object');
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(options)) {
        const value = options[key];
        const ours = FROM_CELERY_OPTION.get(key);
        p.at(key, () => {
          // A null option is unset, as Celery treats None, except `max_retries`: None there is
          // Celery's "retry forever" (`Task.max_retries = None`), and our `maxRetries: null`.
          if (ours === undefined || value === undefined || (value === null && ours !== 'maxRetries')) return;
          out[ours] = this.option(ours, value);
        });
      }
      p.checkTimeLimits(out as TaskOptions, 'soft_time_limit', 'time_limit');
      return freeze(out as TaskOptions);
    });
  }

  private option(name: OptionName, value: unknown): unknown {
    const p = this.p;
    switch (name) {
      case 'priority':
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_CELERY_PRIORITY) {
          return p.fail(`expected an integer from 0 (highest) to ${MAX_CELERY_PRIORITY}, got ${describeNumber(value)}`);
        }
        return (value as number) + 1;
      case 'link':
      case 'linkError':
        return Array.isArray(value) ? this.list(value) : freeze([this.canvas(value)]);
      case 'backoff': {
        const raw = p.plainObject(value, 'a backoff object { type, delay, max_delay?, jitter? }');
        const backoff: Record<string, unknown> = {};
        for (const key of Object.keys(raw)) {
          const ours = BACKOFF_FROM_CELERY.get(key);
          if (ours === undefined) {
            p.at(key, () => p.fail(`unknown backoff field ${JSON.stringify(key)}; expected one of: type, delay, max_delay, jitter`));
          } else {
            backoff[ours] = raw[key];
          }
        }
        return p.option('backoff', backoff);
      }
      case 'queue':
      case 'countdown':
      case 'eta':
      case 'expires':
      case 'maxRetries':
      case 'taskId':
      case 'timeLimit':
      case 'softTimeLimit':
      case 'ignoreResult':
        return p.option(name, value);
    }
  }
}

class ToCelery {
  private readonly p = new CanvasParser();

  canvas(canvas: Canvas): CelerySignatureDict {
    switch (canvas.kind) {
      case 'signature': {
        const mapType = MAP_TASKS.get(canvas.task);
        return dict(
          canvas.task,
          canvas.args,
          mapType === undefined ? canvas.kwargs : this.mapKwargs(canvas.kwargs),
          this.options(canvas.options),
          mapType ?? null,
          canvas.immutable,
        );
      }
      case 'chain':
      case 'group':
        return dict(
          `celery.${canvas.kind}`,
          EMPTY_ARRAY,
          freeze({ tasks: this.p.at('tasks', () => this.list(canvas.tasks)) }),
          this.options(canvas.options),
          canvas.kind,
          false,
        );
      case 'chord':
        return dict(
          'celery.chord',
          EMPTY_ARRAY,
          freeze({
            kwargs: EMPTY_OBJECT,
            header: this.p.at('header', () => this.list(canvas.header)),
            body: this.p.at('body', () => this.canvas(canvas.body)),
          }),
          this.options(canvas.options),
          'chord',
          false,
        );
    }
  }

  private mapKwargs(kwargs: Kwargs): { readonly [key: string]: CeleryValue } {
    const p = this.p;
    const raw = kwargs['task'];
    const task = p.at('kwargs', () =>
      p.at('task', () => {
        if (raw === undefined) return p.fail('required: a map signature holds the mapped task here');
        return this.canvas(p.canvas(raw));
      }),
    );
    return freeze({ ...kwargs, task });
  }

  private list(canvases: readonly Canvas[]): readonly CelerySignatureDict[] {
    const out = new Array<CelerySignatureDict>(canvases.length);
    for (let i = 0; i < canvases.length; i++) out[i] = this.p.at(i, () => this.canvas(canvases[i]!));
    return freeze(out);
  }

  private options(options: TaskOptions): { readonly [key: string]: CeleryValue } {
    const out: Record<string, CeleryValue> = {};
    this.p.at('options', () => {
      for (const name of OPTION_NAMES) {
        const value = options[name];
        if (value === undefined) continue;
        out[TO_CELERY_OPTION.get(name)!] = this.p.at(name, () => this.option(name, value));
      }
    });
    return freeze(out);
  }

  private option(name: OptionName, value: Exclude<TaskOptions[OptionName], undefined>): CeleryValue {
    switch (name) {
      case 'priority':
        return (value as number) - 1;
      case 'link':
      case 'linkError':
        return this.list(value as readonly Canvas[]);
      case 'backoff': {
        const { type, delay, maxDelay, jitter } = value as Backoff;
        return freeze({
          type,
          delay,
          ...(maxDelay === undefined ? {} : { max_delay: maxDelay }),
          ...(jitter === undefined ? {} : { jitter }),
        });
      }
      case 'queue':
      case 'countdown':
      case 'eta':
      case 'expires':
      case 'maxRetries':
      case 'taskId':
      case 'timeLimit':
      case 'softTimeLimit':
      case 'ignoreResult':
        return value as Json;
    }
  }
}

function dict(
  task: string,
  args: readonly Json[],
  kwargs: { readonly [key: string]: CeleryValue },
  options: { readonly [key: string]: CeleryValue },
  subtaskType: CelerySubtaskType | null,
  immutable: boolean,
): CelerySignatureDict {
  // Key order as Celery writes it, so JSON output diffs cleanly against a Python producer's.
  return freeze({ task, args, kwargs, options, subtask_type: subtaskType, immutable });
}

function describeNumber(value: unknown): string {
  return typeof value === 'number' ? String(value) : describe(value);
}

/** Our priority 1 … 2 097 152 is Celery's 0 … 2 097 151. */
const MAX_CELERY_PRIORITY = 2_097_151;

const BACKOFF_FROM_CELERY: ReadonlyMap<string, keyof Backoff> = new Map<string, keyof Backoff>([
  ['type', 'type'],
  ['delay', 'delay'],
  ['max_delay', 'maxDelay'],
  ['jitter', 'jitter'],
]);
