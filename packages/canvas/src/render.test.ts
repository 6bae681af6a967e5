import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import { CanvasError } from './errors.js';
import { toDot, toMermaid } from './render.js';
import type { Canvas, CompiledGraph, GraphEdge, GraphNode, Json, Signature } from './types.js';

function node(key: string, task: string, args: Json[], extra: Partial<GraphNode> = {}): GraphNode {
  return {
    key,
    task,
    args,
    kwargs: {},
    options: {},
    immutable: false,
    role: 'task',
    input: null,
    after: [],
    errbacks: [],
    group: null,
    parent: null,
    ...extra,
  };
}

const edge = (from: string, to: string, carries: GraphEdge['carries'] = 'result'): GraphEdge => ({ from, to, carries });

/** chain(add.s(2, 2), add.s(4), add.si(8, 8)): a result edge, then an order-only edge. */
const smallChain: CompiledGraph = {
  nodes: [
    node('$.0', 'add', [2, 2]),
    node('$.1', 'add', [4], { input: { node: '$.0' }, after: ['$.0'], parent: { node: '$.0' } }),
    node('$.2', 'add', [8, 8], { immutable: true, after: ['$.1'], parent: { node: '$.1' } }),
  ],
  groups: [],
  edges: [edge('$.0', '$.1'), edge('$.1', '$.2', 'order')],
  entries: ['$.0'],
  result: { node: '$.2' },
};

/** chord([add.s(1, 1), add.si(2, 2)], tsum.s()) with a success callback and an error callback on the body. */
const chordGraph: CompiledGraph = {
  nodes: [
    node('$.h.0', 'add', [1, 1], { group: { key: '$.h', index: 0 } }),
    node('$.h.1', 'add', [2, 2], { immutable: true, group: { key: '$.h', index: 1 } }),
    node('$.b', 'tsum', [], {
      input: { list: [{ node: '$.h.0' }, { node: '$.h.1' }] },
      after: ['$.h.0', '$.h.1'],
      errbacks: ['$.b.e0'],
      parent: { group: '$.h' },
    }),
    node('$.b.l0', 'notify', ['done'], { role: 'callback', input: { node: '$.b' }, after: ['$.b'] }),
    node('$.b.e0', 'log_error', [], { role: 'errback', input: { failureOf: '$.b' } }),
  ],
  groups: [{ key: '$.h', members: [{ node: '$.h.0' }, { node: '$.h.1' }], parent: null }],
  edges: [edge('$.h.0', '$.b'), edge('$.h.1', '$.b'), edge('$.b', '$.b.l0'), edge('$.b', '$.b.e0', 'failure')],
  entries: ['$.h.0', '$.h.1'],
  result: { node: '$.b' },
};

/** The lines between `start` and the matching end of a block. */
function block(text: string, start: string, end: string): string[] {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => l.trim().startsWith(start));
  expect(from).toBeGreaterThanOrEqual(0);
  const to = lines.findIndex((l, i) => i > from && l.trim() === end);
  return lines.slice(from + 1, to).map((l) => l.trim());
}

describe('toMermaid', () => {
  it('draws a small chain exactly: boxes, a result arrow and an order-only arrow', () => {
    expect(toMermaid(smallChain)).toBe(
      [
        'flowchart LR',
        '  n_0["add(2, 2)"]',
        '  n_1["add(4)"]',
        '  n_2["add.si(8, 8)"]',
        '  n_0 --> n_1',
        '  n_1 -.-> n_2',
        '',
      ].join('\n'),
    );
  });

  it('draws every node and edge of a chord, the header in a subgraph', () => {
    const text = toMermaid(chordGraph);
    for (const box of ['n_h_0["add(1, 1)"]', 'n_h_1["add.si(2, 2)"]', 'n_b["tsum()"]', 'n_b_l0["notify(#quot;done#quot;)"]', 'n_b_e0["log_error()"]']) {
      expect(text).toContain(box);
    }
    for (const arrow of ['n_h_0 --> n_b', 'n_h_1 --> n_b', 'n_b --> n_b_l0', 'n_b --x|on failure| n_b_e0']) {
      expect(text.split('\n')).toContain(`  ${arrow}`);
    }
    expect(block(text, 'subgraph g_h["group $.h"]', 'end')).toStrictEqual(['n_h_0["add(1, 1)"]', 'n_h_1["add.si(2, 2)"]']);
  });

  it('styles callbacks and error callbacks distinctly', () => {
    const lines = toMermaid(chordGraph).split('\n');
    expect(lines).toContain('  class n_b_l0 callback');
    expect(lines).toContain('  class n_b_e0 errback');
    expect(lines).toContain('  classDef errback stroke:#c0392b,color:#c0392b');
    expect(toMermaid(smallChain)).not.toContain('classDef');
  });

  it('escapes quotes, #, angle brackets and newlines in labels', () => {
    const graph: CompiledGraph = {
      ...smallChain,
      nodes: [node('$', 'say<b>\n"#1"', ['a "quoted" #tag', '`x`'], { kwargs: { 'odd key': '&' } })],
      edges: [],
    };
    expect(toMermaid(graph).split('\n')[1]).toBe(
      '  n["say#lt;b#gt; #quot;#35;1#quot;(#quot;a \\#quot;quoted\\#quot; #35;tag#quot;, #quot;#96;x#96;#quot;, #quot;odd key#quot;=#quot;#amp;#quot;)"]',
    );
  });

  it('shows keyword arguments and cuts long argument lists', () => {
    const graph: CompiledGraph = {
      ...smallChain,
      nodes: [node('$.0', 'add', [1], { kwargs: { z: 2 } }), node('$.1', 'big', [Array.from({ length: 50 }, (_, i) => i)])],
      edges: [],
    };
    const lines = toMermaid(graph).split('\n');
    expect(lines[1]).toBe('  n_0["add(1, z=2)"]');
    expect(lines[2]).toBe(`  n_1["big(${JSON.stringify(Array.from({ length: 50 }, (_, i) => i)).slice(0, 57)}...)"]`);
  });

  it('gives distinct ids to keys that sanitise alike', () => {
    const graph: CompiledGraph = { ...smallChain, nodes: [node('$.a.b', 'x', []), node('$.a_b', 'y', [])], edges: [edge('$.a.b', '$.a_b')] };
    const text = toMermaid(graph);
    expect(text).toContain('n_a_b["x()"]');
    expect(text).toContain('n_a_b_2["y()"]');
    expect(text).toContain('n_a_b --> n_a_b_2');
  });

  it('nests a group whose result is a member of another group, with the rest of that member', () => {
    // group(chain(a, group(b, c)), d): the inner group's result is a member of the outer one.
    const graph: CompiledGraph = {
      nodes: [
        node('$.0.0', 'a', []),
        node('$.0.1.0', 'b', [], { group: { key: '$.0.1', index: 0 }, after: ['$.0.0'], input: { node: '$.0.0' } }),
        node('$.0.1.1', 'c', [], { group: { key: '$.0.1', index: 1 }, after: ['$.0.0'], input: { node: '$.0.0' } }),
        node('$.1', 'd', [], { group: { key: '$', index: 1 } }),
      ],
      groups: [
        { key: '$.0.1', members: [{ node: '$.0.1.0' }, { node: '$.0.1.1' }], parent: { node: '$.0.0' } },
        { key: '$', members: [{ group: '$.0.1' }, { node: '$.1' }], parent: null },
      ],
      edges: [edge('$.0.0', '$.0.1.0'), edge('$.0.0', '$.0.1.1')],
      entries: ['$.0.0', '$.1'],
      result: { group: '$' },
    };
    const text = toMermaid(graph);
    expect(block(text, 'subgraph g["group $"]', 'end')).toStrictEqual([
      'n_0_0["a()"]',
      'n_1["d()"]',
      'subgraph g_0_1["group $.0.1"]',
      'n_0_1_0["b()"]',
      'n_0_1_1["c()"]',
    ]);
  });

  it('leaves out groups without members', () => {
    const graph: CompiledGraph = { ...smallChain, groups: [{ key: '$.h', members: [], parent: null }] };
    expect(toMermaid(graph)).not.toContain('subgraph');
  });

  it('rejects an edge to a node that is not in the graph', () => {
    const graph: CompiledGraph = { ...smallChain, edges: [edge('$.0', '$.9')] };
    expect(() => toMermaid(graph)).toThrow(CanvasError);
    expect(() => toMermaid(graph)).toThrow('edges[0].to: unknown node key "$.9"');
  });
});

describe('rendering a compiled canvas', () => {
  const sig = (task: string, args: Json[], immutable = false): Signature => ({ kind: 'signature', task, args, kwargs: {}, options: {}, immutable });
  // chord([add(1, 1), add.si(2, 2), chain(add(3, 3), mul(2))], tsum()) with an error callback.
  const chord: Canvas = {
    kind: 'chord',
    header: [sig('add', [1, 1]), sig('add', [2, 2], true), { kind: 'chain', tasks: [sig('add', [3, 3]), sig('mul', [2])], options: {} }],
    body: sig('tsum', []),
    options: { linkError: [sig('log_error', [], true)] },
  };

  it('draws a box for every node and an arrow for every edge compile() produces', () => {
    const graph = compile(chord);
    const mermaid = toMermaid(chord);
    const dot = toDot(chord);
    expect(mermaid).toBe(toMermaid(graph));
    expect(dot).toBe(toDot(graph));
    const boxes = mermaid.split('\n').filter((l) => /^\s+n\w*\["/.test(l));
    expect(boxes).toHaveLength(graph.nodes.length);
    const arrows = mermaid.split('\n').filter((l) => / (-->|-\.->|--x\|on failure\|) /.test(l));
    expect(arrows).toHaveLength(graph.edges.length);
    expect(dot.split('\n').filter((l) => l.includes(' -> '))).toHaveLength(graph.edges.length);
    for (const label of ['add(1, 1)', 'add.si(2, 2)', 'add(3, 3)', 'mul(2)', 'tsum()', 'log_error.si()']) {
      expect(mermaid).toContain(`["${label}"]`);
      expect(dot).toContain(`[label="${label}"`);
    }
  });

  it('puts the whole header, chains included, in one subgraph and the body outside it', () => {
    const mermaid = toMermaid(chord);
    const header = block(mermaid, 'subgraph ', 'end');
    expect(header.map((l) => l.replace(/^\w+/, ''))).toStrictEqual(['["add(1, 1)"]', '["add.si(2, 2)"]', '["add(3, 3)"]', '["mul(2)"]']);
    expect(mermaid.split('\n')).toContain('  n_b["tsum()"]');
  });
});

describe('toDot', () => {
  it('draws a small chain exactly: boxes, a solid edge and a dashed order-only edge', () => {
    expect(toDot(smallChain)).toBe(
      [
        'digraph canvas {',
        '  rankdir=LR;',
        '  node [shape=box];',
        '  n_0 [label="add(2, 2)"];',
        '  n_1 [label="add(4)"];',
        '  n_2 [label="add.si(8, 8)"];',
        '  n_0 -> n_1;',
        '  n_1 -> n_2 [style=dashed];',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('draws every node and edge of a chord, the header in a cluster', () => {
    const text = toDot(chordGraph);
    const lines = text.split('\n').map((l) => l.trim());
    for (const box of [
      'n_h_0 [label="add(1, 1)"];',
      'n_h_1 [label="add.si(2, 2)"];',
      'n_b [label="tsum()"];',
      'n_b_l0 [label="notify(\\"done\\")", style=rounded];',
      'n_b_e0 [label="log_error()", color="#c0392b", fontcolor="#c0392b"];',
    ]) {
      expect(lines).toContain(box);
    }
    for (const arrow of ['n_h_0 -> n_b;', 'n_h_1 -> n_b;', 'n_b -> n_b_l0;', 'n_b -> n_b_e0 [style=dotted, color="#c0392b", label="on failure"];']) {
      expect(lines).toContain(arrow);
    }
    expect(block(text, 'subgraph cluster_g_h {', '}')).toStrictEqual([
      'label="group $.h";',
      'style=dashed;',
      'n_h_0 [label="add(1, 1)"];',
      'n_h_1 [label="add.si(2, 2)"];',
    ]);
  });

  it('escapes backslashes, quotes and newlines in labels', () => {
    const graph: CompiledGraph = { ...smallChain, nodes: [node('$', 'a\\b\n"c"', [])], edges: [] };
    expect(toDot(graph).split('\n')[3]).toBe('  n [label="a\\\\b\\n\\"c\\"()"];');
  });

  it('names a group by its id when it has one', () => {
    const graph: CompiledGraph = { ...chordGraph, groups: [{ ...chordGraph.groups[0]!, taskId: 'g-42' }] };
    expect(toDot(graph)).toContain('label="group $.h (g-42)";');
  });
});
