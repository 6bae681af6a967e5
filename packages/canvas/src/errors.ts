/**
 * The root of Celeriac's error tree. It lives in the canvas package because canvas is the bottom
 * layer; the runtime's errors extend it too, so `err instanceof CeleriacError` catches them all.
 * Each package owns its codes: canvas declares only its own ({@link CanvasErrorCode}), and a
 * subclass names its union as the type argument, e.g. `class X extends CeleriacError<'X_FAILED'>`.
 */

const marker = Symbol.for('celeriac.error');

/**
 * Base class of every error Celeriac throws. Has a stable, machine-readable `code`; `instanceof`
 * works across duplicate copies of the package because it checks a global symbol rather than the
 * prototype.
 *
 * @typeParam TCode - The codes this error (or subclass) may carry; a string-literal union.
 * @example
 * ```ts
 * class QueueClosedError extends CeleriacError<'CLOSED'> {
 *   constructor() { super('CLOSED', 'the queue is closed: create a new app'); }
 * }
 * try { ... } catch (e) { if (e instanceof CeleriacError) console.log(e.code); }
 * ```
 */
export class CeleriacError<TCode extends string = string> extends Error {
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

/**
 * The codes `@celeriac/canvas` throws: only `CANVAS_INVALID`, carried by {@link CanvasError}.
 * The runtime defines its own codes (task failures, timeouts, …) next to its errors.
 *
 * @example
 * ```ts
 * const code: CanvasErrorCode = 'CANVAS_INVALID';
 * ```
 */
export type CanvasErrorCode = 'CANVAS_INVALID';

/**
 * A canvas value is malformed: the message names the JSON path and what was expected there.
 *
 * @example
 * ```ts
 * try { parseCanvas(body); } catch (e) { if (e instanceof CanvasError) reply(400, e.path, e.message); }
 * ```
 */
export class CanvasError extends CeleriacError<CanvasErrorCode> {
  /** JSON path of the offending value, e.g. `tasks[2].args`; empty for the root. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('CANVAS_INVALID', path === '' ? message : `${path}: ${message}`, options);
    this.name = 'CanvasError';
    this.path = path;
  }
}
