import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, findJsonProblem } from './json.js';
import { parseCanvas } from './parse.js';
import { CanvasError } from './errors.js';

describe('findJsonProblem', () => {
  it('accepts JSON of every kind, and a top-level undefined (the caller decides what it means)', () => {
    const json = { a: [1, -2.5, 'x', true, false, null, { b: [] }, {}], 'odd key': 0, constructor: 'Point', prototype: { x: 1 } };
    expect(findJsonProblem(json)).toBeUndefined();
    expect(findJsonProblem(Object.create(null))).toBeUndefined();
    for (const leaf of [0, -0, 'x', '', true, null, Number.MAX_VALUE]) expect(findJsonProblem(leaf)).toBeUndefined();
    expect(findJsonProblem(undefined)).toBeUndefined();
  });

  it('names the path to NaN as CanvasError paths are written', () => {
    expect(findJsonProblem({ a: [1, 2, Number.NaN] })).toStrictEqual({ path: 'result.a[2]', message: 'expected JSON, got NaN' });
  });

  it('starts the path at the given root, or at nothing', () => {
    expect(findJsonProblem({ a: Infinity }, 'value')).toStrictEqual({ path: 'value.a', message: 'expected JSON, got Infinity' });
    expect(findJsonProblem({ a: [Infinity] }, '')).toStrictEqual({ path: 'a[0]', message: 'expected JSON, got Infinity' });
    expect(findJsonProblem(-Infinity)).toStrictEqual({ path: 'result', message: 'expected JSON, got -Infinity' });
  });

  it('quotes keys that are not identifiers', () => {
    expect(findJsonProblem({ 'my key': [undefined] })?.path).toBe('result["my key"][0]');
  });

  // Everything JSON.stringify would silently drop, change or replace.
  const cases: [string, unknown, string][] = [
    ['undefined in an array', [1, undefined], 'expected JSON, got undefined'],
    ['undefined in an object', { a: undefined }, 'expected JSON, got undefined'],
    ['a function', { f: () => 1 }, 'expected JSON, got a function'],
    ['a symbol', [Symbol('s')], 'expected JSON, got a symbol'],
    ['NaN', [Number.NaN], 'expected JSON, got NaN'],
    ['Infinity', [Infinity], 'expected JSON, got Infinity'],
    ['a bigint', [10n], 'expected JSON, got a bigint'],
    ['a Map', [new Map([[1, 2]])], 'expected JSON, got a Map'],
    ['a Set', [new Set([1])], 'expected JSON, got a Set'],
    ['a Date', [new Date(0)], 'expected JSON, got a Date'],
    ['a RegExp', [/x/], 'expected JSON, got a RegExp'],
    ['a typed array', [new Uint8Array(2)], 'expected JSON, got a Uint8Array'],
    ['a boxed number', [Object(1)], 'expected JSON, got a Number'],
    ['a class instance', [new (class Point { x = 1 })()], 'expected JSON, got an instance of Point'],
    ['an array subclass', [new (class List extends Array {})()], 'expected JSON, got an array subclass instance'],
    ['an error', [new Error('x')], 'expected JSON, got an Error'],
  ];
  for (const [name, value, message] of cases) {
    it(`finds ${name}`, () => {
      const problem = findJsonProblem({ deep: { in: value } });
      expect(problem?.message).toBe(message);
      expect(problem?.path.startsWith('result.deep.in')).toBe(true);
    });
  }

  it('finds an empty slot of a sparse array, which JSON.stringify turns into null', () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(findJsonProblem([1, , 3])).toStrictEqual({ path: 'result[1]', message: 'expected JSON, got an empty slot (sparse array)' });
  });

  it('finds objects and arrays with a toJSON method, whose output JSON.stringify would send instead', () => {
    expect(findJsonProblem({ a: { toJSON: () => 'x' } })).toStrictEqual({
      path: 'result.a',
      message: 'expected JSON, got an object with a toJSON method (JSON.stringify would send what it returns instead)',
    });
    const list = Object.assign([1], { toJSON: () => 'x' });
    expect(findJsonProblem([list])?.path).toBe('result[0]');
  });

  it('finds symbol keys, which JSON.stringify drops', () => {
    expect(findJsonProblem({ a: { [Symbol('k')]: 1 } })).toStrictEqual({
      path: 'result.a',
      message: 'expected JSON, got an object with a symbol key (Symbol(k))',
    });
  });

  it('finds a cycle without overflowing the stack', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop['self'] = loop;
    const problem = findJsonProblem({ x: [loop] });
    expect(problem?.message).toBe('circular reference');
    expect(problem?.path).toBe('result.x[0].self');
  });

  it('accepts the same object used twice (shared, not circular)', () => {
    const shared = { a: [1] };
    expect(findJsonProblem([shared, { b: shared }])).toBeUndefined();
  });

  it(`accepts ${MAX_DEPTH} levels of nesting and refuses one more, as parseCanvas does`, () => {
    let deep: unknown = 1;
    for (let i = 0; i < MAX_DEPTH; i++) deep = [deep];
    expect(findJsonProblem(deep)).toBeUndefined();
    expect(findJsonProblem([deep])).toMatchObject({ message: `nested deeper than ${MAX_DEPTH} levels` });
  });

  it('refuses 100 000 levels of nesting without overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: [deep] };
    expect(findJsonProblem(deep)?.message).toBe(`nested deeper than ${MAX_DEPTH} levels`);
  });

  it('refuses a __proto__ key anywhere, and constructor holding an object or array', () => {
    expect(findJsonProblem(JSON.parse('{"a":[{"__proto__":1}]}'))).toStrictEqual({
      path: 'result.a[0].__proto__',
      message: 'the key "__proto__" is not allowed (it could pollute prototypes)',
    });
    expect(findJsonProblem(JSON.parse('{"constructor":{"prototype":{"polluted":1}}}'))?.path).toBe('result.constructor');
    expect(findJsonProblem({ constructor: [1] })?.path).toBe('result.constructor');
    expect(findJsonProblem({ constructor: 1, nested: { constructor: null, prototype: {} } })).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('reads each property once, and notices an object whose getter changes it while it is read', () => {
    let reads = 0;
    const counted = { get a() { reads += 1; return [1]; } };
    expect(findJsonProblem({ x: counted })).toBeUndefined();
    expect(reads).toBe(1);
    const shifty: Record<string, unknown> = {};
    Object.defineProperty(shifty, 'a', { enumerable: true, configurable: true, get: () => { delete shifty['b']; return 1; } });
    shifty['b'] = 2;
    expect(findJsonProblem({ x: shifty })).toStrictEqual({ path: 'result.x', message: 'expected JSON, got an object that changed while it was read' });
  });

  it('never copies or changes what it checks', () => {
    const value = { a: [1, { b: 'c' }] };
    const before = JSON.stringify(value);
    expect(findJsonProblem(value)).toBeUndefined();
    expect(JSON.stringify(value)).toBe(before);
    expect(Object.isFrozen(value)).toBe(false);
  });

  it('agrees with parseCanvas on what JSON is (one definition for both)', () => {
    const samples: unknown[] = [
      { a: [1, 2, Number.NaN] },
      [new Map()],
      { f: () => 1 },
      JSON.parse('{"__proto__":1}'),
      { constructor: { x: 1 } },
      { constructor: 1 },
      { toJSON: () => 1 },
      [undefined],
      { ok: [1, 'x', null, { y: false }] },
    ];
    for (const sample of samples) {
      const problem = findJsonProblem(sample, 'args[0]');
      let parsed: CanvasError | undefined;
      try {
        parseCanvas({ kind: 'signature', task: 't', args: [sample] });
      } catch (e) {
        if (!(e instanceof CanvasError)) throw e;
        parsed = e;
      }
      expect(parsed === undefined ? undefined : { path: parsed.path, message: parsed.message.slice(parsed.path.length + 2) }).toStrictEqual(problem);
    }
  });

  it('checks a 100 000-element array and a 100-key object (the happy path of every task result)', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => i);
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`key${i}`, { v: i, s: 'x' }]));
    expect(findJsonProblem(big)).toBeUndefined();
    expect(findJsonProblem(wide)).toBeUndefined();
    big.push(Number.NaN);
    expect(findJsonProblem(big)?.path).toBe('result[100000]');
  });
});
