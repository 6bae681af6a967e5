/**
 * Short text forms of task arguments and results for events and logs, Celery's `saferepr` with
 * `argsrepr_maxsize`/`resultrepr_maxsize` (1024). The walk stops as soon as the budget is spent,
 * so a 100 MB result costs the same as a 1 KB one, and nothing a handler returns (cycles, BigInt,
 * functions, throwing getters) can make it throw.
 */

/** Celery's `argsrepr_maxsize` and `resultrepr_maxsize`. */
export const REPR_MAX_CHARS = 1024;

/** Appended when the text was cut. */
export const ELLIPSIS = '…';

/** Signals that the budget is spent; caught by {@link truncatedRepr}. */
const FULL: unique symbol = Symbol('full');

class Budget {
  private readonly parts: string[] = [];
  private used = 0;

  constructor(private readonly max: number) {}

  /** Chars still available. */
  get left(): number {
    return this.max - this.used;
  }

  push(text: string): void {
    if (text.length <= this.left) {
      this.parts.push(text);
      this.used += text.length;
      return;
    }
    this.parts.push(text.slice(0, this.left));
    this.used = this.max;
    throw FULL;
  }

  text(): string {
    return this.parts.join('');
  }
}

/**
 * The JSON text of `value`, cut to at most `maxChars` characters (the last one then being `…`).
 * JSON data comes out as JSON; other values as a readable stand-in (`12n`, `[Function f]`,
 * `[Circular]`, `undefined`), so the text is for people, and parses as JSON only when `value` was
 * JSON data and nothing was cut.
 *
 * @param value - anything
 * @param maxChars - the longest text to return; at least 1
 * @returns the text, `maxChars` long at most
 *
 * @example
 * ```ts
 * truncatedRepr([1, 'two', { three: 3 }]); // '[1,"two",{"three":3}]'
 * truncatedRepr('x'.repeat(5000), 10);    // '"xxxxxxxx…'
 * ```
 */
export function truncatedRepr(value: unknown, maxChars: number = REPR_MAX_CHARS): string {
  const max = Math.max(1, Math.floor(maxChars));
  // Write up to one char more than allowed: if that char exists the text was cut.
  const budget = new Budget(max + 1);
  try {
    write(value, budget, new Set());
  } catch (error) {
    if (error !== FULL) throw error;
  }
  const text = budget.text();
  return text.length > max ? `${text.slice(0, max - 1)}${ELLIPSIS}` : text;
}

function write(value: unknown, out: Budget, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
      // Escaping only lengthens a string, so its first `left` chars are enough.
      return out.push(JSON.stringify(value.length > out.left ? value.slice(0, out.left) : value));
    case 'number':
      return out.push(String(value)); // NaN and Infinity as themselves, not JSON's null
    case 'boolean':
      return out.push(value ? 'true' : 'false');
    case 'bigint':
      return out.push(`${value}n`);
    case 'undefined':
      return out.push('undefined');
    case 'symbol':
      return out.push(value.toString());
    case 'function':
      return out.push(`[Function${value.name === '' ? '' : ` ${value.name}`}]`);
    case 'object':
      return writeObject(value, out, ancestors);
  }
}

function writeObject(value: object | null, out: Budget, ancestors: Set<object>): void {
  if (value === null) return out.push('null');
  if (ancestors.has(value)) return out.push('"[Circular]"');
  if (value instanceof Date) return out.push(Number.isNaN(value.getTime()) ? '"Invalid Date"' : JSON.stringify(value.toISOString()));
  if (value instanceof Error) return write(`${value.name}: ${value.message}`, out, ancestors);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      out.push('[');
      for (let i = 0; i < value.length; i++) {
        if (i > 0) out.push(',');
        write(read(value, i), out, ancestors);
      }
      return out.push(']');
    }
    if (value instanceof Map || value instanceof Set) return out.push(`"[${value.constructor.name}(${value.size})]"`);
    out.push('{');
    let first = true;
    for (const key in value) {
      if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key.length > out.left ? key.slice(0, out.left) : key));
      out.push(':');
      write(read(value, key), out, ancestors);
    }
    return out.push('}');
  } finally {
    ancestors.delete(value);
  }
}

/** Reads a property; a getter that throws yields a marker instead. */
function read(value: object, key: string | number): unknown {
  try {
    return (value as Record<string | number, unknown>)[key];
  } catch {
    return '[unreadable]';
  }
}
