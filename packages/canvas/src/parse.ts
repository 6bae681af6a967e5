/**
 * Validation of untrusted canvas input (JSON from the network, a Python producer, a Redis key).
 *
 * One pass over the input both checks and copies it, so the result can never differ from what
 * was checked (a getter or proxy is read exactly once) and the cost is linear in its size. Copies
 * are built from fresh literals with `defineProperty`, after their keys were checked, so no payload
 * can reach a prototype; each copy is frozen as soon as it is complete, so the whole result is
 * deeply frozen without a second walk. What counts as JSON, and which keys are refused, is defined
 * once in `json.ts`, shared with `findJsonProblem`.
 */
import { freeze } from 'immer';
import { CanvasError } from './errors.js';
import { EMPTY_ARRAY, EMPTY_OBJECT } from './internal/empty.js';
import { describe, describeLiteral, truncate } from './internal/describe.js';
import { formatPath, type PathSegment } from './internal/paths.js';
import { heightOf, isSealed, register } from './internal/sealed.js';
import {
  MAX_DEPTH,
  PROTO_KEY,
  SPARSE_SLOT,
  containerProblem,
  jsonShape,
  keyProblem,
  notJson,
} from './json.js';
import { MAP_TASK, STARMAP_TASK, isReservedTaskName, RESERVED_TASK_PREFIX } from './task-name.js';
import type {
  Backoff,
  Canvas,
  CanvasKind,
  Chain,
  Chord,
  Group,
  Json,
  Kwargs,
  Signature,
  TaskOptions,
} from './types.js';

const KINDS: readonly CanvasKind[] = ['signature', 'chain', 'group', 'chord'];

const NODE_FIELDS: { readonly [K in CanvasKind]: readonly string[] } = {
  signature: ['kind', 'task', 'args', 'kwargs', 'options', 'immutable'],
  chain: ['kind', 'tasks', 'options'],
  group: ['kind', 'tasks', 'options'],
  chord: ['kind', 'header', 'body', 'options'],
};

/**
 * The option names of {@link TaskOptions}, in documentation order: the only keys `options` may have.
 *
 * @example
 * ```ts
 * OPTION_NAMES.includes('taskId'); // true
 * ```
 */
export const OPTION_NAMES = [
  'queue',
  'priority',
  'countdown',
  'eta',
  'expires',
  'maxRetries',
  'backoff',
  'taskId',
  'timeLimit',
  'softTimeLimit',
  'ignoreResult',
  'link',
  'linkError',
] as const satisfies readonly (keyof TaskOptions)[];

/**
 * One option name of {@link TaskOptions}.
 *
 * @example
 * ```ts
 * const name: OptionName = 'softTimeLimit';
 * ```
 */
export type OptionName = (typeof OPTION_NAMES)[number];

const OPTION_SET: ReadonlySet<string> = new Set(OPTION_NAMES);
const BACKOFF_FIELDS: readonly string[] = ['type', 'delay', 'maxDelay', 'jitter'];
const MAX_PRIORITY = 2_097_152;
const MAX_ID_LENGTH = 200;
/** Colons separate Redis key parts (BullMQ rejects them in job ids), braces are hash tags. */
const ID_FORBIDDEN = /[:{}\s\p{Cc}]/u;
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Checks that a value is a well-formed canvas and returns a fresh, deeply frozen, plain copy.
 *
 * Accepts exactly the data model of `types.ts`: `kind` is required; `args`, `kwargs`, `options`
 * and `immutable` default to `[]`, `{}`, `{}` and `false`; unknown fields and unknown option
 * names are rejected (typo safety). Task names must be non-empty and outside the reserved
 * `celeriac.` namespace ({@link RESERVED_TASK_PREFIX}); a `celery.map`/`celery.starmap` signature
 * must hold its mapped task (a canvas, checked by these same rules) in `kwargs.task` and its items
 * (an array) in `kwargs.it`. Arguments must be JSON as `findJsonProblem` defines it: no functions,
 * symbols, bigints, `undefined`, `NaN`/`Infinity`, class instances (`Date`, `Map`, …), `toJSON`
 * methods, sparse arrays or cycles. Only keys that can reach a prototype are refused: `__proto__`
 * anywhere, and `constructor` holding an object or array (a naive deep merge would follow it to
 * `Object.prototype`); `{ constructor: 1 }` and `prototype` keys are ordinary data. Nesting is
 * limited to {@link MAX_DEPTH} levels. Option rules:
 * - `queue`: non-empty string without `:` (BullMQ rejects `:` in queue names);
 * - `priority`: integer 1 (highest) … 2 097 152;
 * - `countdown`: finite number ≥ 0 (seconds);
 * - `eta`: ISO-8601 date or date-time string of a real calendar date;
 * - `expires`: finite number ≥ 0 (seconds) or an ISO-8601 string as for `eta`;
 * - `maxRetries`: integer ≥ 0, or `null` for no limit;
 * - `backoff`: `{ type: 'fixed' | 'exponential', delay ≥ 0, maxDelay? ≥ delay, jitter?: boolean }`;
 * - `taskId`: 1–200 characters, no `:`, `{`, `}`, whitespace or control characters (ids become
 *   parts of Redis keys and hash tags), and not `0` (ids are BullMQ job ids, and BullMQ reserves 0);
 * - `timeLimit`, `softTimeLimit`: finite numbers > 0, `softTimeLimit ≤ timeLimit` when both are set;
 * - `ignoreResult`: boolean;
 * - `link`, `linkError`: arrays of canvases, parsed recursively.
 *
 * @param value - Anything, typically the result of `JSON.parse`.
 * @returns The validated canvas, deeply frozen: a new object graph sharing nothing with `value`
 *   but the nodes the builders (or an earlier `parseCanvas`) made, which are reused as they are —
 *   such values are valid and frozen already, so re-checking them would only cost a copy; `value`
 *   itself when it is one of them.
 * @throws {@link CanvasError} whose `path` (e.g. `tasks[2].args`) locates the first problem and
 *   whose message says what was expected there.
 * @example
 * ```ts
 * const canvas = parseCanvas(JSON.parse(body));
 * parseCanvas({ kind: 'chain', tasks: [{ kind: 'signature', task: 'add', args: 2 }] });
 * // CanvasError: tasks[0].args: expected an array, got a number
 * ```
 */
export function parseCanvas(value: unknown): Canvas {
  if (isSealed(value)) return value;
  return new CanvasParser().canvas(value);
}

/**
 * The machinery behind {@link parseCanvas}, shared with `celery.ts` so that Celery dicts are
 * checked by the same rules while errors name the path inside the Celery dict.
 *
 * Callers move through the input with {@link CanvasParser.at}; the parser keeps the current path
 * and nesting depth and throws `CanvasError` for the first problem it meets.
 *
 * @internal Not exported from the package.
 * @example
 * ```ts
 * const p = new CanvasParser();
 * const args = p.at('args', () => p.jsonArray(dict.args));
 * ```
 */
export class CanvasParser {
  /** Path segments from the root to the value being checked. */
  private readonly segments: PathSegment[] = [];
  /** Containers currently being walked: depth is its length; used to name cycles. */
  private readonly ancestors: object[] = [];
  /** The deepest level reached so far inside the canvas node being checked: its height. */
  private deepest = 0;

  /**
   * Runs `check` with `segment` appended to the current path.
   *
   * @param segment - A field name or an array index.
   * @param check - The check to run there.
   * @returns What `check` returns.
   * @example
   * ```ts
   * parser.at('tasks', () => parser.at(0, () => parser.canvas(x)));
   * ```
   */
  at<T>(segment: PathSegment, check: () => T): T {
    this.segments.push(segment);
    const result = check();
    this.segments.pop();
    return result;
  }

  /**
   * Throws a `CanvasError` at the current path.
   *
   * @param message - What was expected, e.g. `expected an array, got a string`.
   * @returns Never.
   * @example
   * ```ts
   * parser.fail('expected a string, got null');
   * ```
   */
  fail(message: string): never {
    throw new CanvasError(formatPath(this.segments), message);
  }

  /**
   * Marks `container` as entered for depth and cycle accounting; pair with {@link leave}.
   *
   * @param container - The object or array about to be walked.
   * @returns Nothing; throws when the nesting is too deep or circular.
   * @example
   * ```ts
   * parser.enter(node); try { ... } finally { parser.leave(); }
   * ```
   */
  enter(container: object): void {
    if (this.ancestors.length >= MAX_DEPTH) {
      this.fail(
        this.ancestors.includes(container)
          ? 'circular reference'
          : `nested deeper than ${MAX_DEPTH} levels`,
      );
    }
    this.ancestors.push(container);
    if (this.ancestors.length > this.deepest) this.deepest = this.ancestors.length;
  }

  /**
   * Leaves the container entered last.
   *
   * @returns Nothing.
   * @example
   * ```ts
   * parser.leave();
   * ```
   */
  leave(): void {
    this.ancestors.pop();
  }

  /**
   * Checks a canvas node (and everything below it) at the current path.
   *
   * @param value - The candidate node.
   * @returns A fresh, deeply frozen canvas.
   * @example
   * ```ts
   * const body = parser.at('body', () => parser.canvas(raw.body));
   * ```
   */
  canvas(value: unknown): Canvas {
    if (isSealed(value)) return this.sealed(value);
    const node = this.plainObject(value, 'a canvas object');
    const kind = this.at('kind', () => {
      const k = this.own(node, 'kind');
      if (typeof k === 'string' && (KINDS as readonly string[]).includes(k)) return k as CanvasKind;
      const expected = 'expected "signature", "chain", "group" or "chord"';
      return this.fail(k === undefined ? `required: ${expected}` : `${expected}, got ${describeLiteral(k)}`);
    });
    const fields = NODE_FIELDS[kind];
    for (const key of Object.keys(node)) {
      if (!fields.includes(key)) this.at(key, () => this.fail(unknownKey(key, `field of a ${kind}`, fields)));
    }
    this.refuseContainer(node);
    const base = this.ancestors.length;
    const outer = this.deepest;
    this.deepest = base;
    this.enter(node);
    let result: Canvas;
    switch (kind) {
      case 'signature':
        result = this.signature(node);
        break;
      case 'chain':
      case 'group':
        result = this.container(node, kind);
        break;
      case 'chord':
        result = this.chord(node);
        break;
    }
    this.leave();
    const height = this.deepest - base;
    this.deepest = Math.max(outer, this.deepest);
    const frozen = freeze(result);
    // Every node checked to the end is valid on its own: builders may reuse it even if a later
    // part of the input fails.
    register(frozen, height);
    return frozen;
  }

  /**
   * Checks a task name: a non-empty string outside the reserved namespace.
   *
   * @param value - The candidate name.
   * @returns The name.
   * @example
   * ```ts
   * parser.at('task', () => parser.taskName(raw.task));
   * ```
   */
  taskName(value: unknown): string {
    if (typeof value !== 'string') return this.fail(`expected a task name, got ${describe(value)}`);
    if (value.length === 0) return this.fail('expected a task name, got an empty string');
    if (isReservedTaskName(value)) {
      return this.fail(
        `the task name ${JSON.stringify(truncate(value))} is reserved: names starting with "${RESERVED_TASK_PREFIX}" ` +
          "belong to Celeriac's own jobs and cannot be sent in a canvas; rename the task",
      );
    }
    return value;
  }

  /**
   * Checks a JSON array (positional arguments, a map's items) and copies it.
   *
   * @param value - The candidate array.
   * @returns A fresh, deeply frozen array of JSON values.
   * @example
   * ```ts
   * const args = parser.at('args', () => parser.jsonArray(raw.args));
   * ```
   */
  jsonArray(value: unknown): readonly Json[] {
    if (jsonShape(value) !== 'array') return this.fail(`expected an array, got ${describe(value)}`);
    return this.json(value) as readonly Json[];
  }

  /**
   * Checks a JSON object (keyword arguments) and copies it.
   *
   * @param value - The candidate object.
   * @returns A fresh, deeply frozen object of JSON values.
   * @example
   * ```ts
   * const kwargs = parser.at('kwargs', () => parser.jsonObject(raw.kwargs));
   * ```
   */
  jsonObject(value: unknown): Kwargs {
    this.plainObject(value, 'an object');
    return this.json(value) as Kwargs;
  }

  /**
   * Checks any JSON value and copies it.
   *
   * @param value - The candidate value.
   * @returns A fresh, deeply frozen copy (empty arrays and objects are one shared frozen value).
   * @example
   * ```ts
   * parser.json({ a: [1, 'x', null] });
   * ```
   */
  json(value: unknown): Json {
    switch (jsonShape(value)) {
      case 'leaf':
        // JSON has no negative zero: keep `JSON.parse(JSON.stringify(x))` equal to `x`.
        return value === 0 ? 0 : (value as Json);
      case 'invalid':
        return this.fail(notJson(value));
      case 'array':
        return this.copyArray(value as readonly unknown[]);
      case 'object':
        return this.copyObject(value as Readonly<Record<string, unknown>>);
    }
  }

  private copyArray(array: readonly unknown[]): readonly Json[] {
    this.refuseContainer(array);
    // Empty lists and objects are shared: a 100 000-signature group holds one `{}`, not 100 000.
    const length = array.length;
    if (length === 0) return EMPTY_ARRAY;
    this.enter(array);
    const copy = new Array<Json>(length);
    for (let i = 0; i < length; i++) {
      this.segments.push(i);
      const item = array[i];
      if (item === undefined && !(i in array)) this.fail(SPARSE_SLOT);
      copy[i] = this.json(item);
      this.segments.pop();
    }
    this.leave();
    return freeze(copy);
  }

  private copyObject(object: Readonly<Record<string, unknown>>): Json {
    this.refuseContainer(object);
    const keys = Object.keys(object);
    if (keys.length === 0) return EMPTY_OBJECT;
    this.enter(object);
    const copy: { [key: string]: Json } = {};
    for (const key of keys) {
      this.segments.push(key);
      const item = object[key];
      const wrongKey = keyProblem(key, item);
      if (wrongKey !== undefined) this.fail(wrongKey);
      // defineProperty, not assignment: nothing a key says can run a setter or reach a prototype.
      Object.defineProperty(copy, key, { value: this.json(item), enumerable: true, writable: true, configurable: true });
      this.segments.pop();
    }
    this.leave();
    return freeze(copy);
  }

  private refuseContainer(container: object): void {
    const wrong = containerProblem(container);
    if (wrong !== undefined) this.fail(wrong);
  }

  /**
   * Checks an `options` object of our own format: every key must be a known option.
   *
   * @param value - The candidate options object.
   * @returns A fresh, deeply frozen {@link TaskOptions} (empty options are one shared frozen value).
   * @example
   * ```ts
   * const options = parser.at('options', () => parser.options(raw.options));
   * ```
   */
  options(value: unknown): TaskOptions {
    const raw = this.plainObject(value, 'an options object');
    this.refuseContainer(raw);
    if (Object.keys(raw).length === 0) return EMPTY_OBJECT;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(raw)) {
      this.at(key, () => {
        if (!OPTION_SET.has(key)) this.fail(unknownKey(key, 'option', OPTION_NAMES));
        out[key] = this.option(key as OptionName, raw[key]);
      });
    }
    this.checkTimeLimits(out as TaskOptions, 'softTimeLimit', 'timeLimit');
    return freeze(out as TaskOptions);
  }

  /**
   * Checks one option's value against its rule (see {@link parseCanvas}).
   *
   * @param name - The option, in our camelCase naming.
   * @param value - The candidate value.
   * @returns The validated (for `backoff`, `link`, `linkError`: copied and frozen) value.
   * @example
   * ```ts
   * parser.at('time_limit', () => parser.option('timeLimit', dict.options.time_limit));
   * ```
   */
  option<N extends OptionName>(name: N, value: unknown): NonNullable<TaskOptions[N]>;
  option(name: OptionName, value: unknown): unknown {
    switch (name) {
      case 'queue':
        if (typeof value !== 'string' || value.length === 0) {
          return this.fail(`expected a non-empty queue name, got ${describeLiteral(value)}`);
        }
        if (value.includes(':')) return this.fail(`queue names cannot contain ":" (got ${JSON.stringify(value)})`);
        return value;
      case 'priority':
        if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > MAX_PRIORITY) {
          return this.fail(`expected an integer from 1 (highest) to ${MAX_PRIORITY}, got ${describeLiteral(value)}`);
        }
        return value;
      case 'countdown':
        return this.nonNegative(value, 'seconds');
      case 'eta':
        return this.isoDate(value);
      case 'expires':
        return typeof value === 'string' ? this.isoDate(value) : this.nonNegative(value, 'seconds or an ISO-8601 date');
      case 'maxRetries':
        if (value !== null && (!Number.isSafeInteger(value) || (value as number) < 0)) {
          return this.fail(`expected an integer >= 0, or null for no limit, got ${describeLiteral(value)}`);
        }
        return value;
      case 'backoff':
        return this.backoff(value);
      case 'taskId':
        return this.taskId(value);
      case 'timeLimit':
      case 'softTimeLimit':
        if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
          return this.fail(`expected a number of seconds > 0, got ${describeLiteral(value)}`);
        }
        return value;
      case 'ignoreResult':
        return typeof value === 'boolean' ? value : this.fail(`expected a boolean, got ${describe(value)}`);
      case 'link':
      case 'linkError':
        return this.canvasList(value);
    }
  }

  /**
   * Rejects a soft time limit above the hard one.
   *
   * @param options - Validated options.
   * @param softKey - Path segment naming the soft limit (differs for Celery dicts).
   * @param hardKey - Name of the hard limit, for the message.
   * @returns Nothing; throws at `softKey` when `softTimeLimit > timeLimit`.
   * @example
   * ```ts
   * parser.checkTimeLimits(options, 'soft_time_limit', 'time_limit');
   * ```
   */
  checkTimeLimits(options: TaskOptions, softKey: string, hardKey: string): void {
    const { softTimeLimit, timeLimit } = options;
    if (softTimeLimit !== undefined && timeLimit !== undefined && softTimeLimit > timeLimit) {
      this.at(softKey, () =>
        this.fail(`must not exceed ${hardKey} (got ${softTimeLimit} > ${timeLimit})`),
      );
    }
  }

  /**
   * Checks a list of canvases (`tasks`, `header`, `link`, `linkError`).
   *
   * @param value - The candidate array.
   * @returns A fresh, frozen array of canvases.
   * @example
   * ```ts
   * const tasks = parser.at('tasks', () => parser.canvasList(raw.tasks));
   * ```
   */
  canvasList(value: unknown): readonly Canvas[] {
    if (jsonShape(value) !== 'array') return this.fail(`expected an array of canvases, got ${describe(value)}`);
    const list = value as readonly unknown[];
    const length = list.length;
    const out = new Array<Canvas>(length);
    for (let i = 0; i < length; i++) {
      this.segments.push(i);
      out[i] = this.canvas(list[i]);
      this.segments.pop();
    }
    return freeze(out);
  }

  /**
   * Checks that a value is a plain object (a `{}` literal or `JSON.parse` output).
   *
   * @param value - The candidate.
   * @param expected - How to name what was expected, e.g. `a canvas object`.
   * @returns The value, typed as a record.
   * @example
   * ```ts
   * const dict = parser.plainObject(value, 'a Celery signature dict');
   * ```
   */
  plainObject(value: unknown, expected: string): Readonly<Record<string, unknown>> {
    if (jsonShape(value) !== 'object') return this.fail(`expected ${expected}, got ${describe(value)}`);
    const object = value as Readonly<Record<string, unknown>>;
    // Unknown keys of structural objects are refused or ignored, never copied; `__proto__` is
    // refused all the same, so that no payload that tries it passes anywhere.
    if (Object.prototype.hasOwnProperty.call(object, '__proto__')) this.at('__proto__', () => this.fail(PROTO_KEY));
    return object;
  }

  /**
   * Reads an own property: never one inherited from a (possibly polluted) prototype.
   *
   * @param object - A plain object.
   * @param key - The field name.
   * @returns The field's value, or `undefined` when the object has no such own field.
   * @example
   * ```ts
   * parser.own(dict, 'subtask_type');
   * ```
   */
  own(object: Readonly<Record<string, unknown>>, key: string): unknown {
    return Object.prototype.hasOwnProperty.call(object, key) ? object[key] : undefined;
  }

  private signature(node: Readonly<Record<string, unknown>>): Signature {
    const task = this.at('task', () => this.taskName(this.own(node, 'task')));
    const rawArgs = this.own(node, 'args');
    const args = rawArgs === undefined ? EMPTY_ARRAY : this.at('args', () => this.jsonArray(rawArgs));
    const rawKwargs = this.own(node, 'kwargs');
    const kwargs = rawKwargs === undefined ? EMPTY_OBJECT : this.at('kwargs', () => this.jsonObject(rawKwargs));
    if (task === MAP_TASK || task === STARMAP_TASK) this.at('kwargs', () => this.mapKwargs(kwargs));
    const options = this.optionsField(node);
    const rawImmutable = this.own(node, 'immutable');
    if (rawImmutable !== undefined && typeof rawImmutable !== 'boolean') {
      this.at('immutable', () => this.fail(`expected a boolean, got ${describe(rawImmutable)}`));
    }
    return { kind: 'signature', task, args, kwargs, options, immutable: rawImmutable === true };
  }

  /** The mapped task of a `celery.map`/`celery.starmap` signature is a canvas, checked as one. */
  private mapKwargs(kwargs: Kwargs): void {
    const task = this.own(kwargs, 'task');
    this.at('task', () => (task === undefined ? this.fail('required: a map signature holds the mapped task here') : this.canvas(task)));
    const it = this.own(kwargs, 'it');
    if (jsonShape(it) !== 'array') this.at('it', () => this.fail(`required: expected the array of items, got ${describe(it)}`));
  }

  /** A node our builders or an earlier parse made: reused as is, if it fits below the current depth. */
  private sealed(node: Canvas): Canvas {
    const reach = this.ancestors.length + heightOf(node);
    if (reach > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    if (reach > this.deepest) this.deepest = reach;
    return node;
  }

  private container(node: Readonly<Record<string, unknown>>, kind: 'chain' | 'group'): Chain | Group {
    const rawTasks = this.own(node, 'tasks');
    const tasks = this.at('tasks', () =>
      rawTasks === undefined ? this.fail('required: expected an array of canvases') : this.canvasList(rawTasks),
    );
    return { kind, tasks, options: this.optionsField(node) };
  }

  private chord(node: Readonly<Record<string, unknown>>): Chord {
    const rawHeader = this.own(node, 'header');
    const header = this.at('header', () =>
      rawHeader === undefined ? this.fail('required: expected an array of canvases') : this.canvasList(rawHeader),
    );
    const rawBody = this.own(node, 'body');
    const body = this.at('body', () =>
      rawBody === undefined ? this.fail('required: expected a canvas object') : this.canvas(rawBody),
    );
    return { kind: 'chord', header, body, options: this.optionsField(node) };
  }

  private optionsField(node: Readonly<Record<string, unknown>>): TaskOptions {
    const raw = this.own(node, 'options');
    return raw === undefined ? EMPTY_OBJECT : this.at('options', () => this.options(raw));
  }

  private nonNegative(value: unknown, unit: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return this.fail(`expected a number >= 0 (${unit}), got ${describeLiteral(value)}`);
    }
    return value;
  }

  private isoDate(value: unknown): string {
    if (typeof value !== 'string') return this.fail(`expected an ISO-8601 date string, got ${describe(value)}`);
    const match = ISO_DATE.exec(value);
    if (match === null || Number.isNaN(Date.parse(value)) || !isCalendarDate(match)) {
      return this.fail(`expected an ISO-8601 date string, got ${JSON.stringify(truncate(value))}`);
    }
    return value;
  }

  private taskId(value: unknown): string {
    if (typeof value !== 'string' || value.length === 0) {
      return this.fail(`expected a non-empty id string, got ${describeLiteral(value)}`);
    }
    if (value.length > MAX_ID_LENGTH) return this.fail(`ids are at most ${MAX_ID_LENGTH} characters, got ${value.length}`);
    if (value === '0') return this.fail('"0" is reserved: a task id is its BullMQ job id, and BullMQ refuses job id 0');
    if (ID_FORBIDDEN.test(value)) {
      return this.fail(
        `ids cannot contain ":", "{", "}", whitespace or control characters (got ${JSON.stringify(truncate(value))})`,
      );
    }
    return value;
  }

  private backoff(value: unknown): Backoff {
    const raw = this.plainObject(value, 'a backoff object { type, delay, maxDelay?, jitter? }');
    this.refuseContainer(raw);
    for (const key of Object.keys(raw)) {
      if (!BACKOFF_FIELDS.includes(key)) this.at(key, () => this.fail(unknownKey(key, 'backoff field', BACKOFF_FIELDS)));
    }
    const type = this.own(raw, 'type');
    if (type !== 'fixed' && type !== 'exponential') {
      const expected = 'expected "fixed" or "exponential"';
      this.at('type', () => this.fail(type === undefined ? `required: ${expected}` : `${expected}, got ${describeLiteral(type)}`));
    }
    const delay = this.at('delay', () => this.nonNegative(this.own(raw, 'delay'), 'seconds'));
    const out: { -readonly [K in keyof Backoff]: Backoff[K] } = { type: type as Backoff['type'], delay };
    const maxDelay = this.own(raw, 'maxDelay');
    if (maxDelay !== undefined) {
      out.maxDelay = this.at('maxDelay', () => {
        const max = this.nonNegative(maxDelay, 'seconds');
        return max >= delay ? max : this.fail(`must be >= delay (got ${max} < ${delay})`);
      });
    }
    const jitter = this.own(raw, 'jitter');
    if (jitter !== undefined) {
      out.jitter = this.at('jitter', () =>
        typeof jitter === 'boolean' ? jitter : this.fail(`expected a boolean, got ${describe(jitter)}`),
      );
    }
    return freeze(out);
  }

}

function isCalendarDate(match: RegExpExecArray): boolean {
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function unknownKey(key: string, what: string, known: readonly string[]): string {
  return `unknown ${what} ${JSON.stringify(truncate(key))}; expected one of: ${known.join(', ')}`;
}
