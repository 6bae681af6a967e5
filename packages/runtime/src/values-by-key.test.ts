import { describe, expect, it } from 'vitest';
import { ValuesByKey } from './values-by-key.js';

describe('ValuesByKey', () => {
  it('keeps one value or several per key, drops a key with its last value, and hands out copies', () => {
    const byKey = new ValuesByKey<string, { name: string }>();
    const a = { name: 'a' };
    const b = { name: 'b' };
    byKey.add('k', a);
    byKey.add('k', a); // again: harmless
    expect(byKey.get('k')).toEqual([a]);
    byKey.add('k', b);
    byKey.add('other', b);
    expect(byKey.get('k')).toEqual([a, b]);
    expect(byKey.all()).toEqual([a, b, b]);
    const copy = byKey.get('k');
    byKey.delete('k', a);
    expect(copy).toEqual([a, b]);
    expect(byKey.get('k')).toEqual([b]);
    byKey.delete('k', b);
    byKey.delete('k', b); // again: harmless
    expect(byKey.has('k')).toBe(false);
    expect(byKey.get('k')).toEqual([]);
    expect(byKey.size).toBe(1);
    byKey.clear();
    expect(byKey.size).toBe(0);
  });
});
