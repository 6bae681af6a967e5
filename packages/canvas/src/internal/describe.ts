/**
 * How error messages name the values they complain about: `a Map`, `NaN`, `"queue:1"`.
 */

const BUILT_INS: ReadonlySet<string> = new Set([
  'Date', 'Map', 'Set', 'WeakMap', 'WeakSet', 'RegExp', 'Error', 'Promise', 'ArrayBuffer', 'DataView',
  'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float32Array',
  'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Uint8ClampedArray', 'Buffer', 'URL',
  'Boolean', 'Number', 'String',
]);

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
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value)) return proto === Array.prototype ? 'an array' : 'an array subclass instance';
  if (proto === Object.prototype || proto === null) return 'an object';
  let name = '';
  try {
    const ctor: unknown = (proto as { constructor?: unknown }).constructor;
    if (typeof ctor === 'function' && typeof ctor.name === 'string') name = ctor.name;
  } catch {
    // A hostile prototype: fall through to the generic wording.
  }
  if (name === '') return 'a class instance';
  return BUILT_INS.has(name) ? `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}` : `an instance of ${name}`;
}

/** Like {@link describe}, but shows strings, numbers and booleans themselves: `"foo"`, `-1`. */
export function describeLiteral(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(truncate(value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describe(value);
}

/** Cuts long user text for a message: at most 60 characters. */
export function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
