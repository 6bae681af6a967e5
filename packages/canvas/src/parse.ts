/**
 * Validation of untrusted canvas input (JSON from the network, a Python producer, a Redis key).
 *
 * One pass over the input both checks and copies it, so the result can never differ from what
 * was checked (a getter or proxy is read exactly once) and the cost is linear in its size. Copies
 * are built from literals with keys that were checked first, so no payload can reach a prototype,
 * and each copy is frozen as soon as it is complete, so the whole result is deeply frozen without
 * a second walk.
 */
import { isSealed, trust } from './internal/sealed.js';
import { freeze } from 'immer';
import { CanvasError } from './errors.js';
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

/**
 * Deepest nesting `parseCanvas` accepts, counting every canvas node and every JSON array or object
 * on the way down (the `tasks`/`header`/`link` lists and `options` objects themselves do not
 * count). Deeper input is rejected before it can exhaust the stack of this or any later consumer.
 *
 * @example
 * ```ts
 * let deep: unknown = 1;
 * for (let i = 0; i < MAX_DEPTH; i++) deep = [deep];
 * parseCanvas({ kind: 'signature', task: 'add', args: [deep] }); // throws CanvasError
 * ```
 */
export const MAX_DEPTH = 200;

/** Keys that are never accepted anywhere: copying them is how prototype pollution starts. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

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
  'retries',
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
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Checks that a value is a well-formed canvas and returns a fresh, deeply frozen, plain copy.
 *
 * Accepts exactly the data model of `types.ts`: `kind` is required; `args`, `kwargs`, `options`
 * and `immutable` default to `[]`, `{}`, `{}` and `false`; unknown fields and unknown option
 * names are rejected (typo safety), and so are the keys `__proto__`, `constructor` and
 * `prototype` anywhere. Arguments must be JSON: no functions, symbols, bigints, `undefined`,
 * `NaN`/`Infinity`, class instances (`Date`, `Map`, …), sparse arrays or cycles; nesting is
 * limited to {@link MAX_DEPTH} levels. Option rules:
 * - `queue`: non-empty string without `:` (BullMQ rejects `:` in queue names);
 * - `priority`: integer 1 (highest) … 2 097 152;
 * - `countdown`: finite number ≥ 0 (seconds);
 * - `eta`: ISO-8601 date or date-time string of a real calendar date;
 * - `expires`: finite number ≥ 0 (seconds) or an ISO-8601 string as for `eta`;
 * - `retries`: integer ≥ 0;
 * - `backoff`: `{ type: 'fixed' | 'exponential', delay ≥ 0, maxDelay? ≥ delay, jitter?: boolean }`;
 * - `taskId`: 1–200 characters, no `:`, `{`, `}`, whitespace or control characters (ids become
 *   parts of Redis keys and hash tags), and not `0` (ids are BullMQ job ids, and BullMQ reserves 0);
 * - `timeLimit`, `softTimeLimit`: finite numbers > 0, `softTimeLimit ≤ timeLimit` when both are set;
 * - `ignoreResult`: boolean;
 * - `link`, `linkError`: arrays of canvases, parsed recursively.
 *
 * @param value - Anything, typically the result of `JSON.parse`.
 * @returns The validated canvas, deeply frozen: a new object graph sharing nothing with `value`,
 *   or `value` itself when the builders (or an earlier `parseCanvas`) made it — such values are
 *   valid and frozen already, so re-checking them would only cost a copy.
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
  const canvas = new CanvasParser().canvas(value);
  trust(canvas);
  return canvas;
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
  private readonly segments: (string | number)[] = [];
  /** Containers currently being walked: depth is its length; used to name cycles. */
  private readonly ancestors: object[] = [];

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
  at<T>(segment: string | number, check: () => T): T {
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
    const node = this.plainObject(value, 'a canvas object');
    const kind = this.at('kind', () => {
      const k = this.own(node, 'kind');
      if (typeof k === 'string' && (KINDS as readonly string[]).includes(k)) return k as CanvasKind;
      const expected = 'expected "signature", "chain", "group" or "chord"';
      return this.fail(k === undefined ? `required: ${expected}` : `${expected}, got ${describeLiteral(k)}`);
    });
    const fields = NODE_FIELDS[kind];
    for (const key of Object.keys(node)) {
      if (FORBIDDEN_KEYS.has(key)) this.at(key, () => this.fail(forbiddenKey(key)));
      if (!fields.includes(key)) this.at(key, () => this.fail(unknownKey(key, `field of a ${kind}`, fields)));
    }
    this.rejectSymbolKeys(node);
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
    return freeze(result);
  }

  /**
   * Checks a task name: a non-empty string.
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
    if (!isPlainArray(value)) return this.fail(`expected an array, got ${describe(value)}`);
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
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (!Number.isFinite(value)) return this.fail(`expected JSON, got ${describe(value)}`);
        // JSON has no negative zero: keep `JSON.parse(JSON.stringify(x))` equal to `x`.
        return value === 0 ? 0 : value;
      case 'object':
        if (value === null) return null;
        break;
      case 'bigint':
      case 'function':
      case 'symbol':
      case 'undefined':
        return this.fail(`expected JSON, got ${describe(value)}`);
    }
    if (isPlainArray(value)) {
      // Empty lists and objects are shared: a 100 000-signature group holds one `{}`, not 100 000.
      if (value.length === 0) return EMPTY_ARRAY;
      this.enter(value);
      const length = value.length;
      const copy = new Array<Json>(length);
      for (let i = 0; i < length; i++) {
        this.segments.push(i);
        if (!(i in value)) this.fail('expected JSON, got an empty slot (sparse array)');
        copy[i] = this.json(value[i]);
        this.segments.pop();
      }
      this.leave();
      return freeze(copy);
    }
    if (!isPlainObject(value)) return this.fail(`expected JSON, got ${describe(value)}`);
    this.rejectSymbolKeys(value);
    if (Object.keys(value).length === 0) return EMPTY_OBJECT;
    this.enter(value);
    const copy: { [key: string]: Json } = {};
    for (const key of Object.keys(value)) {
      this.segments.push(key);
      if (FORBIDDEN_KEYS.has(key)) this.fail(forbiddenKey(key));
      // Safe: `key` is an own data key that is not __proto__, so this defines a plain property.
      copy[key] = this.json((value as Record<string, unknown>)[key]);
      this.segments.pop();
    }
    this.leave();
    return freeze(copy);
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
    this.rejectSymbolKeys(raw);
    if (Object.keys(raw).length === 0) return EMPTY_OBJECT;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(raw)) {
      this.at(key, () => {
        if (FORBIDDEN_KEYS.has(key)) this.fail(forbiddenKey(key));
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
      case 'retries':
        if (!Number.isSafeInteger(value) || (value as number) < 0) {
          return this.fail(`expected an integer >= 0, got ${describeLiteral(value)}`);
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
    if (!isPlainArray(value)) return this.fail(`expected an array of canvases, got ${describe(value)}`);
    const length = value.length;
    const out = new Array<Canvas>(length);
    for (let i = 0; i < length; i++) {
      this.segments.push(i);
      out[i] = this.canvas(value[i]);
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
    if (!isPlainObject(value)) return this.fail(`expected ${expected}, got ${describe(value)}`);
    return value;
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
    const options = this.optionsField(node);
    const rawImmutable = this.own(node, 'immutable');
    if (rawImmutable !== undefined && typeof rawImmutable !== 'boolean') {
      this.at('immutable', () => this.fail(`expected a boolean, got ${describe(rawImmutable)}`));
    }
    return { kind: 'signature', task, args, kwargs, options, immutable: rawImmutable === true };
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
    this.rejectSymbolKeys(raw);
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

  private rejectSymbolKeys(object: object): void {
    const symbols = Object.getOwnPropertySymbols(object);
    if (symbols.length > 0) this.fail(`expected JSON, got an object with a symbol key (${String(symbols[0])})`);
  }
}

const EMPTY_ARRAY: readonly Json[] = freeze([]);
const EMPTY_OBJECT: { readonly [key: string]: never } = freeze({});

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isPlainArray(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype;
}

function isCalendarDate(match: RegExpExecArray): boolean {
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Names a value's type for an error message.
 *
 * @param value - Anything.
 * @returns `a string`, `NaN`, `a Date`, `an instance of Foo`, `a function`, …
 * @example
 * ```ts
 * describe(new Map()); // 'a Map'
 * ```
 */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'number':
      return Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? 'a number' : String(value);
    case 'bigint':
      return 'a bigint';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'object':
      break;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return isPlainArray(value) ? 'an array' : 'an array subclass instance';
  if (isPlainObject(value)) return 'an object';
  let name = '';
  try {
    const ctor: unknown = (Object.getPrototypeOf(value) as { constructor?: unknown }).constructor;
    if (typeof ctor === 'function' && typeof ctor.name === 'string') name = ctor.name;
  } catch {
    // A hostile prototype: fall through to the generic wording.
  }
  if (name === '') return 'a class instance';
  return BUILT_INS.has(name) ? `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}` : `an instance of ${name}`;
}

const BUILT_INS: ReadonlySet<string> = new Set([
  'Date', 'Map', 'Set', 'WeakMap', 'WeakSet', 'RegExp', 'Error', 'Promise', 'ArrayBuffer', 'DataView',
  'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array',
  'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Uint8ClampedArray', 'Buffer', 'URL',
  'Boolean', 'Number', 'String',
]);

/** Like {@link describe}, but shows strings, numbers and booleans themselves: `"foo"`, `-1`. */
function describeLiteral(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(truncate(value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describe(value);
}

function formatPath(segments: readonly (string | number)[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += path === '' ? segment : `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}

function forbiddenKey(key: string): string {
  return `the key "${key}" is not allowed (it could pollute prototypes)`;
}

function unknownKey(key: string, what: string, known: readonly string[]): string {
  return `unknown ${what} ${JSON.stringify(truncate(key))}; expected one of: ${known.join(', ')}`;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
