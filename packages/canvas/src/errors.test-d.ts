import { describe, expectTypeOf, it } from 'vitest';
import { CanvasError, CeleriacError, type CanvasErrorCode } from './errors.js';

describe('error codes', () => {
  it('types a CanvasError code as canvas codes only', () => {
    expectTypeOf(new CanvasError('', 'x').code).toEqualTypeOf<CanvasErrorCode>();
    expectTypeOf<CanvasErrorCode>().toEqualTypeOf<'CANVAS_INVALID'>();
  });

  it('lets each package declare its own code union on the shared base', () => {
    class Timeout extends CeleriacError<'TIMEOUT'> {}
    expectTypeOf(new Timeout('TIMEOUT', 'late').code).toEqualTypeOf<'TIMEOUT'>();
    // @ts-expect-error a subclass only accepts its own codes
    new Timeout('CANVAS_INVALID', 'x');
    expectTypeOf(new CeleriacError('ANY', 'x').code).toEqualTypeOf<'ANY'>();
    expectTypeOf<CeleriacError['code']>().toEqualTypeOf<string>();
  });
});
