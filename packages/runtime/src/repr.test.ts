import { describe, expect, it } from 'vitest';
import { ELLIPSIS, REPR_MAX_CHARS, truncatedRepr } from './repr.js';

describe('truncatedRepr', () => {
  it('writes JSON data as its JSON text when it fits', () => {
    const value = [1, 'two', { three: [3, null, true] }, -0.5];
    expect(truncatedRepr(value)).toBe(JSON.stringify(value));
    expect(JSON.parse(truncatedRepr({ a: 'x"y\n' }))).toStrictEqual({ a: 'x"y\n' });
  });

  it("cuts at Celery's 1024 chars by default, ending with an ellipsis", () => {
    const text = truncatedRepr(['x'.repeat(5_000)]);
    expect(text).toHaveLength(REPR_MAX_CHARS);
    expect(text.startsWith('["xxx')).toBe(true);
    expect(text.endsWith(ELLIPSIS)).toBe(true);
  });

  it('keeps text of exactly the limit whole', () => {
    const value = 'y'.repeat(8); // JSON text: 10 chars
    expect(truncatedRepr(value, 10)).toBe(`"${value}"`);
    expect(truncatedRepr(value, 9)).toBe(`"${'y'.repeat(7)}${ELLIPSIS}`);
  });

  it('stops walking once the budget is spent, whatever the size of the value', () => {
    let reads = 0;
    const items = Array.from({ length: 200_000 }, (_, i) => ({ i, s: 'payload' }));
    // Counts the elements the walk looks at: it must stop near the budget, not visit 200 000.
    const huge = new Proxy(items, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const text = truncatedRepr(huge, 100);
    expect(text).toHaveLength(100);
    expect(text.startsWith('[{"i":0,"s":"payload"},{"i":1')).toBe(true);
    expect(reads).toBeLessThan(20);
  });

  it('never throws: cycles, BigInt, functions, symbols, throwing getters', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    const hostile = {
      get boom(): never {
        throw new Error('getter');
      },
    };
    expect(truncatedRepr(cyclic)).toBe('{"name":"loop","self":"[Circular]"}');
    expect(truncatedRepr([10n, undefined, Symbol('s'), function named() {}, () => 1])).toBe('[10n,undefined,Symbol(s),[Function named],[Function]]');
    expect(truncatedRepr(hostile)).toBe('{"boom":"[unreadable]"}');
    expect(truncatedRepr([NaN, Infinity])).toBe('[NaN,Infinity]');
  });

  it('writes dates, errors, maps and sets readably', () => {
    expect(truncatedRepr(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
    expect(truncatedRepr(new TypeError('bad'))).toBe('"TypeError: bad"');
    expect(truncatedRepr(new Map([[1, 2]]))).toBe('"[Map(1)]"');
  });

  it('repeats a shared (non-cyclic) object instead of calling it circular', () => {
    const shared = { a: 1 };
    expect(truncatedRepr([shared, shared])).toBe('[{"a":1},{"a":1}]');
  });

  it('keeps data keys named __proto__ and constructor as text', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"constructor":1}') as object;
    expect(truncatedRepr(parsed)).toBe('{"__proto__":{"polluted":true},"constructor":1}');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
