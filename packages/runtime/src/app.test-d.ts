/**
 * The types `app.apply` gives its results: `.parent` is typed as far back as the canvas tells,
 * following the runtime's own `.parent` links (the integration test `typed-parents.int.test.ts`
 * walks the same canvases at run time). Untyped canvases and `app.result(id)` stay `AnyResult`.
 */
import {
  chain,
  chord,
  defineTask,
  fromCelery,
  group,
  immutable,
  map,
  parseCanvas,
  partial,
  signature,
  withOptions,
  type Chain,
} from '@celeriac/canvas';
import { describe, expectTypeOf, it } from 'vitest';
import type { App } from './app.js';
import type { AnyResult, AsyncResult, GroupResult } from './result.js';

declare const app: App;
const add = defineTask<[x: number, y: number], number>('add');
const tsum = defineTask<[nums: number[]], number>('tsum');
const toStr = defineTask<[n: number], string>('to_str');
const upper = defineTask<[s: string], string>('upper');

type Task<TValue, TParent = null> = AsyncResult<TValue, TParent>;
type Group<TValue, TParent = null> = GroupResult<TValue, TParent>;

describe('apply: a chain', () => {
  it('types every step back to the first, whose parent is null (the README example)', async () => {
    const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
    expectTypeOf(res).toEqualTypeOf<Task<number, Task<number, Task<number>>>>();
    expectTypeOf(res.get({ timeout: 10_000 })).resolves.toEqualTypeOf<number>();
    expectTypeOf(res.parent.get()).resolves.toEqualTypeOf<number>();
    expectTypeOf(res.parent.parent.get()).resolves.toEqualTypeOf<number>();
    expectTypeOf(res.parent.parent.parent).toEqualTypeOf<null>();
    // @ts-expect-error -- the first step has no parent
    await res.parent.parent.parent.get();
  });

  it('types each step by its own result', async () => {
    const res = await app.apply(chain(add.s(2, 2), toStr.s(), upper.s()));
    expectTypeOf(res).toEqualTypeOf<Task<string, Task<string, Task<number>>>>();
  });

  it('splices a nested chain\'s steps in', async () => {
    const res = await app.apply(chain(add.s(2, 2), chain(add.s(1), toStr.s()), upper.s()));
    expectTypeOf(res).toEqualTypeOf<Task<string, Task<string, Task<number, Task<number>>>>>();
  });

  it('makes a group step the parent of the next step, and the previous step the group\'s parent', async () => {
    const res = await app.apply(chain(add.s(2, 2), group(add.s(1), add.s(2)), tsum.s()));
    expectTypeOf(res).toEqualTypeOf<Task<number, Group<[number, number], Task<number>>>>();
    expectTypeOf(res.parent.get()).resolves.toEqualTypeOf<[number, number]>();
  });

  it('types a leading group followed by a step as the chord it becomes', async () => {
    const res = await app.apply(chain(group(add.s(1, 1), add.s(2, 2)), tsum.s()));
    expectTypeOf(res).toEqualTypeOf<Task<number, Group<[number, number]>>>();
  });

  it('types consecutive groups as nested chords', async () => {
    const res = await app.apply(chain(group(add.s(1, 1), add.s(2, 2)), group(tsum.s(), tsum.s()), tsum.s()));
    expectTypeOf(res).toEqualTypeOf<Task<number, Group<[number, number], Group<[number, number]>>>>();
  });

  it('unrolls a group of one member into that member', async () => {
    const one = await app.apply(chain(add.s(2, 2), group(add.s(1)), add.s(1)));
    expectTypeOf(one).toEqualTypeOf<Task<number, Task<number, Task<number>>>>();
    const nested = await app.apply(chain(add.s(2, 2), group(chain(add.s(1), toStr.s())), upper.s()));
    expectTypeOf(nested).toEqualTypeOf<Task<string, Task<string, Task<number, Task<number>>>>>();
  });

  it('returns a group result for a chain ending in a group', async () => {
    const res = await app.apply(chain(add.s(2, 2), group(add.s(1), toStr.s())));
    expectTypeOf(res).toEqualTypeOf<Group<[number, string], Task<number>>>();
    expectTypeOf(res.get()).resolves.toEqualTypeOf<[number, string]>();
  });

  it('types a chord inside a chain: body, then header group, then the step before', async () => {
    const res = await app.apply(chain(add.s(2, 2), chord([add.s(1), add.s(2)], tsum.s()), toStr.s()));
    expectTypeOf(res).toEqualTypeOf<Task<string, Task<number, Group<[number, number], Task<number>>>>>();
  });

  it('keeps chords in a row apart', async () => {
    const res = await app.apply(chain(chord([add.s(1, 1)], tsum.s()), chord([add.s(1), add.s(2)], tsum.s())));
    expectTypeOf(res).toEqualTypeOf<Task<number, Group<[number, number], Task<number, Group<[number]>>>>>();
  });

  it('drops an empty group after a step, as the chain does', async () => {
    const res = await app.apply(chain(add.s(2, 2), group()));
    expectTypeOf(res).toEqualTypeOf<Task<number>>();
  });

  it('types map() as one task', async () => {
    const res = await app.apply(chain(map(tsum, [[1, 2]]), tsum.s()));
    expectTypeOf(res).toEqualTypeOf<Task<number, Task<number[]>>>();
  });

  it('keeps the types through partial, immutable and withOptions', async () => {
    type Expected = Task<string, Task<number>>;
    expectTypeOf(await app.apply(partial(chain(add.s(), toStr.s()), [1, 2]))).toEqualTypeOf<Expected>();
    expectTypeOf(await app.apply(immutable(chain(add.s(1), toStr.s())))).toEqualTypeOf<Expected>();
    expectTypeOf(await app.apply(withOptions(chain(add.s(1, 2), toStr.s()), { queue: 'q' }))).toEqualTypeOf<Expected>();
  });

  it('is assignable where any result is expected', async () => {
    const res = await app.apply(chain(add.s(2, 2), group(add.s(1), add.s(2)), tsum.s()));
    expectTypeOf(res).toExtend<AnyResult<number>>();
    expectTypeOf(res).toExtend<AsyncResult>();
    expectTypeOf(res.parent).toExtend<AnyResult>();
  });
});

describe('apply: a signature, a group, a chord', () => {
  it('types a task\'s parent as null', async () => {
    expectTypeOf(await app.apply(add.s(1, 2))).toEqualTypeOf<Task<number>>();
  });

  it('types a group\'s parent as null', async () => {
    expectTypeOf(await app.apply(group(add.s(1, 1), upper.s('a')))).toEqualTypeOf<Group<[number, string]>>();
  });

  it('types a chord as its body, whose parent is the header group', async () => {
    const res = await app.apply(chord([add.s(1, 1), add.s(2, 2)], tsum.s()));
    expectTypeOf(res).toEqualTypeOf<Task<number, Group<[number, number]>>>();
    expectTypeOf(res.parent.get()).resolves.toEqualTypeOf<[number, number]>();
  });

  it('types a chord with a group body as that group, whose parent is the header group', async () => {
    const res = await app.apply(chord([add.s(1, 1)], group(tsum.s(), tsum.s())));
    expectTypeOf(res).toEqualTypeOf<Group<[number, number], Group<[number]>>>();
  });

  it('types a chord with a chain body as the chain\'s last step', async () => {
    const res = await app.apply(chord([add.s(1, 1), add.s(2, 2)], chain(tsum.s(), toStr.s())));
    expectTypeOf(res).toEqualTypeOf<Task<string, Task<number, Group<[number, number]>>>>();
  });
});

describe('apply: what the types cannot tell', () => {
  it('types a group built from an array as a group alone, and as either kind in a chain', async () => {
    const members = [1, 2, 3].map((i) => add.s(i));
    expectTypeOf(await app.apply(group(members))).toEqualTypeOf<Group<number[]>>();
    // A group of unknown size is unrolled if it has one member, so that step is either kind.
    const res = await app.apply(chain(add.s(2, 2), group(members), tsum.s()));
    expectTypeOf(res).toEqualTypeOf<Task<number, AnyResult<number[]>>>();
  });

  it('types an untyped signature\'s value as unknown, its place in the chain still known', async () => {
    expectTypeOf(await app.apply(signature('x'))).toEqualTypeOf<Task<unknown>>();
    expectTypeOf(await app.apply(chain(add.s(2, 2), signature('x')))).toEqualTypeOf<Task<unknown, Task<number>>>();
  });

  it('types parsed and converted canvases as any result', async () => {
    expectTypeOf(await app.apply(parseCanvas({ kind: 'signature', task: 'x' }))).toEqualTypeOf<AnyResult>();
    expectTypeOf(await app.apply(fromCelery({ task: 'x' }))).toEqualTypeOf<AnyResult>();
    const untyped: Chain = chain(add.s(1, 1));
    const res = await app.apply(untyped);
    expectTypeOf(res).toEqualTypeOf<AnyResult>();
    expectTypeOf(res.parent).toEqualTypeOf<AnyResult | null>();
    // @ts-expect-error -- the parent may be null
    await res.parent.get();
  });

  it('types a chain with an untyped step or a list of steps as any result of its value', async () => {
    const steps = [add.s(1, 1)];
    expectTypeOf(await app.apply(chain(steps))).toEqualTypeOf<AnyResult>();
    const untyped: Chain = chain(add.s(1, 1));
    expectTypeOf(await app.apply(chain(add.s(2, 2), untyped, toStr.s()))).toEqualTypeOf<AnyResult<string>>();
  });

  it('keeps app.result(id) untyped', async () => {
    expectTypeOf(await app.result('id')).toEqualTypeOf<AnyResult>();
    expectTypeOf(await app.result<number>('id')).toEqualTypeOf<AnyResult<number>>();
    expectTypeOf((await app.result('id')).parent).toEqualTypeOf<AnyResult | null>();
  });
});
