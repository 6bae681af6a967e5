import { describe, expect, it } from 'vitest';
import { chain } from './chain.js';
import { compile } from './compile.js';
import { CanvasError } from './errors.js';
import { group } from './group.js';
import { signature, withOptions } from './signature.js';
import type { Canvas, Group, Json, Signature, TaskOptions } from './types.js';

const s = (task: string, args: Json[] = []) => signature(task, args);
const sig = (task: string, args: Json[] = []) =>
  ({ kind: 'signature', task, args, kwargs: {}, options: {}, immutable: false }) satisfies Signature;
const gr = (tasks: Canvas[], options: TaskOptions = {}) => ({ kind: 'group', tasks, options }) satisfies Group;

describe('group', () => {
  it('builds a group of its members in order', () => {
    expect(group(s('a'), s('b'), s('c'))).toStrictEqual(gr([sig('a'), sig('b'), sig('c')]));
  });

  it('accepts its members as one array', () => {
    expect(group([s('a'), s('b')])).toStrictEqual(gr([sig('a'), sig('b')]));
  });

  it('builds an empty group from no members', () => {
    expect(group()).toStrictEqual(gr([]));
    expect(group([])).toStrictEqual(gr([]));
  });

  it('keeps a group of one member a group', () => {
    expect(group(s('a'))).toStrictEqual(gr([sig('a')]));
  });

  it('keeps a nested group as one member, as Celery\'s data does, and splices its results when compiled', () => {
    const nested = group(s('a'), group(s('b'), s('c')), s('d'));
    expect(nested).toStrictEqual(gr([sig('a'), gr([sig('b'), sig('c')]), sig('d')]));
    // What runs is flat: four members in order, one result list [a, b, c, d].
    const graph = compile(nested);
    expect(graph.groups).toHaveLength(1);
    expect(graph.groups[0]?.members).toStrictEqual([{ node: '$.0' }, { node: '$.1.0' }, { node: '$.1.1' }, { node: '$.2' }]);
    expect(graph.nodes.map((n) => [n.task, n.group?.index])).toStrictEqual([['a', 0], ['b', 1], ['c', 2], ['d', 3]]);
  });

  it('keeps groups nested at any depth, and runs them as one flat group', () => {
    const nested = group(s('1'), group(s('2'), group(s('3'), s('4'))));
    expect(nested).toStrictEqual(gr([sig('1'), gr([sig('2'), gr([sig('3'), sig('4')])])]));
    expect(compile(nested).nodes.map((n) => [n.task, n.group])).toStrictEqual([
      ['1', { key: '$', index: 0 }],
      ['2', { key: '$', index: 1 }],
      ['3', { key: '$', index: 2 }],
      ['4', { key: '$', index: 3 }],
    ]);
    const literal = gr([gr([sig('x')]), sig('y')]);
    expect(group(literal, s('z'))).toStrictEqual(gr([literal, sig('z')]));
  });

  it('returns a lone option-less group as it is (Celery unwraps group(g))', () => {
    const inner = group(s('a'), s('b'));
    expect(group(inner)).toBe(inner);
    expect(group([inner])).toBe(inner);
  });

  it('builds nested groups in constant time per level (no member is copied)', () => {
    // 150 levels of group(previous, x): with members copied at each level this would touch
    // 150 * 151 / 2 members; nested as they are, each level holds exactly two.
    let nested: Group = group(s('leaf'));
    for (let i = 0; i < 150; i++) nested = group(nested, s('x'));
    expect(nested.tasks).toHaveLength(2);
    expect(compile(nested).nodes).toHaveLength(151);
  });

  it('keeps a nested group that has options of its own whole', () => {
    const inner = withOptions(group(s('b'), s('c')), { queue: 'q' });
    expect(group(s('a'), inner)).toStrictEqual(gr([sig('a'), gr([sig('b'), sig('c')], { queue: 'q' })]));
  });

  it('does not flatten a chain member: it contributes its final result', () => {
    expect(group(s('a'), chain(s('b'), s('c')))).toStrictEqual(
      gr([sig('a'), { kind: 'chain', tasks: [sig('b'), sig('c')], options: {} }]),
    );
  });

  it('rejects a member that is not a canvas, naming its position', () => {
    const build = () => group(s('a'), 'b' as unknown as Signature);
    expect(build).toThrow(CanvasError);
    expect(build).toThrow(/tasks\[1\]: group\(\) expected a canvas, got a string/);
  });

  it('builds a group of 100 000 members', () => {
    const members = Array.from({ length: 100_000 }, (_, i) => s('t', [i]));
    const big = group(members);
    expect(big.tasks).toHaveLength(100_000);
    expect(big.tasks[99_999]).toStrictEqual(sig('t', [99_999]));
    expect(chain(s('first'), big).tasks[1]).toBe(big); // reused, not re-checked or copied
  });
});
