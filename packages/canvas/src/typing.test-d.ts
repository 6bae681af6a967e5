/**
 * Compile-time behaviour of the builders: `expectTypeOf` pins what is accepted and inferred, and
 * each `@ts-expect-error` pins a composition that must be rejected (the line fails the run if it
 * ever compiles).
 */
import { describe, expectTypeOf, it } from 'vitest';
import { chain } from './chain.js';
import { chord } from './chord.js';
import { group } from './group.js';
import { chunks, map, starmap } from './map.js';
import { defineTask, immutable, partial, signature, withOptions } from './signature.js';
import type { TaskRef } from './signature.js';
import type { AnyRes, AsyncRes, Chain, Chord, Group, GroupRes, Lineage, Signature } from './types.js';
import type {
  AnyCanvas,
  AnySignature,
  CheckChain,
  ImmutableSignature,
  InferArgs,
  InferResult,
  LineageOf,
  StepError,
} from './typing.js';

const add = defineTask<[x: number, y: number], number>('add');
const upper = defineTask<[s: string], string>('upper');
const tsum = defineTask<[nums: number[]], number>('tsum');
const toStr = defineTask<[n: number], string>('to_str');
const pad = defineTask<[s: string, width?: number], string>('pad');

describe('defineTask', () => {
  it('returns a typed task reference', () => {
    expectTypeOf(add).toEqualTypeOf<TaskRef<[x: number, y: number], number>>();
    expectTypeOf(add.name).toEqualTypeOf<string>();
  });

  it('types .s() by dropping the bound trailing parameters', () => {
    expectTypeOf(add.s(2, 2)).toEqualTypeOf<Signature<[], number>>();
    expectTypeOf(add.s(4)).toEqualTypeOf<Signature<[x: number], number>>();
    expectTypeOf(add.s()).toEqualTypeOf<Signature<[x: number, y: number], number>>();
  });

  it('types .si() as an immutable signature that accepts nothing', () => {
    expectTypeOf(add.si(2, 2)).toEqualTypeOf<ImmutableSignature<number>>();
    expectTypeOf<InferArgs<ReturnType<typeof add.si>>>().toEqualTypeOf<[]>();
  });

  it('rejects bound arguments of the wrong type', () => {
    // @ts-expect-error -- 'x' is not a number
    add.s('x');
    // @ts-expect-error -- too many arguments
    add.s(1, 2, 3);
    // @ts-expect-error -- .si() needs every argument
    add.si(1);
  });

  it('binds an optional trailing parameter like a required one', () => {
    expectTypeOf(pad.s(10)).toEqualTypeOf<Signature<[s: string], string>>();
  });
});

describe('signature', () => {
  it('is untyped', () => {
    expectTypeOf(signature('x')).toEqualTypeOf<AnySignature>();
    expectTypeOf<InferResult<AnySignature>>().toBeUnknown();
  });
});

describe('chain', () => {
  it('accepts a step whose one free parameter takes the previous result', () => {
    expectTypeOf(chain(add.s(2, 2), add.s(4))).toEqualTypeOf<Chain<[], number, [AsyncRes<number>, AsyncRes<number>]>>();
    expectTypeOf(chain(add.s(2, 2), toStr.s(), upper.s())).toEqualTypeOf<Chain<[], string, [AsyncRes<number>, AsyncRes<string>, AsyncRes<string>]>>();
  });

  it('accepts what the first step still takes as the chain\'s arguments', () => {
    expectTypeOf(chain(add.s(4), toStr.s())).toEqualTypeOf<Chain<[x: number], string, [AsyncRes<number>, AsyncRes<string>]>>();
  });

  it('accepts the steps as one array', () => {
    expectTypeOf(chain([add.s(2, 2), add.s(4)])).toEqualTypeOf<Chain<[], number, [AsyncRes<number>, AsyncRes<number>]>>();
  });

  it('rejects a step whose free parameter does not take the previous result', () => {
    // @ts-expect-error -- upper takes a string, add returns a number
    chain(add.s(2, 2), upper.s());
    // @ts-expect-error -- at position 2: to_str returns a string, add wants a number
    chain(add.s(2, 2), toStr.s(), add.s(4));
  });

  it('rejects a step with no free parameter left (use .si() to ignore the result)', () => {
    // @ts-expect-error -- add(1, 1) has no room for the previous result
    chain(add.s(2, 2), add.s(1, 1));
  });

  it('rejects a step with more than one free parameter', () => {
    // @ts-expect-error -- add() would get only x
    chain(add.s(2, 2), add.s());
  });

  it('accepts an immutable step after anything', () => {
    expectTypeOf(chain(upper.s('a'), add.si(1, 1), add.s(1))).toEqualTypeOf<Chain<[], number, [AsyncRes<string>, AsyncRes<number>, AsyncRes<number>]>>();
    expectTypeOf(chain(add.s(2, 2), immutable(upper.s('a')))).toEqualTypeOf<Chain<[], string, [AsyncRes<number>, AsyncRes<string>]>>();
  });

  it('accepts an untyped signature anywhere, and anything after it', () => {
    expectTypeOf(chain(add.s(2, 2), signature('x'), upper.s())).toEqualTypeOf<Chain<[], string, [AsyncRes<number>, AsyncRes<unknown>, AsyncRes<string>]>>();
    expectTypeOf(chain(signature('x'), add.s(1))).toEqualTypeOf<Chain<readonly unknown[], number, [AsyncRes<unknown>, AsyncRes<number>]>>();
  });

  it('accepts a chain starting with an immutable step: it takes anything', () => {
    expectTypeOf(chain(add.si(1, 1), add.s(1))).toEqualTypeOf<Chain<readonly unknown[], number, [AsyncRes<number>, AsyncRes<number>]>>();
  });

  it('passes a group\'s result tuple to the next step', () => {
    expectTypeOf(chain(group(add.s(1, 1), add.s(2, 2)), tsum.s())).toEqualTypeOf<Chain<[], number, [GroupRes<[number, number]>, AsyncRes<number>]>>();
    // @ts-expect-error -- [number, string] is not number[]
    chain(group(add.s(1, 1), upper.s('a')), tsum.s());
  });

  it('checks a group step against the previous result, member by member', () => {
    expectTypeOf(chain(add.s(2, 2), group(add.s(1), add.s(2)), tsum.s())).toEqualTypeOf<Chain<[], number, [AsyncRes<number>, GroupRes<[number, number]>, AsyncRes<number>]>>();
    // @ts-expect-error -- upper in the group cannot take add's number
    chain(add.s(2, 2), group(add.s(1), upper.s()));
  });

  it('treats a group of one as its member, as the chain unrolls it', () => {
    expectTypeOf(chain(add.s(2, 2), group(add.s(1)), add.s(1))).toEqualTypeOf<Chain<[], number, [AsyncRes<number>, AsyncRes<number>, AsyncRes<number>]>>();
  });

  it('passes a nested chain\'s result on and checks its first step', () => {
    expectTypeOf(chain(add.s(2, 2), chain(add.s(1), toStr.s()), upper.s())).toEqualTypeOf<Chain<[], string, [AsyncRes<number>, AsyncRes<number>, AsyncRes<string>, AsyncRes<string>]>>();
    // @ts-expect-error -- the nested chain starts with upper, which cannot take a number
    chain(add.s(2, 2), chain(upper.s(), upper.s()));
  });

  it('passes a chord\'s body result on', () => {
    expectTypeOf(chain(chord([add.s(1, 1)], tsum.s()), toStr.s())).toEqualTypeOf<Chain<[], string, [GroupRes<[number]>, AsyncRes<number>, AsyncRes<string>]>>();
  });

  it('types an array of unknown length by its elements, unchecked', () => {
    const steps: Signature<[x: number], number>[] = [];
    expectTypeOf(chain(steps)).toEqualTypeOf<Chain>();
  });

  it('types an empty chain as returning null', () => {
    expectTypeOf(chain()).toEqualTypeOf<Chain<[], null, []>>();
  });

  it('checks a 20-step chain', () => {
    const long = chain(
      add.s(1, 1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1),
      add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), toStr.s(), upper.s(),
    );
    type EighteenNumbers = [
      AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>,
      AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>,
      AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>, AsyncRes<number>,
    ];
    expectTypeOf(long).toEqualTypeOf<Chain<[], string, [...EighteenNumbers, AsyncRes<string>, AsyncRes<string>]>>();
    chain(
      // @ts-expect-error -- step 12, upper.s(), cannot take add's number (tsc reports it at the first argument)
      add.s(1, 1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1),
      add.s(1), upper.s(), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), add.s(1), toStr.s(), upper.s(),
    );
  });

  it('names the problem in a StepError', () => {
    type Checked = CheckChain<[Signature<[], number>, Signature<[s: string], string>, Signature<[], number>]>;
    expectTypeOf<Checked>().toEqualTypeOf<
      [
        Signature<[], number>,
        StepError<'the previous result is not assignable to the first unbound parameter', number, string>,
        StepError<
          'no parameter is left unbound for the previous result: bind one argument fewer, or use .si() to ignore it',
          string,
          []
        >,
      ]
    >();
  });
});

describe('group', () => {
  it('types its result as the tuple of member results', () => {
    expectTypeOf(group(add.s(1, 1), upper.s('a'))).toEqualTypeOf<Group<[], [number, string], [[AsyncRes<number>], [AsyncRes<string>]]>>();
    expectTypeOf(group([add.s(1, 1), upper.s('a')])).toEqualTypeOf<Group<[], [number, string], [[AsyncRes<number>], [AsyncRes<string>]]>>();
  });

  it('splices a nested group\'s results into the tuple', () => {
    expectTypeOf(group(add.s(1, 1), group(upper.s('a'), upper.s('b')))).toEqualTypeOf<
      Group<[], [number, string, string], [[AsyncRes<number>], [GroupRes<[string, string]>]]>
    >();
  });

  it('types an array of members as an array of results', () => {
    const members = [1, 2, 3].map((i) => add.si(i, i));
    expectTypeOf(group(members)).toEqualTypeOf<Group<readonly unknown[], number[], [AsyncRes<number>][]>>();
  });

  it('accepts what every member that uses its input accepts', () => {
    expectTypeOf(group(add.s(1), add.si(2, 2), add.s(3))).toEqualTypeOf<Group<[number], [number, number, number], [[AsyncRes<number>], [AsyncRes<number>], [AsyncRes<number>]]>>();
    expectTypeOf(group(add.si(1, 1), add.si(2, 2))).toEqualTypeOf<Group<readonly unknown[], [number, number], [[AsyncRes<number>], [AsyncRes<number>]]>>();
  });
});

describe('chord', () => {
  it('types the chord by its body\'s result', () => {
    expectTypeOf(chord([add.s(1, 1), add.s(2, 2)], tsum.s())).toEqualTypeOf<Chord<[], number, [GroupRes<[number, number]>, AsyncRes<number>]>>();
    expectTypeOf(chord(group(add.s(1, 1), add.s(2, 2)), tsum.s())).toEqualTypeOf<Chord<[], number, [GroupRes<[number, number]>, AsyncRes<number>]>>();
  });

  it('rejects a body that does not accept the header\'s result list', () => {
    // @ts-expect-error -- [number, string] is not number[]
    chord([add.s(1, 1), upper.s('a')], tsum.s());
    // @ts-expect-error -- the same with a group header
    chord(group(add.s(1, 1), upper.s('a')), tsum.s());
    // @ts-expect-error -- upper takes a string, not a list
    chord([add.s(1, 1)], upper.s());
  });

  it('accepts an immutable or untyped body', () => {
    expectTypeOf(chord([add.s(1, 1), upper.s('a')], tsum.si([1]))).toEqualTypeOf<Chord<[], number, [GroupRes<[number, string]>, AsyncRes<number>]>>();
    expectTypeOf(chord([add.s(1, 1)], signature('x'))).toEqualTypeOf<Chord<[], unknown, [GroupRes<[number]>, AsyncRes<unknown>]>>();
  });

  it('accepts any header list when a header member is untyped', () => {
    expectTypeOf(chord([add.s(1, 1), signature('x')], tsum.s())).toEqualTypeOf<Chord<[], number, [GroupRes<[number, unknown]>, AsyncRes<number>]>>();
  });
});

describe('map, starmap, chunks', () => {
  it('types map and starmap as immutable signatures returning the list of results', () => {
    expectTypeOf(map(tsum, [[1, 2]])).toEqualTypeOf<ImmutableSignature<number[]>>();
    expectTypeOf(starmap(add, [[1, 2]])).toEqualTypeOf<ImmutableSignature<number[]>>();
    expectTypeOf(map<string>('t', [1])).toEqualTypeOf<ImmutableSignature<string[]>>();
  });

  it('types chunks as a group returning a list of lists', () => {
    expectTypeOf(chunks(add, [[1, 2]], 1)).toEqualTypeOf<Group<readonly unknown[], number[][]>>();
  });

  it('checks items against the task\'s parameters', () => {
    // @ts-expect-error -- tsum takes a list of numbers
    map(tsum, ['a']);
    // @ts-expect-error -- add takes two numbers
    starmap(add, [[1, 'x']]);
  });

  it('fits map into a typed chain', () => {
    expectTypeOf(chain(map(tsum, [[1]]), tsum.s())).toEqualTypeOf<Chain<readonly unknown[], number, [AsyncRes<number[]>, AsyncRes<number>]>>();
  });
});

describe('partial, immutable, withOptions', () => {
  it('types partial by dropping the prepended parameters', () => {
    expectTypeOf(partial(add.s(2), [4])).toEqualTypeOf<Signature<[], number>>();
    expectTypeOf(partial(add.s(), [4])).toEqualTypeOf<Signature<[y: number], number>>();
    expectTypeOf(partial(add.si(1, 1), ['anything'])).toEqualTypeOf<ImmutableSignature<number>>();
  });

  it('rejects partial arguments of the wrong type', () => {
    // @ts-expect-error -- x is a number
    partial(add.s(), ['x']);
  });

  it('types immutable() of a signature as an immutable signature, of a container as accepting anything', () => {
    expectTypeOf(immutable(add.s(1))).toEqualTypeOf<ImmutableSignature<number>>();
    expectTypeOf(immutable(chain(add.s(1), toStr.s()))).toEqualTypeOf<Chain<readonly unknown[], string, [AsyncRes<number>, AsyncRes<string>]>>();
  });

  it('keeps the type through withOptions', () => {
    expectTypeOf(withOptions(add.s(1), { queue: 'q' })).toEqualTypeOf<Signature<[x: number], number>>();
  });

  it('accepts every builder output as an AnyCanvas', () => {
    expectTypeOf(chain(add.s(1, 1), group(add.s(1), add.s(2)))).toExtend<AnyCanvas>();
    expectTypeOf(add.si(1, 1)).toExtend<AnySignature>();
  });
});

/** Only type-checked, never run: the lineage of a canvas as a value to pass to `expectTypeOf`. */
declare function lineageOf<C>(canvas: C): LineageOf<C>;

describe('lineage', () => {
  it('lists the results a chain creates, a chord as its header group then its body', () => {
    expectTypeOf(lineageOf(chain(add.s(2, 2), chord([add.s(1), add.s(2)], tsum.s()), toStr.s()))).toEqualTypeOf<
      [AsyncRes<number>, GroupRes<[number, number]>, AsyncRes<number>, AsyncRes<string>]
    >();
  });

  it('gives a signature one task result and a group, even of one member, one group result', () => {
    expectTypeOf<LineageOf<Signature<[], number>>>().toEqualTypeOf<[AsyncRes<number>]>();
    expectTypeOf(lineageOf(group(add.s(1, 1)))).toEqualTypeOf<[GroupRes<[number]>]>();
  });

  it('drops an empty group after a step, and keeps it first', () => {
    expectTypeOf(lineageOf(chain(add.s(2, 2), group()))).toEqualTypeOf<[AsyncRes<number>]>();
    expectTypeOf(lineageOf(chain(group()))).toEqualTypeOf<[GroupRes<[]>]>();
  });

  it('cannot tell the kind of a group of unknown size in a chain', () => {
    const members = [1, 2].map((i) => add.s(i));
    expectTypeOf(lineageOf(chain(add.s(2, 2), group(members)))).toEqualTypeOf<[AsyncRes<number>, AnyRes<number[]>]>();
  });

  it('is unknown when a step\'s is', () => {
    const untyped: Chain = chain(add.s(1, 1));
    expectTypeOf(lineageOf(untyped)).toEqualTypeOf<Lineage>();
    expectTypeOf(chain(add.s(2, 2), untyped)).toEqualTypeOf<Chain<[], unknown, Lineage>>();
  });
});
