import { chain, chord, chunks, group, map, signature, starmap } from '@celeriac/canvas';
import type { TaskContext } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

const T = { timeout: 15_000 };

/** The reference tasks of Celery's integration suite, registered on a fresh app. */
function setup() {
  const app = testApp();
  const add = app.task('add', (x: number, y: number) => x + y);
  const mul = app.task('mul', (x: number, y: number) => x * y);
  const tsum = app.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
  const identity = app.task('identity', (x: unknown) => x);
  const slowIdentity = app.task('slow_identity', async (x: number, ms: number) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return x;
  });
  const ids = app.task(
    'ids',
    (ctx: TaskContext, i: number) => [ctx.rootId, ctx.parentId, i] as [string, string | null, number],
    { bind: true },
  );
  const worker = app.worker({ concurrency: 8 });
  return { app, add, mul, tsum, identity, slowIdentity, ids, worker };
}

describe('runtime canvas execution', () => {
  it('runs the seed chain, passing each result as the first argument', async () => {
    const { app, add } = setup();
    const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
    expect(await res.get(T)).toBe(16);
    expect(await res.parent!.get(T)).toBe(8);
    expect(await res.parent!.parent!.get(T)).toBe(4);
    expect(res.parent!.parent!.parent).toBeNull();
  });

  it('ignores the parent result in immutable signatures', async () => {
    const { app, add } = setup();
    const res = await app.apply(chain(add.si(2, 2), add.si(4, 4), add.si(8, 8)));
    expect(await res.get(T)).toBe(16);
    expect(await res.parent!.get(T)).toBe(8);
    expect(await res.parent!.parent!.get(T)).toBe(4);
  });

  it('prepends the parent result before a partial signature\'s own args', async () => {
    const app = testApp();
    const sub = app.task('sub', (x: number, y: number) => x - y);
    app.worker();
    const res = await app.apply(chain(signature('sub', [30, 10]), sub.s(5)));
    expect(await res.get(T)).toBe(15);
  });

  it('delivers apply-time partial args to the first step only', async () => {
    const { app, add, mul } = setup();
    const res = await app.apply(chain(add.s(4), mul.s(8)), { args: [16] });
    expect(await res.get(T)).toBe(160);
  });

  it('returns group results in member order whatever order they finish in', async () => {
    const { app, slowIdentity } = setup();
    const res = await app.apply(group(slowIdentity.s(0, 300), slowIdentity.s(1, 150), slowIdentity.s(2, 0)));
    expect(await res.get(T)).toEqual([0, 1, 2]);
    expect(res.results.map((r) => r.id)).toHaveLength(3);
    expect(await res.completedCount()).toBe(3);
  });

  it('hands a chord body the header results in header order', async () => {
    const { app, slowIdentity, tsum, identity } = setup();
    const res = await app.apply(chord([slowIdentity.s(1, 200), slowIdentity.s(2, 100), slowIdentity.s(3, 0)], identity.s()));
    expect(await res.get(T)).toEqual([1, 2, 3]);
    expect(await res.parent!.get(T)).toEqual([1, 2, 3]);
    const summed = await app.apply(chord([slowIdentity.s(1, 50), slowIdentity.s(2, 0)], tsum.s()));
    expect(await summed.get(T)).toBe(3);
  });

  it('runs a chord with an empty header immediately with an empty list', async () => {
    const { app, tsum } = setup();
    const res = await app.apply(chord([], tsum.s()));
    expect(await res.get(T)).toBe(0);
  });

  it('returns an empty list for an empty group', async () => {
    const { app } = setup();
    const res = await app.apply(group());
    expect(await res.get(T)).toEqual([]);
  });

  it('feeds every member of a group the previous step\'s result and joins them into the next', async () => {
    const { app, add, tsum } = setup();
    const res = await app.apply(chain(add.s(2, 2), group(add.s(1), add.s(2), add.s(3)), tsum.s()));
    expect(await res.get(T)).toBe(5 + 6 + 7);
    expect(await res.parent!.get(T)).toEqual([5, 6, 7]);
    expect(await res.parent!.parent!.get(T)).toBe(4);
  });

  it('runs a chain of groups, each member of the second group receiving the first group\'s list', async () => {
    const { app, add, tsum } = setup();
    const res = await app.apply(chain(group(add.s(1, 0), add.s(2, 0)), group(tsum.s(), tsum.s())));
    expect(await res.get(T)).toEqual([3, 3]);
  });

  it('nests a chord inside a chain inside a group', async () => {
    const { app, add, tsum, identity } = setup();
    const res = await app.apply(
      group(identity.si(1), chain(add.si(1, 1), chord([add.s(1), add.s(2)], tsum.s())), identity.si(3)),
    );
    expect(await res.get(T)).toEqual([1, 2 + 1 + 2 + 2, 3]);
  });

  it('keeps a chain ending in a group as a nested list inside a group', async () => {
    const { app, identity } = setup();
    const res = await app.apply(group(identity.si(1), identity.si(2), chain(identity.si(5), group(identity.si(3), identity.si(4)))));
    expect(await res.get(T)).toEqual([1, 2, [3, 4]]);
  });

  it('runs nested chords: a chord whose header holds a chord', async () => {
    const { app, add, tsum } = setup();
    const inner = chord([add.si(1, 1), add.si(2, 2)], tsum.s());
    const res = await app.apply(chord([inner, add.si(10, 10)], tsum.s()));
    expect(await res.get(T)).toBe(6 + 20);
  });

  it('passes root and parent ids through the context of bound tasks', async () => {
    const { app, ids } = setup();
    const res = await app.apply(chain(ids.si(1), ids.si(2), ids.si(3)));
    const first = res.parent!.parent!;
    const second = res.parent!;
    expect(await first.get(T)).toEqual([first.id, null, 1]);
    expect(await second.get(T)).toEqual([first.id, first.id, 2]);
    expect(await res.get(T)).toEqual([first.id, second.id, 3]);
  });

  it('delivers kwargs to bound handlers through ctx.kwargs, call-time kwargs winning', async () => {
    const app = testApp();
    app.task('greet', (ctx: TaskContext, name: string) => `${String(ctx.kwargs['greeting'])}, ${name}`, { bind: true });
    app.worker();
    const res = await app.apply(signature('greet', ['Ada'], { greeting: 'Hello' }), { kwargs: { greeting: 'Hi' } });
    expect(await res.get(T)).toBe('Hi, Ada');
  });

  it('runs map, starmap and chunks', async () => {
    const { app, add, tsum } = setup();
    expect(await (await app.apply(map(tsum, [[1, 2], [3, 4]]))).get(T)).toEqual([3, 7]);
    expect(await (await app.apply(starmap(add, [[1, 1], [2, 2]]))).get(T)).toEqual([2, 4]);
    const pairs = Array.from({ length: 10 }, (_, i): [number, number] => [i, i]);
    expect(await (await app.apply(chunks(add, pairs, 4))).get(T)).toEqual([[0, 2, 4, 6], [8, 10, 12, 14], [16, 18]]);
  });

  it('sends tasks with delay and applyAsync', async () => {
    const { add } = setup();
    expect(await (await add.delay(2, 3)).get(T)).toBe(5);
    expect(await (await add.applyAsync({ args: [4, 5] })).get(T)).toBe(9);
  });

  it('runs a link callback with the result and lists it among the children', async () => {
    const { add, mul } = setup();
    const res = await add.applyAsync({ args: [2, 2], link: [mul.s(16)] });
    expect(await res.get(T)).toBe(4);
    expect(res.children).toHaveLength(1);
    expect(await res.children[0]!.get(T)).toBe(64);
  });
});
