import { describe, expect, it } from 'vitest';
import { CanvasError, CeleriacError } from './errors.js';

describe('CeleriacError', () => {
  it('carries the code, message and cause it was given', () => {
    const cause = new Error('root');
    const error = new CeleriacError('SOMETHING_ELSE', 'what went wrong', { cause });
    expect(error.code).toBe('SOMETHING_ELSE');
    expect(error.message).toBe('what went wrong');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('CeleriacError');
    expect(error).toBeInstanceOf(Error);
  });

  it('recognises an error from another copy of the package by its global marker', () => {
    // What a second bundled copy of @celeriac/canvas produces: its own class, the same Symbol.for marker.
    class OtherCopyError extends Error {
      readonly code = 'CANVAS_INVALID';
      constructor(message: string) {
        super(message);
        Object.defineProperty(this, Symbol.for('celeriac.error'), { value: true });
      }
    }
    const foreign = new OtherCopyError('from elsewhere');
    expect(foreign instanceof CeleriacError).toBe(true);
    // Subclasses keep prototype semantics: a foreign error is not one of *our* CanvasErrors.
    expect(foreign instanceof CanvasError).toBe(false);
    expect(new Error('plain') instanceof CeleriacError).toBe(false);
    expect((null as unknown) instanceof CeleriacError).toBe(false);
  });

  it('lets subclasses of subclasses keep ordinary instanceof checks', () => {
    class RuntimeFailure extends CeleriacError<'RUNTIME_FAILED'> {
      constructor() {
        super('RUNTIME_FAILED', 'failed');
      }
    }
    const failure = new RuntimeFailure();
    expect(failure instanceof CeleriacError).toBe(true);
    expect(failure instanceof RuntimeFailure).toBe(true);
    expect(failure instanceof CanvasError).toBe(false);
    expect(new CanvasError('x', 'bad') instanceof RuntimeFailure).toBe(false);
  });
});

describe('CanvasError', () => {
  it('prefixes the message with the path and keeps the path apart', () => {
    const error = new CanvasError('tasks[2].args', 'expected an array, got a string');
    expect(error.message).toBe('tasks[2].args: expected an array, got a string');
    expect(error.path).toBe('tasks[2].args');
    expect(error.code).toBe('CANVAS_INVALID');
    expect(error.name).toBe('CanvasError');
    expect(error).toBeInstanceOf(CeleriacError);
  });

  it('uses the bare message at the root', () => {
    expect(new CanvasError('', 'expected a canvas object, got null').message).toBe('expected a canvas object, got null');
  });
});
