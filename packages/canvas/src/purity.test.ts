/**
 * The contract every builder shares (DESIGN §2): its result is plain, deeply frozen JSON and it
 * never changes, freezes or keeps what it was given, whether that is frozen or not.
 */
import { describe, expect, it } from 'vitest';
import { chain } from './chain.js';
import { chord } from './chord.js';
import { group } from './group.js';
import { chunks, map, starmap } from './map.js';
import { defineTask, immutable, partial, signature, withOptions } from './signature.js';
import type { Canvas, Chain, Chord, Group, Signature } from './types.js';

const add = defineTask<[x: number, y: number], number>('add');

/** A hand-written, unfrozen canvas: what a caller may build without our builders. */
function literalSig(task: string): Signature {
  return { kind: 'signature', task, args: [1, { deep: [2] }], kwargs: { k: { v: 1 } }, options: { queue: 'q' }, immutable: false };
}
function literalGroup(): Group {
  return { kind: 'group', tasks: [literalSig('g1'), literalSig('g2')], options: {} };
}
function literalChain(): Chain {
  return { kind: 'chain', tasks: [literalSig('c1'), literalGroup()], options: { priority: 3 } };
}

const builders: [string, () => unknown][] = [
  ['signature', () => signature('t', [1, [2]], { a: { b: 1 } }, { queue: 'q' })],
  ['.s()', () => add.s(1)],
  ['.si()', () => add.si(1, 2)],
  ['chain', () => chain(add.s(1, 1), group(add.s(1), add.s(2)), signature('tsum'), literalChain())],
  ['group', () => group(add.s(1, 1), literalGroup(), literalChain())],
  ['chord', () => chord([add.s(1, 1), literalSig('h')], literalChain())],
  ['map', () => map('t', [[1], { a: 1 }])],
  ['starmap', () => starmap(add, [[1, 2]])],
  ['chunks', () => chunks(add, [[1, 2], [3, 4], [5, 6]], 2)],
  ['partial', () => partial(literalChain(), [9], { z: [1] })],
  ['immutable', () => immutable(literalChain())],
  ['withOptions', () => withOptions(literalChain(), { link: [literalSig('cb')] })],
];

function expectDeeplyFrozen(value: unknown, path = '$'): void {
  if (typeof value !== 'object' || value === null) return;
  expect(Object.isFrozen(value), `${path} is frozen`).toBe(true);
  for (const [key, child] of Object.entries(value)) expectDeeplyFrozen(child, `${path}.${key}`);
}

describe.each(builders)('%s', (_, build) => {
  it('returns a deeply frozen value', () => {
    expectDeeplyFrozen(build());
  });

  it('returns a value that survives a JSON round trip unchanged', () => {
    const value = build();
    expect(JSON.parse(JSON.stringify(value))).toStrictEqual(value);
  });

  it('throws on an attempt to mutate the result', () => {
    const value = build() as { kind: string; options: Record<string, unknown> };
    expect(() => {
      value.kind = 'x';
    }).toThrow(TypeError);
    expect(() => {
      value.options['queue'] = 'other';
    }).toThrow(TypeError);
    expect(value.kind).not.toBe('x');
  });
});

describe('inputs', () => {
  it('are neither changed nor frozen when they are unfrozen literals', () => {
    const step = literalSig('a');
    const nested = literalChain();
    const header = literalGroup();
    const snapshot = structuredClone([step, nested, header]);
    const results: Canvas[] = [
      chain(step, nested),
      group(step, header),
      chord(header, step),
      partial(nested, [1], { x: 1 }),
      immutable(header),
      withOptions(step, { queue: 'other' }),
    ];
    expect([step, nested, header]).toStrictEqual(snapshot);
    expect(Object.isFrozen(step)).toBe(false);
    expect(Object.isFrozen(step.args)).toBe(false);
    expect(Object.isFrozen(nested.tasks)).toBe(false);
    // Later changes to the caller's objects do not reach the built values.
    (step.args as unknown[]).push('late');
    (header.tasks as unknown[]).pop();
    expect(JSON.stringify(results)).not.toContain('late');
    expect((results[2] as Chord).header).toHaveLength(2);
  });

  it('are left as they were when they are frozen values from the builders', () => {
    const a = signature('a', [1]);
    const g = group(add.s(1), add.s(2));
    const before = JSON.stringify([a, g]);
    chain(a, g, a);
    partial(g, [5]);
    immutable(g);
    withOptions(a, { queue: 'x' });
    chord(g, a);
    expect(JSON.stringify([a, g])).toBe(before);
  });

  it('are copied when frozen by someone else, since only our own values are trusted', () => {
    const foreign = Object.freeze({ ...literalSig('f'), args: [1] }) as Signature; // shallowly frozen, args mutable
    const built = chain(foreign);
    expect(built.tasks[0]).not.toBe(foreign);
    expectDeeplyFrozen(built);
    expect(Object.isFrozen(foreign.args)).toBe(false);
  });
});
