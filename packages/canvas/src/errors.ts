/**
 * The root of Celeriac's error tree. It lives in the canvas package because canvas is the bottom
 * layer; the runtime's errors extend it too, so `err instanceof CeleriacError` catches them all.
 * Each package owns its own codes: canvas has {@link CanvasErrorCode}, the runtime its own union.
 */

/** The codes of the errors this package throws. */
export type CanvasErrorCode = 'CANVAS_INVALID';

const marker = Symbol.for('celeriac.error');

/**
 * Base class of every error Celeriac throws. Has a stable `code`; `instanceof` works across
 * duplicate copies of the package because it checks a global symbol rather than the prototype.
 *
 * @example
 * ```ts
 * try { parseCanvas(input); } catch (error) { if (error instanceof CeleriacError) console.log(error.code); }
 * ```
 */
export class CeleriacError<TCode extends string = string> extends Error {
  /** Machine-readable reason, stable across versions (e.g. `CANVAS_INVALID`, `TASK_FAILED`). */
  readonly code: TCode;
  readonly [marker] = true;

  constructor(code: TCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'CeleriacError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || !(marker in value)) return false;
    // Subclasses keep prototype semantics among themselves; the marker only widens the base check.
    return this === CeleriacError || Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** A canvas value is malformed: the message names the JSON path and what was expected there. */
export class CanvasError extends CeleriacError<CanvasErrorCode> {
  /** JSON path of the offending value, e.g. `tasks[2].args`; empty for the root. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('CANVAS_INVALID', path === '' ? message : `${path}: ${message}`, options);
    this.name = 'CanvasError';
    this.path = path;
  }
}
