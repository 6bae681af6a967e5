/**
 * Chord error callbacks, as CELERY-SEMANTICS §2.9 "Chord header failure" says: the body never
 * runs, and the body's `linkError` callbacks are called once, with the body's task id — however
 * deep in the header the failure happened; with a group body, every body member's callbacks.
 */
import { chain, chord, group, signature, withOptions, type Canvas } from '@celeriac/canvas';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

const T = { timeout: 15_000 };

function setup() {
  const app = testApp();
  const add = app.task('add', (x: number, y: number) => x + y);
  const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
  const fail = app.task('fail', (..._args: unknown[]): number => {
    throw new RangeError('expected');
  });
  const calls: string[] = [];
  let called: () => void = () => {};
  app.task('errback', (failedId: string) => {
    calls.push(failedId);
    called();
    return null;
  });
  const errback = signature('errback');
  const withErrback = (canvas: Canvas): Canvas => withOptions(canvas, { linkError: [errback] });
  /** Resolves once the errback was called `n` times, then waits a little longer for a stray call. */
  const callsAfter = async (n: number): Promise<string[]> => {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`errback called ${calls.length} times, expected ${n}`)), T.timeout);
      called = () => {
        if (calls.length >= n) {
          clearTimeout(timer);
          resolve();
        }
      };
      called();
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    return calls;
  };
  app.worker({ concurrency: 4 });
  return { app, add, tsum, fail, withErrback, callsAfter };
}

describe('chord error callbacks', () => {
  it("calls the body's errback once, with the body's id, when a header member fails", async () => {
    const { app, add, fail, withErrback, callsAfter } = setup();
    const ran = app.task('never', (_values: number[]) => 'ran');
    const res = await app.apply(chord([add.s(1, 1), fail.s(), fail.s()], withErrback(ran.s())));
    await expect(res.get(T)).rejects.toThrow();
    expect(await callsAfter(1)).toEqual([res.id]);
    expect(await res.state()).toBe('FAILURE');
  });

  it("calls the body's errback once when the failure is deeper in the header (a chain, a nested chord)", async () => {
    const { app, add, tsum, fail, withErrback, callsAfter } = setup();
    const deep = await app.apply(chord([chain(fail.s(), add.s(1)), add.s(1, 1)], withErrback(tsum.s())));
    await expect(deep.get(T)).rejects.toThrow();
    expect(await callsAfter(1)).toEqual([deep.id]);

    const nested = await app.apply(chord([chord([fail.s(), add.s(1, 1)], tsum.s()), add.s(1, 1)], withErrback(tsum.s())));
    await expect(nested.get(T)).rejects.toThrow();
    expect(await callsAfter(2)).toEqual([deep.id, nested.id]);
  });

  it('calls the errback of a chord inside a chain once, with the body id', async () => {
    const { app, add, tsum, fail, withErrback, callsAfter } = setup();
    const res = await app.apply(chain(add.s(1, 1), chord([add.s(1), fail.s()], withErrback(tsum.s()))));
    await expect(res.get(T)).rejects.toThrow();
    expect(await callsAfter(1)).toEqual([res.id]);
  });

  it("calls every body member's errback when the body is a group", async () => {
    const { app, add, tsum, fail, withErrback, callsAfter } = setup();
    const res = await app.apply(chord([add.s(1, 1), fail.s()], group(withErrback(tsum.s()), withErrback(tsum.s()))));
    await expect(res.get(T)).rejects.toThrow();
    const members = (res as unknown as { results: readonly { id: string }[] }).results.map((member) => member.id);
    expect((await callsAfter(2)).sort()).toEqual([...members].sort());
  });
});
