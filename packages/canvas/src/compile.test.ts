import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import type { Canvas, Chain, Chord, Group, Json, Signature, TaskOptions } from './types.js';

// Literal constructors keep these tests about the compiler alone, independent of builder normalisation.
const s = (task: string, args: Json[] = [], options: TaskOptions = {}): Signature =>
  ({ kind: 'signature', task, args, kwargs: {}, options, immutable: false });
const si = (task: string, args: Json[] = [], options: TaskOptions = {}): Signature => ({ ...s(task, args, options), immutable: true });
const chainOf = (tasks: Canvas[], options: TaskOptions = {}): Chain => ({ kind: 'chain', tasks, options });
const groupOf = (tasks: Canvas[], options: TaskOptions = {}): Group => ({ kind: 'group', tasks, options });
const chordOf = (header: Canvas[], body: Canvas, options: TaskOptions = {}): Chord => ({ kind: 'chord', header, body, options });

const node = (graph: ReturnType<typeof compile>, key: string) => {
  const found = graph.nodes.find((n) => n.key === key);
  if (found === undefined) throw new Error(`no node ${key} in ${graph.nodes.map((n) => n.key).join(', ')}`);
  return found;
};

describe('compile', () => {
  it('gives a lone signature the root key and makes it the entry and the result', () => {
    const graph = compile(s('add', [2, 2]));
    expect(graph.nodes.map((n) => n.key)).toEqual(['$']);
    expect(graph.entries).toEqual(['$']);
    expect(graph.result).toEqual({ node: '$' });
    expect(node(graph, '$')).toMatchObject({ task: 'add', args: [2, 2], input: null, after: [], parent: null });
  });

  it('feeds each chain step the previous step\'s result and links .parent backwards', () => {
    const graph = compile(chainOf([s('add', [2, 2]), s('add', [4]), s('add', [8])]));
    expect(graph.entries).toEqual(['$.0']);
    expect(node(graph, '$.1')).toMatchObject({ input: { node: '$.0' }, after: ['$.0'], parent: { node: '$.0' } });
    expect(node(graph, '$.2')).toMatchObject({ input: { node: '$.1' }, after: ['$.1'], parent: { node: '$.1' } });
    expect(graph.result).toEqual({ node: '$.2' });
    expect(graph.edges).toEqual([
      { from: '$.0', to: '$.1', carries: 'result' },
      { from: '$.1', to: '$.2', carries: 'result' },
    ]);
  });

  it('orders an immutable step after its predecessor without passing it the result', () => {
    const graph = compile(chainOf([si('add', [2, 2]), si('add', [4, 4])]));
    expect(node(graph, '$.1')).toMatchObject({ input: null, after: ['$.0'], immutable: true });
    expect(graph.edges).toEqual([{ from: '$.0', to: '$.1', carries: 'order' }]);
  });

  it('returns a group result whose members carry the group key and their index', () => {
    const graph = compile(groupOf([s('a'), s('b')]));
    expect(graph.result).toEqual({ group: '$' });
    expect(graph.entries).toEqual(['$.0', '$.1']);
    expect(graph.groups).toEqual([{ key: '$', members: [{ node: '$.0' }, { node: '$.1' }], parent: null }]);
    expect(node(graph, '$.1').group).toEqual({ key: '$', index: 1 });
  });

  it('hands a chord body the header results as one ordered list', () => {
    const graph = compile(chordOf([s('a'), s('b'), s('c')], s('tsum')));
    const body = node(graph, '$.b');
    expect(body.input).toEqual({ list: [{ node: '$.h.0' }, { node: '$.h.1' }, { node: '$.h.2' }] });
    expect(body.after).toEqual(['$.h.0', '$.h.1', '$.h.2']);
    expect(body.parent).toEqual({ group: '$.h' });
    expect(graph.result).toEqual({ node: '$.b' });
    expect(graph.entries).toEqual(['$.h.0', '$.h.1', '$.h.2']);
  });

  it('splices nested group results flat into a chord header list', () => {
    const graph = compile(chordOf([groupOf([s('a'), s('b')]), s('c')], s('tsum')));
    expect(node(graph, '$.b').input).toEqual({ list: [{ node: '$.h.0.0' }, { node: '$.h.0.1' }, { node: '$.h.1' }] });
  });

  it('keeps a chain ending in a group as a nested list inside a chord header', () => {
    const graph = compile(chordOf([chainOf([s('id', [42]), groupOf([s('id'), s('id')])])], s('id')));
    expect(node(graph, '$.b').input).toEqual({ list: [{ list: [{ node: '$.h.0.1.0' }, { node: '$.h.0.1.1' }] }] });
    expect(node(graph, '$.h.0.1.0').input).toEqual({ node: '$.h.0.0' });
  });

  it('joins a group followed by a task in a chain, and parents the group on the step before it', () => {
    const graph = compile(chainOf([s('a'), groupOf([s('b'), s('c')]), s('d')]));
    expect(node(graph, '$.1.0')).toMatchObject({ input: { node: '$.0' }, after: ['$.0'], parent: null });
    expect(node(graph, '$.2')).toMatchObject({ input: { list: [{ node: '$.1.0' }, { node: '$.1.1' }] }, parent: { group: '$.1' } });
    expect(graph.groups[0]).toMatchObject({ key: '$.1', parent: { node: '$.0' } });
  });

  it('gives every member of a group that follows a group the full list', () => {
    const graph = compile(chainOf([groupOf([s('a'), s('b')]), groupOf([s('c'), s('d')])]));
    const list = { list: [{ node: '$.0.0' }, { node: '$.0.1' }] };
    expect(node(graph, '$.1.0').input).toEqual(list);
    expect(node(graph, '$.1.1').input).toEqual(list);
    expect(graph.result).toEqual({ group: '$.1' });
  });

  it('runs a chord with an empty header immediately with an empty list', () => {
    const graph = compile(chordOf([], s('tsum')));
    expect(graph.entries).toEqual(['$.b']);
    expect(node(graph, '$.b')).toMatchObject({ input: { list: [] }, after: [] });
  });

  it('compiles an empty group to an empty group result with no nodes', () => {
    const graph = compile(groupOf([]));
    expect(graph.nodes).toEqual([]);
    expect(graph.groups).toEqual([{ key: '$', members: [], parent: null }]);
    expect(graph.result).toEqual({ group: '$' });
  });

  it('compiles an empty chain to no nodes and no result', () => {
    const graph = compile(chainOf([]));
    expect(graph).toMatchObject({ nodes: [], entries: [], result: null });
  });

  it('skips empty groups in a chain that has other steps', () => {
    const graph = compile(chainOf([s('a'), groupOf([]), s('b')]));
    expect(graph.nodes.map((n) => n.key)).toEqual(['$.0', '$.2']);
    expect(node(graph, '$.2').input).toEqual({ node: '$.0' });
  });

  it('applies chain options to the first step, taskId to the last and linkError to every step', () => {
    const errback = s('log_error');
    const graph = compile(chainOf([s('a'), s('b')], { queue: 'math', taskId: 'last-id', linkError: [errback] }));
    expect(node(graph, '$.0').options).toEqual({ queue: 'math' });
    expect(node(graph, '$.1').options).toEqual({ taskId: 'last-id' });
    expect(node(graph, '$.0').errbacks).toEqual(['$.0.e0']);
    expect(node(graph, '$.1').errbacks).toEqual(['$.1.e0']);
  });

  it('lets group options override every member\'s own options', () => {
    const graph = compile(groupOf([s('a', [], { queue: 'x', priority: 3 }), s('b')], { queue: 'y' }));
    expect(node(graph, '$.0').options).toEqual({ queue: 'y', priority: 3 });
    expect(node(graph, '$.1').options).toEqual({ queue: 'y' });
  });

  it('puts a chord\'s taskId on its body and its options on header and body', () => {
    const graph = compile(chordOf([s('a')], s('b'), { taskId: 'chord-id', queue: 'q' }));
    expect(node(graph, '$.b').options).toEqual({ queue: 'q', taskId: 'chord-id' });
    expect(node(graph, '$.h.0').options).toEqual({ queue: 'q' });
  });

  it('compiles a link into a callback node that receives the result', () => {
    const graph = compile(s('add', [2, 2], { link: [s('mul', [16])] }));
    expect(node(graph, '$.l0')).toMatchObject({ role: 'callback', input: { node: '$' }, after: ['$'], parent: { node: '$' } });
    expect(graph.entries).toEqual(['$']);
    expect(graph.result).toEqual({ node: '$' });
  });

  it('compiles a linkError into a dormant errback that receives the failed id and is no entry', () => {
    const graph = compile(s('fail', [], { linkError: [s('on_error')] }));
    expect(node(graph, '$').errbacks).toEqual(['$.e0']);
    expect(node(graph, '$.e0')).toMatchObject({ role: 'errback', input: { failureOf: '$' }, after: [] });
    expect(graph.entries).toEqual(['$']);
    expect(graph.edges).toEqual([{ from: '$', to: '$.e0', carries: 'failure' }]);
  });

  it('attaches a group\'s link to its first member only, as an immutable clone', () => {
    const graph = compile(groupOf([s('a'), s('b')], { link: [s('done')] }));
    expect(node(graph, '$.0.l0')).toMatchObject({ immutable: true, input: null, after: ['$.0'] });
    expect(graph.nodes.some((n) => n.key === '$.1.l0')).toBe(false);
  });

  // No clock here (machines are shared and noisy): quadratic work on 100k members would run far
  // past the test's timeout; linear work takes a second.
  it('compiles a 100 000-member chord without a quadratic step', { timeout: 60_000 }, () => {
    const header = Array.from({ length: 100_000 }, (_, i) => s('id', [i]));
    const graph = compile(chordOf(header, s('tsum')));
    expect(graph.nodes).toHaveLength(100_001);
    expect(node(graph, '$.b').after).toHaveLength(100_000);
  });
});
