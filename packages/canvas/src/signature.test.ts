import { describe, expect, it } from 'vitest';
import { chain } from './chain.js';
import { chord } from './chord.js';
import { CanvasError } from './errors.js';
import { group } from './group.js';
import { defineTask, immutable, partial, signature } from './signature.js';
import type { Canvas, Json, Kwargs, Signature, TaskOptions } from './types.js';

const add = defineTask<[x: number, y: number], number>('add');
const tsum = defineTask<[nums: number[]], number>('tsum');

/** The literal a signature should equal. */
function sig(task: string, args: Json[] = [], more: { kwargs?: Kwargs; options?: TaskOptions; immutable?: boolean } = {}) {
  return {
    kind: 'signature',
    task,
    args,
    kwargs: more.kwargs ?? {},
    options: more.options ?? {},
    immutable: more.immutable ?? false,
  } satisfies Signature;
}

describe('signature', () => {
  it('builds a mutable signature with empty args, kwargs and options by default', () => {
    expect(signature('tasks.add')).toStrictEqual(sig('tasks.add'));
  });

  it('keeps args, kwargs and options as given', () => {
    expect(signature('tasks.add', [2, 2], { debug: true }, { countdown: 10, queue: 'math' })).toStrictEqual(
      sig('tasks.add', [2, 2], { kwargs: { debug: true }, options: { countdown: 10, queue: 'math' } }),
    );
  });

  it('drops options whose value is undefined', () => {
    const options = { queue: undefined, priority: 3 } as unknown as TaskOptions;
    expect(signature('t', [], {}, options)).toStrictEqual(sig('t', [], { options: { priority: 3 } }));
  });

  it('takes the name of a task reference', () => {
    expect(signature(add, [1, 2])).toStrictEqual(sig('add', [1, 2]));
  });

  it('copies its arguments: later changes to the caller\'s arrays do not show, and they are not frozen', () => {
    const args: Json[] = [1, { a: [2] }];
    const kwargs: Record<string, Json> = { k: [1] };
    const s = signature('t', args, kwargs);
    args.push(3);
    (kwargs['k'] as Json[]).push(2);
    expect(s).toStrictEqual(sig('t', [1, { a: [2] }], { kwargs: { k: [1] } }));
    expect(Object.isFrozen(args)).toBe(false);
    expect(Object.isFrozen(kwargs)).toBe(false);
  });

  it('shares one frozen empty value for empty args, kwargs and options, so large groups stay small', () => {
    const a = signature('t', [], {}, {});
    const b = defineTask<[number]>('u').si(1);
    expect(a.kwargs).toBe(b.kwargs);
    expect(a.options).toBe(b.options);
    expect(a.args).toBe(signature('v').args);
    expect(Object.isFrozen(a.kwargs) && Object.isFrozen(a.options) && Object.isFrozen(a.args)).toBe(true);
    // Non-empty values are still copies of their own.
    expect(signature('t', [1]).args).not.toBe(signature('t', [1]).args);
  });

  it.each([
    ['an empty task name', () => signature(''), /task: expected a task name, got an empty string/],
    ['a task name that is not a string', () => signature(42 as unknown as string), /task: expected a task name/],
    ['args that are not an array', () => signature('t', 'x' as unknown as Json[]), /args: expected an array/],
    ['a function in args', () => signature('t', [(() => 1) as unknown as Json]), /args\[0\]: expected JSON, got a function/],
    ['undefined in args', () => signature('t', [undefined as unknown as Json]), /args\[0\]: expected JSON, got undefined/],
    ['NaN in args', () => signature('t', [Number.NaN]), /args\[0\]: expected JSON, got NaN/],
    ['a Date in args', () => signature('t', [new Date() as unknown as Json]), /args\[0\]: expected JSON, got a Date/],
    ['kwargs that are not an object', () => signature('t', [], [] as unknown as Kwargs), /kwargs: expected an object/],
    ['an invalid option', () => signature('t', [], {}, { queue: '' }), /options\.queue: expected a non-empty queue name/],
    ['an unknown option', () => signature('t', [], {}, { qeue: 'x' } as unknown as TaskOptions), /options\.qeue: unknown option/],
  ])('rejects %s with a CanvasError', (_, build, message) => {
    expect(build).toThrow(CanvasError);
    expect(build).toThrow(message);
  });

  it('rejects cyclic args', () => {
    const cyclic: Json[] = [];
    (cyclic as unknown[]).push(cyclic);
    expect(() => signature('t', cyclic)).toThrow(CanvasError);
  });
});

describe('defineTask', () => {
  it('binds trailing arguments with .s(), leaving the signature mutable', () => {
    expect(add.s(4)).toStrictEqual(sig('add', [4]));
    expect(add.s()).toStrictEqual(sig('add'));
    expect(add.s(2, 2)).toStrictEqual(sig('add', [2, 2]));
  });

  it('makes an immutable signature with .si()', () => {
    expect(add.si(2, 2)).toStrictEqual(sig('add', [2, 2], { immutable: true }));
  });

  it('exposes the task name', () => {
    expect(add.name).toBe('add');
  });

  it('returns a plain object whose functions do not depend on `this`, so the runtime can extend it', () => {
    const { s, si } = add;
    const extended = { ...add, delay: () => 'sent' };
    expect(s(1)).toStrictEqual(sig('add', [1]));
    expect(si(1, 2)).toStrictEqual(sig('add', [1, 2], { immutable: true }));
    expect(extended.s(3)).toStrictEqual(sig('add', [3]));
  });

  it('rejects an empty task name at definition time', () => {
    expect(() => defineTask('')).toThrow(CanvasError);
    expect(() => defineTask('')).toThrow(/name: expected a task name, got an empty string/);
  });

  it('rejects non-JSON arguments to .s() and .si()', () => {
    const date = defineTask<[d: Date], string>('date');
    expect(() => date.si(new Date())).toThrow(/args\[0\]: expected JSON, got a Date/);
  });
});

describe('immutable', () => {
  it('marks a signature immutable', () => {
    expect(immutable(add.s(2, 2))).toStrictEqual(sig('add', [2, 2], { immutable: true }));
  });

  it('returns an immutable signature as it is', () => {
    const s = add.si(1, 1);
    expect(immutable(s)).toBe(s);
  });

  it('marks every member of a group immutable', () => {
    expect(immutable(group(add.s(1), tsum.s()))).toStrictEqual({
      kind: 'group',
      tasks: [sig('add', [1], { immutable: true }), sig('tsum', [], { immutable: true })],
      options: {},
    });
  });

  it('marks only the header members of a chord immutable, not the body', () => {
    expect(immutable(chord([add.s(1), add.s(2)], tsum.s()))).toStrictEqual({
      kind: 'chord',
      header: [sig('add', [1], { immutable: true }), sig('add', [2], { immutable: true })],
      body: sig('tsum'),
      options: {},
    });
  });

  it('marks only the first step of a chain immutable, recursively', () => {
    expect(immutable(chain(group(add.s(1), add.s(2)), tsum.s(), add.s(3)))).toStrictEqual({
      kind: 'chain',
      tasks: [
        {
          kind: 'chord',
          header: [sig('add', [1], { immutable: true }), sig('add', [2], { immutable: true })],
          body: { kind: 'chain', tasks: [sig('tsum'), sig('add', [3])], options: {} },
          options: {},
        },
      ],
      options: {},
    });
  });

  it('leaves an empty chain as it is', () => {
    expect(immutable(chain())).toStrictEqual({ kind: 'chain', tasks: [], options: {} });
  });
});

describe('partial', () => {
  it('prepends partial args before the signature\'s own args', () => {
    expect(partial(add.s(2), [4])).toStrictEqual(sig('add', [4, 2]));
  });

  it('merges partial kwargs over the signature\'s own kwargs', () => {
    const s = signature('t', [1], { a: 1, b: 1 });
    expect(partial(s, [], { b: 2, c: 3 })).toStrictEqual(sig('t', [1], { kwargs: { a: 1, b: 2, c: 3 } }));
  });

  it('keeps an immutable signature\'s args and kwargs under partial', () => {
    const s = immutable(signature('add', [2, 2], { foo: 1 }));
    expect(partial(s, [4], { bar: 2 })).toStrictEqual(sig('add', [2, 2], { kwargs: { foo: 1 }, immutable: true }));
  });

  it('applies to the first step of a chain only', () => {
    expect(partial(chain(add.s(), add.s(8)), [1], { z: 1 })).toStrictEqual({
      kind: 'chain',
      tasks: [sig('add', [1], { kwargs: { z: 1 } }), sig('add', [8])],
      options: {},
    });
  });

  it('applies to every member of a group that starts a chain (recursively)', () => {
    const flow = chain(group(add.s(1), add.si(5, 5), add.s(2)), tsum.s());
    expect(partial(flow, [4])).toStrictEqual({
      kind: 'chain',
      tasks: [
        {
          kind: 'chord',
          header: [sig('add', [4, 1]), sig('add', [5, 5], { immutable: true }), sig('add', [4, 2])],
          body: sig('tsum'),
          options: {},
        },
      ],
      options: {},
    });
  });

  it('applies to every member of a group', () => {
    expect(partial(group(add.s(0), signature('add', [], { x: 1 })), [42], { y: 1 })).toStrictEqual({
      kind: 'group',
      tasks: [sig('add', [42, 0], { kwargs: { y: 1 } }), sig('add', [42], { kwargs: { x: 1, y: 1 } })],
      options: {},
    });
  });

  it('applies to every header member of a chord, never to its body', () => {
    expect(partial(chord([add.s(1), add.s(2)], tsum.s()), [4], { z: 1 })).toStrictEqual({
      kind: 'chord',
      header: [sig('add', [4, 1], { kwargs: { z: 1 } }), sig('add', [4, 2], { kwargs: { z: 1 } })],
      body: sig('tsum'),
      options: {},
    });
  });

  it('goes into the header of a nested chord at the start of a chain', () => {
    const inner = chord([add.s(1)], tsum.s());
    const flow = chain(signature('first'), add.s(9));
    const nested = chain(inner, flow);
    const applied = partial(nested, [7]) as Canvas & { tasks: readonly Canvas[] };
    expect(applied.tasks[0]).toStrictEqual({
      kind: 'chord',
      header: [sig('add', [7, 1])],
      body: { kind: 'chain', tasks: [sig('tsum'), sig('first'), sig('add', [9])], options: {} },
      options: {},
    });
  });

  it('returns the canvas itself when there is nothing to apply', () => {
    const s = add.s(1);
    expect(partial(s)).toBe(s);
  });

  it('rejects a __proto__ key in partial kwargs', () => {
    const kwargs = JSON.parse('{"__proto__": {"polluted": 1}}') as Kwargs;
    expect(() => partial(add.s(1), [], kwargs)).toThrow(/kwargs\.__proto__: the key "__proto__" is not allowed/);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('rejects partial args that are not an array', () => {
    expect(() => partial(add.s(1), 5 as unknown as [])).toThrow(CanvasError);
    expect(() => partial(add.s(1), 5 as unknown as [])).toThrow(/args: expected an array/);
  });
});
