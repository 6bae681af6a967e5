/**
 * Property-based tests (fast-check) of everything that takes untrusted input — parseCanvas,
 * fromCelery, findJsonProblem — and of the laws that tie the formats together:
 * - on any input, random or a mutated valid canvas, the only exception is a CanvasError, nothing
 *   reaches Object.prototype, and no depth (up to 100 000 levels of hostile nesting) overflows the
 *   stack;
 * - for every valid canvas x, `parseCanvas(JSON.parse(JSON.stringify(x)))` and
 *   `fromCelery(toCelery(x))` deep-equal x, and compile/toMermaid/toDot accept it;
 * - what the builders make is what parseCanvas accepts, and they never change their inputs;
 * - findJsonProblem passes exactly what JSON.stringify carries faithfully.
 *
 * Runs: each property runs CELERIAC_FUZZ_RUNS times (default 60, a few seconds in all, for CI).
 * For a long hunt: `CELERIAC_FUZZ_RUNS=20000 npx vitest run --project unit fuzz`. A failure
 * prints the seed and the shrunk counterexample; replay it with `fc.assert(..., { seed, path })`.
 */
import fc from 'fast-check';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromCelery, toCelery } from './celery.js';
import { chain } from './chain.js';
import { chord } from './chord.js';
import { compile } from './compile.js';
import { CanvasError } from './errors.js';
import { group } from './group.js';
import { MAX_DEPTH, findJsonProblem } from './json.js';
import { parseCanvas } from './parse.js';
import { toDot, toMermaid } from './render.js';
import { immutable, partial, signature, withOptions } from './signature.js';
import type { Backoff, Canvas, Json, TaskOptions } from './types.js';

/** How many cases each property tries; raise it to hunt longer (see the module comment). */
const RUNS = Number(process.env['CELERIAC_FUZZ_RUNS'] ?? 60);
const config = { numRuns: RUNS };
/** Per-test time limit, growing with the number of runs. */
const TIMEOUT = Math.max(10_000, RUNS * 40);

// ---------------------------------------------------------------------------------------------
// Prototype pollution: Object.prototype must look the same after every case.
// ---------------------------------------------------------------------------------------------

let pristine: string[] = [];
beforeAll(() => {
  pristine = Object.getOwnPropertyNames(Object.prototype).sort();
});
function expectPrototypesClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toStrictEqual(pristine);
  expect(Object.getOwnPropertySymbols(Object.prototype)).toStrictEqual([]);
  for (const key in {}) throw new Error(`Object.prototype gained the enumerable key ${key}`);
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
}
afterEach(expectPrototypesClean);

/** Runs `f`; an exception other than a CanvasError fails the property. */
function onlyCanvasErrors(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    if (e instanceof CanvasError) return e;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Valid canvases.
// ---------------------------------------------------------------------------------------------

/** JSON as parseCanvas accepts and returns it: no -0, no __proto__, no constructor holding an object. */
function sanitize(value: unknown): Json {
  if (typeof value === 'number') return value === 0 ? 0 : value;
  if (typeof value !== 'object' || value === null) return value as Json;
  if (Array.isArray(value)) return value.map(sanitize);
  const out: { [key: string]: Json } = {};
  for (const key of Object.keys(value)) {
    if (key === '__proto__') continue;
    const item = sanitize((value as Record<string, unknown>)[key]);
    Object.defineProperty(out, key, {
      value: key === 'constructor' && typeof item === 'object' && item !== null ? 'replaced' : item,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

const json: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }).map(sanitize);
const jsonArgs = fc.array(json, { maxLength: 3 });
const jsonKwargs = fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 3 }).map((k) => sanitize(k) as { [key: string]: Json });

const taskName = fc.oneof(
  fc.constantFrom('add', 'tasks.mul', 'tsum', 'celery.chord_unlock', 'constructor', '__proto__', 'ce.leriac'),
  fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.startsWith('celeriac.') && s !== 'celery.map' && s !== 'celery.starmap'),
);
const id = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s !== '0' && !/[:{}\s\p{Cc}]/u.test(s));
const isoDate = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const seconds = fc.double({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((n) => (n === 0 ? 0 : n));
const backoff: fc.Arbitrary<Backoff> = fc
  .record({ type: fc.constantFrom('fixed' as const, 'exponential' as const), delay: seconds, extra: seconds, jitter: fc.option(fc.boolean(), { nil: undefined }) })
  .map(({ type, delay, extra, jitter }) => ({ type, delay, maxDelay: delay + extra, ...(jitter === undefined ? {} : { jitter }) }));

/** Valid options; `canvases` for link/linkError (none at the bottom of the recursion). */
function options(canvases: fc.Arbitrary<Canvas> | undefined): fc.Arbitrary<TaskOptions> {
  const limits = fc.option(fc.tuple(fc.double({ min: 0.001, max: 1e4, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { nil: undefined });
  const lists = canvases === undefined ? fc.constant(undefined) : fc.option(fc.array(canvases, { maxLength: 2 }), { nil: undefined });
  return fc
    .record(
      {
        queue: fc.string({ minLength: 1, maxLength: 10 }).filter((q) => !q.includes(':')),
        priority: fc.integer({ min: 1, max: 2_097_152 }),
        countdown: seconds,
        eta: isoDate,
        expires: fc.oneof(seconds, isoDate),
        maxRetries: fc.option(fc.nat({ max: 100 }), { nil: null }),
        backoff,
        taskId: id,
        ignoreResult: fc.boolean(),
      },
      { requiredKeys: [], noNullPrototype: true },
    )
    .chain((plain) =>
      fc.tuple(limits, lists, lists).map(([limit, link, linkError]) => {
        const out: { -readonly [K in keyof TaskOptions]: TaskOptions[K] } = { ...plain };
        if (limit !== undefined) {
          out.timeLimit = limit[0];
          out.softTimeLimit = limit[0] * limit[1] || limit[0];
        }
        if (link !== undefined) out.link = link;
        if (linkError !== undefined) out.linkError = linkError;
        return out;
      }),
    );
}

/** Records as JSON.parse makes them: with Object.prototype (fast-check also makes null-prototype ones). */
const plain = { noNullPrototype: true } as const;

/** A valid canvas at most `depth` canvas levels deep, in the exact form parseCanvas returns. */
function canvasOf(depth: number): fc.Arbitrary<Canvas> {
  const below = depth > 1 ? canvasOf(depth - 1) : undefined;
  const opts = fc.oneof({ weight: 3, arbitrary: fc.constant<TaskOptions>({}) }, { weight: 1, arbitrary: options(below) });
  const sig: fc.Arbitrary<Canvas> = fc.record({
    kind: fc.constant('signature' as const),
    task: taskName,
    args: jsonArgs,
    kwargs: jsonKwargs,
    options: opts,
    immutable: fc.boolean(),
  }, plain);
  // celery.map/celery.starmap in the canonical form builders make (and Celery can carry back).
  const mapped: fc.Arbitrary<Canvas> = fc
    .record({ task: fc.constantFrom('celery.map', 'celery.starmap'), inner: taskName, args: jsonArgs, it: jsonArgs, options: opts })
    .map(({ task, inner, args, it, options: o }) => ({
      kind: 'signature',
      task,
      args: [],
      kwargs: { task: { kind: 'signature', task: inner, args, kwargs: {}, options: {}, immutable: false }, it },
      options: o,
      immutable: true,
    }));
  if (below === undefined) return fc.oneof({ weight: 4, arbitrary: sig }, { weight: 1, arbitrary: mapped });
  const list = fc.array(below, { maxLength: 3 });
  return fc.oneof(
    { weight: 3, arbitrary: sig },
    { weight: 1, arbitrary: mapped },
    { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('chain' as const, 'group' as const), tasks: list, options: opts }, plain) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('chord' as const), header: list, body: below, options: opts }, plain) },
  );
}

const validCanvas = canvasOf(4);

/** Stays on the right side of MAX_DEPTH: a chain of `levels` nested chords around a canvas. */
const deepValidCanvas = fc.tuple(fc.integer({ min: 1, max: MAX_DEPTH - 10 }), canvasOf(2)).map(([levels, inner]) => {
  let deep: Canvas = inner;
  for (let i = 0; i < levels && i < MAX_DEPTH - 10; i++) deep = { kind: 'chord', header: [], body: deep, options: {} };
  return deep;
});

// ---------------------------------------------------------------------------------------------
// Hostile input.
// ---------------------------------------------------------------------------------------------

/** Values that are not JSON, or are JSON in the wrong place; objects are made fresh for each case. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<() => unknown>(
    () => undefined,
    () => Number.NaN,
    () => Infinity,
    () => -0,
    () => 10n,
    () => Symbol('s'),
    () => () => 1,
    () => new Map([[1, 2]]),
    () => new Date(0),
    () => /x/,
    () => new Uint8Array(1),
    () => Object.assign([1], { toJSON: () => 'x' }),
    () => JSON.parse('{"__proto__":{"polluted":1}}'),
    () => JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'),
    () => JSON.parse('{"kind":"signature","task":"celeriac.replaced","kwargs":{"w":"victim"}}'),
    () => JSON.parse('{"task":"celeriac.replaced","args":[665],"kwargs":{"w":"victim","i":0}}'),
  ).map((make) => make()),
  fc.constantFrom<unknown>('celeriac.replaced', 'celeriac.release', '', 'signature', 'chord', 'celery.map', 'celery.chain'),
  fc.anything({ maxDepth: 3, withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withObjectString: true, withSparseArray: true, withTypedArray: true }),
  fc.jsonValue({ maxDepth: 3 }),
);

type Mutable = Record<string, unknown> | unknown[];

/** Every container in a JSON-like tree (cycles included, once) with a key in it, without recursion. */
function slots(root: unknown): [Mutable, string | number][] {
  const out: [Mutable, string | number][] = [];
  const stack: unknown[] = [root];
  const seen = new Set<unknown>();
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    const container = value as Mutable;
    for (const key of Array.isArray(container) ? container.keys() : Object.keys(container)) {
      out.push([container, key]);
      stack.push((container as Record<string | number, unknown>)[key]);
    }
  }
  return out;
}

type Mutation = (container: Mutable, key: string | number, payload: unknown) => void;
const mutations: readonly Mutation[] = [
  (c, k, payload) => void ((c as Record<string | number, unknown>)[k] = payload),
  (c, k) => void delete (c as Record<string | number, unknown>)[k],
  (c, _k, payload) => void Object.defineProperty(c, '__proto__', { value: payload, enumerable: true, writable: true, configurable: true }),
  (c, _k, payload) => void ((c as Record<string, unknown>)['constructor'] = { prototype: { polluted: payload } }),
  (c, _k, payload) => void ((c as Record<string, unknown>)['extra'] = payload),
  (c, k) => void ((c as Record<string | number, unknown>)[k] = c), // a cycle
  (c, k) => void ((c as Record<string | number, unknown>)[k] = (c as Record<string | number, unknown>)[k] === undefined ? 'celeriac.replaced' : deepen((c as Record<string | number, unknown>)[k], 300)),
];

function deepen(value: unknown, levels: number): unknown {
  let deep = value;
  for (let i = 0; i < levels; i++) deep = i % 2 === 0 ? [deep] : { k: deep };
  return deep;
}

/** A valid canvas (in our format, or as a Celery dict) with a few random mutations. */
function mutated(celery: boolean): fc.Arbitrary<unknown> {
  return fc
    .tuple(validCanvas, fc.array(fc.tuple(fc.nat(), fc.nat({ max: mutations.length - 1 }), weird), { minLength: 1, maxLength: 3 }))
    .map(([canvas, edits]) => {
      const root: unknown = JSON.parse(JSON.stringify(celery ? toCelery(canvas) : canvas));
      // Slots of the fresh copy only: payloads (which fast-check may reuse while shrinking) stay untouched.
      const all = slots(root);
      for (const [where, which, payload] of edits) {
        const slot = all[where % Math.max(all.length, 1)];
        if (slot !== undefined) mutations[which]?.(slot[0], slot[1], payload);
      }
      return root;
    });
}

/** Nesting `levels` deep (each level at least one more than parseCanvas allows in all) made of a repeating pattern of canvas, JSON and Celery containers. */
const hostileNesting = fc
  .tuple(
    fc.integer({ min: MAX_DEPTH + 1, max: 100_000 }),
    fc.array(fc.constantFrom('chain', 'group', 'chordHeader', 'chordBody', 'link', 'args', 'kwargs', 'array', 'object', 'celeryChain', 'celeryBody', 'celeryMap'), { minLength: 1, maxLength: 4 }),
  )
  .map(([levels, pattern]) => {
    let deep: unknown = { kind: 'signature', task: 't' };
    for (let i = 0; i < levels; i++) {
      switch (pattern[i % pattern.length] ?? 'array') {
        case 'chain':
          deep = { kind: 'chain', tasks: [deep] };
          break;
        case 'group':
          deep = { kind: 'group', tasks: [deep] };
          break;
        case 'chordHeader':
          deep = { kind: 'chord', header: [deep], body: { kind: 'signature', task: 'b' } };
          break;
        case 'chordBody':
          deep = { kind: 'chord', header: [], body: deep };
          break;
        case 'link':
          deep = { kind: 'signature', task: 'l', options: { link: [deep] } };
          break;
        case 'args':
          deep = { kind: 'signature', task: 'a', args: [deep] };
          break;
        case 'kwargs':
          deep = { kind: 'signature', task: 'k', kwargs: { x: deep } };
          break;
        case 'array':
          deep = [deep];
          break;
        case 'object':
          deep = { o: deep };
          break;
        case 'celeryChain':
          deep = { task: 'celery.chain', subtask_type: 'chain', kwargs: { tasks: [deep] } };
          break;
        case 'celeryBody':
          deep = { task: 'celery.chord', subtask_type: 'chord', kwargs: { header: [], body: deep } };
          break;
        case 'celeryMap':
          deep = { task: 'celery.map', subtask_type: 'xmap', kwargs: { task: deep, it: [] } };
          break;
      }
    }
    return { levels, deep };
  });

// ---------------------------------------------------------------------------------------------
// The properties.
// ---------------------------------------------------------------------------------------------

describe('parseCanvas on untrusted input', () => {
  it('throws nothing but CanvasError on random values', () => {
    fc.assert(fc.property(weird, (value) => void onlyCanvasErrors(() => parseCanvas(value))), config);
  }, TIMEOUT);

  it('throws nothing but CanvasError on mutated valid canvases, and what it accepts round-trips', () => {
    fc.assert(
      fc.property(mutated(false), (value) => {
        const result = onlyCanvasErrors(() => parseCanvas(value));
        if (result instanceof CanvasError) return;
        const canvas = result as Canvas;
        expect(parseCanvas(JSON.parse(JSON.stringify(canvas)))).toStrictEqual(canvas);
        expect(Object.isFrozen(canvas)).toBe(true);
      }),
      config,
    );
  }, TIMEOUT);

  it('refuses hostile nesting up to 100 000 levels with a CanvasError, never a stack overflow', () => {
    fc.assert(
      fc.property(hostileNesting, ({ deep }) => {
        expect(onlyCanvasErrors(() => parseCanvas(deep))).toBeInstanceOf(CanvasError);
      }),
      { numRuns: Math.max(10, Math.ceil(RUNS / 6)) },
    );
  }, TIMEOUT);
});

describe('fromCelery on untrusted input', () => {
  it('throws nothing but CanvasError on random values', () => {
    fc.assert(fc.property(weird, (value) => void onlyCanvasErrors(() => fromCelery(value))), config);
  }, TIMEOUT);

  it('throws nothing but CanvasError on mutated valid Celery dicts, and returns only what parseCanvas accepts', () => {
    fc.assert(
      fc.property(mutated(true), (value) => {
        const result = onlyCanvasErrors(() => fromCelery(value));
        if (result instanceof CanvasError) return;
        expect(parseCanvas(JSON.parse(JSON.stringify(result)))).toStrictEqual(result);
      }),
      config,
    );
  }, TIMEOUT);

  it('refuses hostile nesting up to 100 000 levels with a CanvasError, never a stack overflow', () => {
    fc.assert(
      fc.property(hostileNesting, ({ deep }) => {
        const result = onlyCanvasErrors(() => fromCelery(deep));
        // Patterns without a Celery container are a lone dict with an unknown shape: refused too.
        expect(result).toBeInstanceOf(CanvasError);
      }),
      { numRuns: Math.max(10, Math.ceil(RUNS / 6)) },
    );
  }, TIMEOUT);
});

describe('round-trip laws for every valid canvas', () => {
  it('parseCanvas(JSON.parse(JSON.stringify(x))) deep-equals x', () => {
    fc.assert(
      fc.property(fc.oneof(validCanvas, deepValidCanvas), (canvas) => {
        expect(parseCanvas(JSON.parse(JSON.stringify(canvas)))).toStrictEqual(canvas);
      }),
      config,
    );
  }, TIMEOUT);

  it('fromCelery(toCelery(x)) deep-equals x, through JSON too', () => {
    fc.assert(
      fc.property(fc.oneof(validCanvas, deepValidCanvas), (canvas) => {
        expect(fromCelery(toCelery(canvas))).toStrictEqual(canvas);
        expect(fromCelery(JSON.parse(JSON.stringify(toCelery(canvas))))).toStrictEqual(canvas);
      }),
      config,
    );
  }, TIMEOUT);

  it('compiles and draws every valid canvas without overflowing the stack', () => {
    fc.assert(
      fc.property(fc.oneof(validCanvas, deepValidCanvas), (canvas) => {
        const graph = compile(canvas);
        expect(toMermaid(graph)).toMatch(/^flowchart LR\n/);
        expect(toDot(graph)).toMatch(/^digraph canvas \{\n/);
      }),
      config,
    );
  }, TIMEOUT);
});

describe('builders', () => {
  /** Rebuilds a canvas with the builders, which normalise it (Celery's rules) as they go. */
  function rebuild(canvas: Canvas): Canvas {
    const options = canvas.options;
    let built: Canvas;
    switch (canvas.kind) {
      case 'signature':
        built = signature(canvas.task, canvas.args, canvas.kwargs);
        if (canvas.immutable) built = immutable(built);
        break;
      case 'chain':
        built = chain(canvas.tasks.map(rebuild));
        break;
      case 'group':
        built = group(canvas.tasks.map(rebuild));
        break;
      case 'chord':
        built = chord(canvas.header.map(rebuild), rebuild(canvas.body));
        break;
    }
    return Object.keys(options).length === 0 ? built : withOptions(built, options);
  }

  it('make only what parseCanvas accepts unchanged, and never change their inputs', () => {
    fc.assert(
      fc.property(validCanvas, jsonArgs, (canvas, extra) => {
        const input = JSON.stringify(canvas);
        const built = onlyCanvasErrors(() => partial(rebuild(canvas), extra));
        expect(JSON.stringify(canvas)).toBe(input);
        if (built instanceof CanvasError) {
          // Only a real problem: partial arguments that are not JSON cannot come from jsonArgs.
          throw built;
        }
        const result = built as Canvas;
        expect(parseCanvas(result)).toBe(result);
        expect(parseCanvas(JSON.parse(JSON.stringify(result)))).toStrictEqual(result);
        expect(fromCelery(toCelery(result))).toStrictEqual(result);
        compile(result);
      }),
      config,
    );
  }, TIMEOUT);
});

describe('findJsonProblem', () => {
  /** Whether JSON.stringify then JSON.parse gives `value` back (-0 may come back as 0). */
  function survivesJson(value: unknown): boolean {
    let text: string;
    try {
      text = JSON.stringify([value]);
    } catch {
      return false; // a cycle or a bigint: JSON.stringify throws
    }
    return sameJson(value, (JSON.parse(text) as unknown[])[0]);
  }
  function sameJson(a: unknown, b: unknown): boolean {
    if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b || (Number.isNaN(a) && Number.isNaN(b));
    // JSON.parse makes only plain arrays and objects: anything else came back as something else.
    const proto: unknown = Object.getPrototypeOf(a);
    if (proto !== Object.prototype && proto !== null && proto !== Array.prototype) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const keysA = Reflect.ownKeys(a);
    const keysB = Reflect.ownKeys(b);
    if (keysA.length !== keysB.length) return false;
    return keysA.every((key) => typeof key === 'string' && Object.prototype.hasOwnProperty.call(b, key) && sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
  }

  it('passes exactly the values JSON.stringify carries faithfully (bar __proto__ and constructor objects)', () => {
    fc.assert(
      fc.property(weird, (value) => {
        const problem = findJsonProblem(value);
        if (problem === undefined) {
          expect(value === undefined || survivesJson(value)).toBe(true);
        } else {
          expect(problem.path.startsWith('result')).toBe(true);
          // What it refuses is lost or changed by JSON, or is a key that could reach a prototype.
          expect(!survivesJson(value) || /__proto__|constructor/.test(problem.message) || problem.message === 'circular reference').toBe(true);
        }
      }),
      config,
    );
  }, TIMEOUT);

  it('agrees with parseCanvas about arguments', () => {
    fc.assert(
      fc.property(weird, (value) => {
        const parsed = onlyCanvasErrors(() => parseCanvas({ kind: 'signature', task: 't', args: [value] }));
        const problem = findJsonProblem([value], 'args');
        if (parsed instanceof CanvasError) expect(parsed.message).toBe(`${problem?.path}: ${problem?.message}`);
        else expect(problem).toBeUndefined();
      }),
      config,
    );
  }, TIMEOUT);
});
