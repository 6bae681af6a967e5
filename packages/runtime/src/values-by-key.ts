/**
 * Values by key where almost every key has one value: the app's waiting `get()`s by workflow, and
 * by node for in-memory hand-overs. A burst of lone tasks holds thousands of keys, each with one
 * wait, so a key's only value is stored as it is, and a Set is made only for a second one.
 */
export class ValuesByKey<K, V extends object> {
  /** A key's value, or its values (never an empty Set). `V` is never a Set itself. */
  private readonly map = new Map<K, V | Set<V>>();

  /** How many keys have a value. */
  get size(): number {
    return this.map.size;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Adds `value` under `key`; adding it again is harmless. */
  add(key: K, value: V): void {
    const held = this.map.get(key);
    if (held === undefined) this.map.set(key, value);
    else if (held instanceof Set) held.add(value);
    else if (held !== value) this.map.set(key, new Set([held, value]));
  }

  /** Removes `value` from `key`, and the key once it has none; removing it again is harmless. */
  delete(key: K, value: V): void {
    const held = this.map.get(key);
    if (held === value || (held instanceof Set && held.delete(value) && held.size === 0)) this.map.delete(key);
  }

  /** The values of `key`, a copy: calling them may add or remove values. */
  get(key: K): V[] {
    const held = this.map.get(key);
    return held === undefined ? [] : held instanceof Set ? [...held] : [held];
  }

  /** Every value of every key, a copy. */
  all(): V[] {
    return [...this.map.values()].flatMap((held) => (held instanceof Set ? [...held] : [held]));
  }

  clear(): void {
    this.map.clear();
  }
}
