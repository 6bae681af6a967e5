import { chain, compile, group, signature } from '@celeriac/canvas';
import { describe, expect, it } from 'vitest';
import { fromCompiled, renderGraph, type GraphView } from './graph-render.js';

const canvas = chain(signature('fetch', ['a']), group(signature('parse'), signature('index')), signature('report'));
const compiled = fromCompiled(compile(canvas), 'canvas');

describe('renderGraph', () => {
  it('text: one task a line, indented by depth, with what each waits on (group then task is a chord)', () => {
    expect(renderGraph(compiled, 'text')).toBe(
      ['canvas', '  fetch[$.0]', '    group $.1.h', '    | parse[$.1.h.0] <- $.0', '    | index[$.1.h.1] <- $.0', '      report[$.1.b] <- $.1.h.0, $.1.h.1', ''].join('\n'),
    );
  });

  it('mermaid: groups as subgraphs, result edges solid', () => {
    const text = renderGraph(compiled, 'mermaid');
    expect(text).toMatch(/^flowchart LR\n {2}subgraph g0\["group"\]\n {4}n1\["parse"\]\n {4}n2\["index"\]\n {2}end\n/);
    expect(text).toContain('  n0 --> n1\n');
    expect(text).toContain('  n2 --> n3\n');
  });

  it('dot: groups as clusters, nodes filled by state, text escaped', () => {
    const view: GraphView = {
      title: 't',
      nodes: [
        { id: 'a', task: 'say "hi"', state: 'SUCCESS', role: 'task' },
        { id: 'b', task: 'next', state: 'PENDING', role: 'task', group: 'g' },
      ],
      edges: [{ from: 'a', to: 'b', carries: 'order' }],
      groups: [{ id: 'g', progress: '0/1 succeeded' }],
      omitted: 0,
    };
    const text = renderGraph(view, 'dot');
    expect(text).toContain('n0 [label="say \\"hi\\"\\nSUCCESS", fillcolor="#b7e4c7"];');
    expect(text).toContain('subgraph cluster_0 {\n    label="group 0/1 succeeded";');
    expect(text).toContain('n0 -> n1 [style=dashed];');
  });
});
