/**
 * Canvases built in code obey the same depth limit as parsed ones (MAX_DEPTH, counted the way
 * parseCanvas counts), are refused with a CanvasError at the first level too many — never with a
 * stack overflow, and without building on to the level asked for — and everything the builders or
 * the parser accept can be compiled, drawn and converted without overflowing the stack.
 */
import { describe, expect, it } from 'vitest';
import { fromCelery, toCelery } from './celery.js';
import { chain } from './chain.js';
import { chord } from './chord.js';
import { compile } from './compile.js';
import { CanvasError } from './errors.js';
import { group } from './group.js';
import { MAX_DEPTH } from './json.js';
import { parseCanvas } from './parse.js';
import { toDot, toMermaid } from './render.js';
import { partial, signature, withOptions } from './signature.js';
import type { Canvas, Json } from './types.js';

const leaf = signature('leaf');
const sig = (task: string): Canvas => ({ kind: 'signature', task, args: [], kwargs: {}, options: {}, immutable: false });

/** parseCanvas's verdict on the JSON form of a canvas: accepted, or refused with a CanvasError. */
function parses(canvas: unknown): boolean {
  try {
    parseCanvas(JSON.parse(JSON.stringify(canvas)));
    return true;
  } catch (e) {
    if (e instanceof CanvasError) return false;
    throw e;
  }
}

/** Every consumer of a canvas, run to the end: none may overflow the stack. */
function consumeAll(canvas: Canvas): void {
  const graph = compile(canvas);
  expect(graph.nodes.length).toBeGreaterThan(0);
  expect(toMermaid(graph)).toMatch(/^flowchart LR/);
  expect(toDot(canvas)).toMatch(/^digraph canvas/);
  expect(fromCelery(toCelery(canvas))).toStrictEqual(canvas);
}

interface Shape {
  readonly name: string;
  /** One more level, built with the builders. */
  readonly build: (inner: Canvas) => Canvas;
  /** The same level written by hand, as JSON would bring it. */
  readonly literal: (inner: Canvas) => Canvas;
}

const shapes: readonly Shape[] = [
  {
    name: 'chords nested in headers',
    build: (inner) => chord([inner], leaf),
    literal: (inner) => ({ kind: 'chord', header: [inner], body: sig('leaf'), options: {} }),
  },
  {
    name: 'chords nested in bodies',
    build: (inner) => chord([leaf], inner),
    literal: (inner) => ({ kind: 'chord', header: [sig('leaf')], body: inner, options: {} }),
  },
  {
    name: 'groups nested in groups',
    build: (inner) => group(inner, leaf),
    literal: (inner) => ({ kind: 'group', tasks: [inner, sig('leaf')], options: {} }),
  },
  {
    name: 'callbacks nested in callbacks',
    build: (inner) => withOptions(leaf, { link: [inner] }),
    literal: (inner) => ({ ...sig('leaf'), options: { link: [inner] } }),
  },
  {
    name: 'chains in groups',
    build: (inner) => group(chain(leaf, inner), leaf),
    literal: (inner) => ({ kind: 'group', tasks: [{ kind: 'chain', tasks: [sig('leaf'), inner], options: {} }, sig('leaf')], options: {} }),
  },
];

describe.each(shapes)('$name', ({ build, literal }) => {
  it('are refused by the builders exactly where parseCanvas refuses them', () => {
    let built: Canvas = leaf;
    let error: unknown;
    for (;;) {
      try {
        built = build(built);
      } catch (e) {
        error = e;
        break;
      }
    }
    expect(error).toBeInstanceOf(CanvasError);
    expect((error as CanvasError).message).toMatch(`but canvases are limited to ${MAX_DEPTH} (MAX_DEPTH)`);
    // The last level the builders made is one parseCanvas accepts; the next, written by hand, it refuses.
    expect(parses(built)).toBe(true);
    expect(parses(literal(built))).toBe(false);
    consumeAll(built);
  });

  it('refuses 20 000 levels at the first level too many, with a CanvasError, not a stack overflow', () => {
    let built: Canvas = leaf;
    let error: unknown;
    let levels = 0;
    for (; levels < 20_000; levels++) {
      try {
        built = build(built);
      } catch (e) {
        error = e;
        break;
      }
    }
    expect(error).toBeInstanceOf(CanvasError);
    // Each level adds at most three to the depth and at least one, so the loop stopped near MAX_DEPTH.
    expect(levels).toBeLessThan(MAX_DEPTH);
  });
});

describe('chain()', () => {
  /** What chain(g1, …, gn, s) is, written by hand: consecutive groups nest into chords (rule 5). */
  const nestedChords = (n: number): Canvas => {
    let body: Canvas = sig('leaf');
    for (let i = 0; i < n; i++) body = { kind: 'chord', header: [sig('a'), sig('b')], body, options: {} };
    return { kind: 'chain', tasks: [body], options: {} };
  };

  it('refuses consecutive groups nesting deeper than MAX_DEPTH, exactly where parseCanvas does', () => {
    const pair = group(signature('a'), signature('b'));
    let n = MAX_DEPTH - 10;
    expect(parses(nestedChords(n))).toBe(true);
    while (parses(nestedChords(n))) n += 1;
    // nestedChords(n) is too deep, nestedChords(n - 1) is not.
    const fits = chain([...Array.from({ length: n - 1 }, () => pair), leaf]);
    expect(fits).toStrictEqual(nestedChords(n - 1));
    consumeAll(fits);
    expect(() => chain([...Array.from({ length: n }, () => pair), leaf])).toThrow(CanvasError);
  });

  it('refuses 20 000 consecutive groups with a CanvasError naming the step, not a stack overflow', () => {
    const steps = new Array<Canvas>(20_000).fill(group(signature('a'), signature('b')));
    let error: unknown;
    try {
      chain(steps);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CanvasError);
    // Refused as soon as the chords it nests would pass the limit, not after walking all 20 000.
    const step = Number(/^steps\[(\d+)\]/.exec((error as CanvasError).path)?.[1]);
    expect(step).toBeGreaterThan(MAX_DEPTH / 2);
    expect(step).toBeLessThanOrEqual(MAX_DEPTH + 2);
  });

  it('extends a chord body with 100 000 steps in one call (each step joins the body once)', () => {
    // Rebuilding the body at every step would copy 5 * 10^9 steps here; the test would not end.
    const steps = Array.from({ length: 100_000 }, (_, i) => signature('t', [i]));
    const built = chain([group(signature('a'), signature('b')), ...steps]);
    const only = built.tasks[0];
    expect(built.tasks).toHaveLength(1);
    expect(only?.kind).toBe('chord');
    const body = only?.kind === 'chord' ? only.body : undefined;
    expect(body?.kind === 'chain' ? body.tasks : []).toHaveLength(100_000);
    expect(Object.isFrozen(body)).toBe(true);
    expect(parseCanvas(built)).toBe(built);
  });

  it('leaves a chord body it was given untouched while extending it', () => {
    const body = chain(signature('x'), signature('y'));
    const given = chord([signature('a')], body);
    const built = chain(given, signature('z'), signature('w'));
    expect(body.tasks).toHaveLength(2);
    expect(given.body).toBe(body);
    expect(built.tasks[0]).toMatchObject({ kind: 'chord', body: { kind: 'chain', tasks: [{ task: 'x' }, { task: 'y' }, { task: 'z' }, { task: 'w' }] } });
  });
});

describe('arguments', () => {
  const deepJson = (levels: number): Json => {
    let deep: Json = 1;
    for (let i = 0; i < levels; i++) deep = [deep];
    return deep;
  };

  it('count toward the depth of what partial() builds, as parseCanvas counts them', () => {
    // The signature and its args array are two levels; the deepest argument fills the rest.
    const base = signature('t');
    expect(parses(partial(base, [deepJson(MAX_DEPTH - 2)]))).toBe(true);
    expect(() => partial(base, [deepJson(MAX_DEPTH - 1)])).toThrow(CanvasError);
    expect(() => partial(group(base, base), [deepJson(MAX_DEPTH - 2)])).toThrow(/^partial\(\) would nest the canvas 201 levels deep/);
  });

  it('count toward the depth of a chord built over a deep signature', () => {
    const deep = signature('t', [deepJson(MAX_DEPTH - 2)]);
    expect(parses(deep)).toBe(true);
    expect(() => chord([deep], leaf)).toThrow(/^chord\(\) would nest the canvas 201 levels deep/);
  });
});

describe('fromCelery', () => {
  it('refuses a dict that is within the limit in Celery form but too deep in ours', () => {
    // A map's task sits one level deeper in our format (inside kwargs) than in Celery's.
    const dict = (task: unknown): object => ({ task: 'celery.map', args: [], kwargs: { task, it: [1] }, options: {}, subtask_type: 'xmap', immutable: false });
    const nested = (levels: number): unknown => {
      let deep: unknown = { task: 'leaf' };
      for (let i = 0; i < levels; i++) deep = dict(deep);
      return deep;
    };
    // Each Celery level is one dict; in our format the map signature and its kwargs are two levels.
    let levels = MAX_DEPTH / 2 - 10;
    expect(parses(fromCelery(nested(levels)))).toBe(true);
    let error: unknown;
    while (error === undefined && levels < MAX_DEPTH) {
      levels += 1;
      try {
        expect(parses(fromCelery(nested(levels)))).toBe(true);
      } catch (e) {
        error = e;
      }
    }
    expect(levels).toBeLessThan(MAX_DEPTH - 10);
    expect(error).toBeInstanceOf(CanvasError);
    expect((error as CanvasError).message).toMatch(/^fromCelery\(\) would nest the canvas 201 levels deep/);
  });
});

describe('compile', () => {
  it('refuses a hand-written canvas deeper than MAX_DEPTH with a CanvasError, not a stack overflow', () => {
    let deep: Canvas = sig('leaf');
    for (let i = 0; i < 20_000; i++) deep = { kind: 'chord', header: [deep], body: sig('b'), options: {} };
    expect(() => compile(deep)).toThrow(CanvasError);
    expect(() => toMermaid(deep)).toThrow(CanvasError);
    expect(() => toCelery(deep)).toThrow(CanvasError);
  });
});
