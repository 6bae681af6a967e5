import { describe, expect, it } from 'vitest';
import { chain, join } from './chain.js';
import { chord } from './chord.js';
import { CanvasError } from './errors.js';
import { group } from './group.js';
import { signature, withOptions } from './signature.js';
import type { Canvas, Chain, Chord, Group, Json, Signature, TaskOptions } from './types.js';

// Untyped signatures keep these tests about structure; typing.test-d.ts covers the types.
const s = (task: string, args: Json[] = []) => signature(task, args);
const g = (...tasks: string[]) => group(tasks.map((t) => s(t)));

/** Literals the builders' output is compared with. */
const sig = (task: string, args: Json[] = [], options: TaskOptions = {}, immutable = false) =>
  ({ kind: 'signature', task, args, kwargs: {}, options, immutable }) satisfies Signature;
const ch = (...tasks: Canvas[]) => ({ kind: 'chain', tasks, options: {} }) satisfies Chain;
const gr = (...tasks: Canvas[]) => ({ kind: 'group', tasks, options: {} }) satisfies Group;
const cd = (header: Canvas[], body: Canvas) => ({ kind: 'chord', header, body, options: {} }) satisfies Chord;

describe('chain', () => {
  it('builds a chain of its steps in order', () => {
    expect(chain(s('a'), s('b'), s('c'))).toStrictEqual(ch(sig('a'), sig('b'), sig('c')));
  });

  it('accepts its steps as one array', () => {
    expect(chain([s('a'), s('b')])).toStrictEqual(ch(sig('a'), sig('b')));
  });

  it('builds an empty chain from no steps', () => {
    expect(chain()).toStrictEqual(ch());
    expect(chain([])).toStrictEqual(ch());
  });

  it('keeps a single step wrapped in a chain', () => {
    expect(chain(s('a'))).toStrictEqual(ch(sig('a')));
  });

  it('splices a nested chain into the outer chain', () => {
    expect(chain(s('a'), chain(s('b'), s('c')), s('d'))).toStrictEqual(ch(sig('a'), sig('b'), sig('c'), sig('d')));
  });

  it('splices chains nested at any depth', () => {
    expect(chain(chain(chain(s('a'), s('b')), s('c')), chain(s('d')))).toStrictEqual(
      ch(sig('a'), sig('b'), sig('c'), sig('d')),
    );
  });

  it('moves a spliced chain\'s options onto its steps: plain ones to the first, taskId and link to the last, linkError to each', () => {
    const inner = withOptions(chain(s('a'), s('b'), s('c')), {
      queue: 'q',
      taskId: 'id1',
      link: [s('done')],
      linkError: [s('oops')],
    });
    expect(chain(s('x'), inner)).toStrictEqual(
      ch(
        sig('x'),
        sig('a', [], { queue: 'q', linkError: [sig('oops')] }),
        sig('b', [], { linkError: [sig('oops')] }),
        sig('c', [], { taskId: 'id1', link: [sig('done')], linkError: [sig('oops')] }),
      ),
    );
  });

  it('appends a spliced chain\'s link and linkError to the lists its steps already have', () => {
    const step = withOptions(s('a'), { link: [s('l1')], linkError: [s('e1')] });
    const inner = withOptions(chain(step), { link: [s('l2')], linkError: [s('e2')] });
    expect(chain(inner)).toStrictEqual(ch(sig('a', [], { link: [sig('l1'), sig('l2')], linkError: [sig('e1'), sig('e2')] })));
  });

  it('upgrades a group followed by a task into a chord', () => {
    expect(chain(g('a', 'b'), s('c'))).toStrictEqual(ch(cd([sig('a'), sig('b')], sig('c'))));
  });

  it('upgrades a group in the middle of a chain into a chord whose body is the rest of the chain', () => {
    expect(chain(s('x'), g('a', 'b'), s('c'), s('d'))).toStrictEqual(
      ch(sig('x'), cd([sig('a'), sig('b')], ch(sig('c'), sig('d')))),
    );
  });

  it('joins a group followed by a group as chord(g1, body = g2)', () => {
    expect(chain(g('a', 'b'), g('c', 'd'))).toStrictEqual(ch(cd([sig('a'), sig('b')], gr(sig('c'), sig('d')))));
  });

  it('nests consecutive groups into one chord: chain(g, g, g, task) is one chord', () => {
    expect(chain(g('a', 'b'), g('c', 'd'), g('e', 'f'), s('x', [30]))).toStrictEqual(
      ch(cd([sig('a'), sig('b')], cd([sig('c'), sig('d')], cd([sig('e'), sig('f')], sig('x', [30]))))),
    );
  });

  it('keeps a chain ending in a group ending in that group', () => {
    expect(chain(s('a'), g('b', 'c'))).toStrictEqual(ch(sig('a'), gr(sig('b'), sig('c'))));
  });

  it('appends a task after a chord to the chord\'s body', () => {
    expect(chain(chord([s('h')], s('b')), s('t'))).toStrictEqual(ch(cd([sig('h')], ch(sig('b'), sig('t')))));
  });

  it('appends a group after a chord to the chord\'s body', () => {
    expect(chain(chord([s('h')], s('b')), g('x', 'y'))).toStrictEqual(
      ch(cd([sig('h')], ch(sig('b'), gr(sig('x'), sig('y'))))),
    );
  });

  it('extends a chord body that is already a chain', () => {
    expect(chain(chain(g('a', 'b'), s('c'), s('d')), s('e'))).toStrictEqual(
      ch(cd([sig('a'), sig('b')], ch(sig('c'), sig('d'), sig('e')))),
    );
  });

  it('upgrades a chord whose body is a group, followed by a task, into a chord with a chord body', () => {
    expect(chain(chord([s('h')], g('b1', 'b2')), s('t'))).toStrictEqual(
      ch(cd([sig('h')], cd([sig('b1'), sig('b2')], sig('t')))),
    );
  });

  it('upgrades a chord body that is a group of one, followed by a task, into a chord (Celery\'s group(one) | task)', () => {
    expect(chain(chord([s('h')], group(s('b'))), s('t'))).toStrictEqual(ch(cd([sig('h')], cd([sig('b')], sig('t')))));
  });

  it('keeps a chain of chords flat', () => {
    const c1 = chord([s('h1'), s('h2')], s('b1'));
    const c2 = chord([s('h3'), s('h4')], s('b2'));
    const c3 = chord([s('h5'), s('h6')], s('b3'));
    expect(chain(c1, c2, c3)).toStrictEqual(
      ch(cd([sig('h1'), sig('h2')], sig('b1')), cd([sig('h3'), sig('h4')], sig('b2')), cd([sig('h5'), sig('h6')], sig('b3'))),
    );
  });

  it('unrolls a group of one inside a chain', () => {
    expect(chain(s('a', [2, 2]), group(s('b', [1])), s('c', [1]))).toStrictEqual(
      ch(sig('a', [2, 2]), sig('b', [1]), sig('c', [1])),
    );
  });

  it('unrolls a group of one at the start of a chain', () => {
    expect(chain(group(s('a')), s('b'))).toStrictEqual(ch(sig('a'), sig('b')));
  });

  it('unrolls a group of one after a chord into the chord\'s body', () => {
    expect(chain(chord([s('h')], s('b')), group(s('t')))).toStrictEqual(ch(cd([sig('h')], ch(sig('b'), sig('t')))));
  });

  it('moves an unrolled group\'s options onto its member, its link as immutable clones', () => {
    const one = withOptions(group(withOptions(s('a'), { queue: 'own', priority: 1 })), {
      queue: 'group',
      link: [s('cb')],
    });
    expect(chain(s('x'), one)).toStrictEqual(
      ch(sig('x'), sig('a', [], { queue: 'group', priority: 1, link: [sig('cb', [], {}, true)] })),
    );
  });

  it('skips an empty group that follows another step', () => {
    expect(chain(s('a'), group(), s('b'))).toStrictEqual(ch(sig('a'), sig('b')));
    expect(chain(g('a', 'b'), group(), group())).toStrictEqual(ch(gr(sig('a'), sig('b'))));
  });

  it('skips an empty group that follows a group being upgraded into a chord', () => {
    expect(chain(s('x'), g('a', 'b'), group())).toStrictEqual(ch(sig('x'), gr(sig('a'), sig('b'))));
  });

  it('keeps a leading empty group, which becomes a chord with an empty header when a task follows', () => {
    expect(chain(group())).toStrictEqual(ch(gr()));
    expect(chain(group(), s('b'))).toStrictEqual(ch(cd([], sig('b'))));
  });

  it('upgrades a group followed by a nested chain into a chord whose body is that chain', () => {
    expect(chain(g('a', 'b'), chain(s('c'), s('d')))).toStrictEqual(ch(cd([sig('a'), sig('b')], ch(sig('c'), sig('d')))));
  });

  it('keeps a group header whose group has options whole when upgrading it into a chord', () => {
    const header = withOptions(g('a', 'b'), { queue: 'h' });
    expect(chain(header, s('c'))).toStrictEqual(
      ch(cd([{ kind: 'group', tasks: [sig('a'), sig('b')], options: { queue: 'h' } }], sig('c'))),
    );
  });

  it('rejects a step that is not a canvas, naming its position', () => {
    const build = () => chain(s('a'), 42 as unknown as Signature);
    expect(build).toThrow(CanvasError);
    expect(build).toThrow(/steps\[1\]: chain\(\) expected a canvas, got a number/);
  });

  it('rejects a malformed canvas object, naming the path inside it', () => {
    const bad = { kind: 'signature', task: 'x', args: 'no', kwargs: {}, options: {}, immutable: false };
    expect(() => chain(s('a'), bad as unknown as Signature)).toThrow(/steps\[1\]\.args: expected an array/);
  });
});

describe('join', () => {
  it('appends to nothing as the first step', () => {
    expect(join(undefined, s('a'))).toStrictEqual([sig('a')]);
  });

  it('returns new nodes and leaves its frozen inputs as they were', () => {
    const last = g('a', 'b');
    const next = s('c');
    const before = JSON.stringify([last, next]);
    expect(join(last, next)).toStrictEqual([cd([sig('a'), sig('b')], sig('c'))]);
    expect(JSON.stringify([last, next])).toBe(before);
  });

  it('does not change an unfrozen chord it extends', () => {
    const last = { kind: 'chord', header: [sig('h')], body: sig('b'), options: {} } satisfies Chord;
    const copy = structuredClone(last);
    join(last, s('t'));
    expect(last).toStrictEqual(copy);
  });
});
