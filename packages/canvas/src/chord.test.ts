import { describe, expect, it } from 'vitest';
import { chain } from './chain.js';
import { chord } from './chord.js';
import { compile } from './compile.js';
import { CanvasError } from './errors.js';
import { group } from './group.js';
import { signature, withOptions } from './signature.js';
import type { Canvas, Chord, Group, Json, Signature, TaskOptions } from './types.js';

const s = (task: string, args: Json[] = []) => signature(task, args);
const sig = (task: string, args: Json[] = []) =>
  ({ kind: 'signature', task, args, kwargs: {}, options: {}, immutable: false }) satisfies Signature;
const gr = (tasks: Canvas[], options: TaskOptions = {}) => ({ kind: 'group', tasks, options }) satisfies Group;
const cd = (header: Canvas[], body: Canvas) => ({ kind: 'chord', header, body, options: {} }) satisfies Chord;

describe('chord', () => {
  it('builds a chord from an array header and a body', () => {
    expect(chord([s('a'), s('b')], s('sum'))).toStrictEqual(cd([sig('a'), sig('b')], sig('sum')));
  });

  it('unpacks a group header into its members', () => {
    expect(chord(group(s('a'), s('b')), s('sum'))).toStrictEqual(cd([sig('a'), sig('b')], sig('sum')));
  });

  it('keeps a group header that has options whole, as the only header element', () => {
    const header = withOptions(group(s('a'), s('b')), { queue: 'h' });
    expect(chord(header, s('sum'))).toStrictEqual(cd([gr([sig('a'), sig('b')], { queue: 'h' })], sig('sum')));
  });

  it('keeps a group in an array header as one element, and hands the body one flat list', () => {
    const nested = chord([s('a'), group(s('b'), s('c'))], s('sum'));
    expect(nested).toStrictEqual(
      cd([sig('a'), gr([sig('b'), sig('c')])], sig('sum')),
    );
    const body = compile(nested).nodes.find((n) => n.key === '$.b');
    expect(body?.input).toStrictEqual({ list: [{ node: '$.h.0' }, { node: '$.h.1.0' }, { node: '$.h.1.1' }] });
  });

  it('keeps a chain in the header: it contributes its final result', () => {
    expect(chord([chain(s('a'), s('b'))], s('sum'))).toStrictEqual(
      cd([{ kind: 'chain', tasks: [sig('a'), sig('b')], options: {} }], sig('sum')),
    );
  });

  it('keeps a group body a group', () => {
    expect(chord([s('a')], group(s('x'), s('y')))).toStrictEqual(cd([sig('a')], gr([sig('x'), sig('y')])));
  });

  it('allows an empty header', () => {
    expect(chord([], s('sum'))).toStrictEqual(cd([], sig('sum')));
  });

  it('rejects a header that is neither an array nor a group', () => {
    const build = () => chord(s('a') as unknown as [], s('sum'));
    expect(build).toThrow(CanvasError);
    expect(build).toThrow(/header: chord\(\) expected an array of canvases or a group/);
  });

  it('rejects a header element or a body that is not a canvas', () => {
    expect(() => chord([s('a'), null as unknown as Signature], s('sum'))).toThrow(/header\[1\]: chord\(\) expected a canvas, got null/);
    expect(() => chord([s('a')], 'sum' as unknown as Signature)).toThrow(/body: chord\(\) expected a canvas, got a string/);
  });
});
