/**
 * The `.parent` types `app.apply` gives (see `src/app.test-d.ts`) against the handles it really
 * returns. `walk(res)` follows `.parent` at run time and records each handle's kind and value; its
 * return type, `Walk<typeof res>`, is the same walk done on the type. Each expected list is checked
 * against both: `satisfies Walk<typeof res>` by `npm run typecheck`, `toEqual` by running it.
 */
import { chain, chord, group } from '@celeriac/canvas';
import { GroupResult, type AnyResult, type AsyncResult } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

const T = { timeout: 15_000 };

type Kind = 'task' | 'group';

/** One handle on the way from a result to the first one. */
interface Step<TKind extends Kind, TValue> {
  readonly kind: TKind;
  readonly value: TValue;
}

/** The handles from `R` back through `.parent` to the first, as `R`'s type says; a list where it cannot tell. */
type Walk<R> = AnyResult | null extends R
  ? Step<Kind, unknown>[]
  : [R] extends [null]
    ? []
    : [R] extends [AsyncResult<infer TValue, infer TParent>]
      ? [Step<'task', TValue>, ...Walk<TParent>]
      : [R] extends [GroupResult<infer TValue, infer TParent>]
        ? [Step<'group', TValue>, ...Walk<TParent>]
        : Step<Kind, unknown>[];

/** Follows `.parent` from `res` to the first result, waiting for each value. */
async function walk<R extends AnyResult>(res: R): Promise<Walk<R>> {
  const steps: Step<Kind, unknown>[] = [];
  for (let at: AnyResult | null = res; at !== null; at = at.parent) {
    steps.push({ kind: at instanceof GroupResult ? 'group' : 'task', value: await at.get(T) });
  }
  return steps as Walk<R>;
}

function tasks() {
  const app = testApp();
  const add = app.task('add', (x: number, y: number) => x + y);
  const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
  app.worker();
  return { app, add, tsum };
}

describe('typed .parent', () => {
  it('walks the README chain back to its first step', async () => {
    const { app, add } = tasks();
    const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
    expect(await walk(res)).toEqual([
      { kind: 'task', value: 16 },
      { kind: 'task', value: 8 },
      { kind: 'task', value: 4 },
    ] satisfies Walk<typeof res>);
    expect(res.parent.parent.parent).toBeNull();
  });

  it('walks a chain with a group, a chord and a nested chain in it', async () => {
    const { app, add, tsum } = tasks();
    const res = await app.apply(
      chain(add.s(2, 2), group(add.s(1), add.s(2)), tsum.s(), chord([add.s(1), add.s(2)], tsum.s()), chain(add.s(1), add.s(1))),
    );
    const expected = [
      { kind: 'task', value: 27 },
      { kind: 'task', value: 26 },
      { kind: 'task', value: 25 },
      { kind: 'group', value: [12, 13] },
      { kind: 'task', value: 11 },
      { kind: 'group', value: [5, 6] },
      { kind: 'task', value: 4 },
    ] satisfies Walk<typeof res>;
    expect(await walk(res)).toEqual(expected);
    // A result rebuilt from its id has the same links, untyped.
    expect(await walk(await app.result(res.id))).toEqual(expected);
  });

  it('walks a leading group and consecutive groups, which the chain turns into chords', async () => {
    const { app, add, tsum } = tasks();
    const res = await app.apply(chain(group(add.s(1, 1), add.s(2, 2)), group(tsum.s(), tsum.s()), tsum.s()));
    expect(await walk(res)).toEqual([
      { kind: 'task', value: 12 },
      { kind: 'group', value: [6, 6] },
      { kind: 'group', value: [2, 4] },
    ] satisfies Walk<typeof res>);
  });

  it('walks an unrolled group of one whose member is a chain', async () => {
    const { app, add } = tasks();
    const res = await app.apply(chain(add.s(2, 2), group(chain(add.s(1), add.s(1))), add.s(1)));
    expect(await walk(res)).toEqual([
      { kind: 'task', value: 7 },
      { kind: 'task', value: 6 },
      { kind: 'task', value: 5 },
      { kind: 'task', value: 4 },
    ] satisfies Walk<typeof res>);
  });

  it('walks a chain ending in a group, and one ending in an empty group, which is dropped', async () => {
    const { app, add } = tasks();
    const grouped = await app.apply(chain(add.s(2, 2), group(add.s(1), add.s(2))));
    expect(await walk(grouped)).toEqual([
      { kind: 'group', value: [5, 6] },
      { kind: 'task', value: 4 },
    ] satisfies Walk<typeof grouped>);
    const dropped = await app.apply(chain(add.s(2, 2), group()));
    expect(await walk(dropped)).toEqual([{ kind: 'task', value: 4 }] satisfies Walk<typeof dropped>);
  });

  it('walks a chord with a group body: the body group, then the header group', async () => {
    const { app, add, tsum } = tasks();
    const res = await app.apply(chord([add.s(1, 1)], group(tsum.s(), tsum.s())));
    expect(await walk(res)).toEqual([
      { kind: 'group', value: [2, 2] },
      { kind: 'group', value: [2] },
    ] satisfies Walk<typeof res>);
  });

  it('leaves a group of unknown size in a chain untyped: one member is unrolled, more stay a group', async () => {
    const { app, add } = tasks();
    const size = app.task('size', (x: number | number[]) => (Array.isArray(x) ? x.length : 1));
    const flow = (n: number) => chain(add.s(2, 2), group(Array.from({ length: n }, (_, i) => add.s(i + 1))), size.s());
    const one = await app.apply(flow(1));
    const two = await app.apply(flow(2));
    expect(await walk(one)).toEqual([
      { kind: 'task', value: 1 },
      { kind: 'task', value: 5 },
      { kind: 'task', value: 4 },
    ] satisfies Walk<typeof one>);
    expect(await walk(two)).toEqual([
      { kind: 'task', value: 2 },
      { kind: 'group', value: [5, 6] },
      { kind: 'task', value: 4 },
    ] satisfies Walk<typeof two>);
  });
});
