import type { WorkflowEdge, WorkflowGroup, WorkflowNode, WorkflowSnapshot } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { clustersOf, layoutWorkflow, MAX_MEMBERS } from './graph-layout.js';

function node(index: number, extra: Partial<WorkflowNode> = {}): WorkflowNode {
  return {
    index, id: `wf.${index}`, task: 'add', role: 'task', state: 'PENDING', queue: 'default', args: [], kwargs: {}, options: {},
    parent: null, children: [], group: null, waitingOn: [], ...extra,
  };
}
function snapshot(nodes: WorkflowNode[], edges: WorkflowEdge[], groups: WorkflowGroup[]): WorkflowSnapshot {
  return { id: 'wf', rootId: 'wf.0', createdAt: 0, result: nodes.at(-1)!.id, state: 'PENDING', size: nodes.length, nodes, edges, groups, truncated: false };
}
const inside = (outer: { x: number; y: number; width: number; height: number }, inner: { x: number; y: number; width: number; height: number }): boolean =>
  inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

/** first → chord(header: [chain(1 → 2), 3, group(4, 5)], body 6) */
function chordWithChainAndNestedGroup(): WorkflowSnapshot {
  const nodes = [
    node(0, { children: ['wf.1', 'wf.3', 'wf.4', 'wf.5'] }),
    node(1, { children: ['wf.2'] }),
    node(2, { parent: 'wf.1', group: { id: 'wf.g0', index: 0 }, children: ['wf.6'] }),
    node(3, { group: { id: 'wf.g0', index: 1 }, children: ['wf.6'] }),
    node(4, { group: { id: 'wf.g1', index: 0 }, children: ['wf.6'] }),
    node(5, { group: { id: 'wf.g1', index: 1 }, children: ['wf.6'] }),
    node(6, { task: 'tsum', parent: 'wf.g0' }),
  ];
  const edges: WorkflowEdge[] = [
    ...['wf.1', 'wf.3', 'wf.4', 'wf.5'].map((to) => ({ from: 'wf.0', to, carries: 'result' as const })),
    { from: 'wf.1', to: 'wf.2', carries: 'result' },
    ...['wf.2', 'wf.3', 'wf.4', 'wf.5'].map((from) => ({ from, to: 'wf.6', carries: 'result' as const })),
  ];
  const groups: WorkflowGroup[] = [
    { id: 'wf.g0', members: ['wf.2', 'wf.3', 'wf.g1'], parent: 'wf.0', size: 4, succeeded: 0, failed: 0 },
    { id: 'wf.g1', members: ['wf.4', 'wf.5'], parent: null, size: 2, succeeded: 0, failed: 0 },
  ];
  return snapshot(nodes, edges, groups);
}

describe('clustersOf', () => {
  it("puts a chain member's earlier steps in its group, and a nested group inside its group", () => {
    const clusters = clustersOf(chordWithChainAndNestedGroup());
    expect(Object.fromEntries(clusters)).toEqual({ 'wf.1': 'wf.g0', 'wf.2': 'wf.g0', 'wf.3': 'wf.g0', 'wf.g1': 'wf.g0', 'wf.4': 'wf.g1', 'wf.5': 'wf.g1' });
  });
});

describe('layoutWorkflow', () => {
  it('lays out boxes inside their clusters, nested clusters inside theirs, and routes every edge', async () => {
    const drawing = await layoutWorkflow(chordWithChainAndNestedGroup());
    expect(drawing.nodes).toHaveLength(7);
    const box = (id: string) => drawing.nodes.find((n) => n.id === id)!;
    const cluster = (id: string) => drawing.clusters.find((c) => c.id === id)!;
    expect(cluster('wf.g0').depth).toBe(0);
    expect(cluster('wf.g1').depth).toBe(1);
    for (const id of ['wf.1', 'wf.2', 'wf.3']) expect(inside(cluster('wf.g0'), box(id)), id).toBe(true);
    for (const id of ['wf.4', 'wf.5']) expect(inside(cluster('wf.g1'), box(id)), id).toBe(true);
    expect(inside(cluster('wf.g0'), cluster('wf.g1'))).toBe(true);
    expect(inside(cluster('wf.g0'), box('wf.0'))).toBe(false);
    // Left to right: the first task, then the header, then the body.
    expect(box('wf.0').x).toBeLessThan(cluster('wf.g0').x);
    expect(box('wf.6').x).toBeGreaterThan(cluster('wf.g0').x + cluster('wf.g0').width - 1);
    expect(drawing.edges).toHaveLength(9);
    for (const edge of drawing.edges) expect(edge.points.length, `${edge.from}→${edge.to}`).toBeGreaterThanOrEqual(2);
    // No two boxes overlap.
    for (const a of drawing.nodes) for (const b of drawing.nodes) {
      if (a === b) continue;
      const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      expect(apart, `${a.id} / ${b.id}`).toBe(true);
    }
  });

  it('folds the members of a big group into one "+N more" box that stands for them', async () => {
    const size = 500;
    const members = Array.from({ length: size }, (_, i) => node(i + 1, { group: { id: 'wf.g0', index: i }, children: [`wf.${size + 1}`] }));
    const body = node(size + 1, { task: 'tsum', parent: 'wf.g0' });
    const edges = members.map((m) => ({ from: m.id, to: body.id, carries: 'result' as const }));
    const group: WorkflowGroup = { id: 'wf.g0', members: members.map((m) => m.id), parent: null, size, succeeded: 0, failed: 0 };
    const drawing = await layoutWorkflow(snapshot([node(0), ...members, body], edges, [group]));
    const more = drawing.nodes.find((n) => n.kind === 'more')!;
    expect(more.id).toBe('more:wf.g0');
    expect(more.hidden).toHaveLength(size - (MAX_MEMBERS - 1));
    expect(drawing.nodes).toHaveLength(1 + (MAX_MEMBERS - 1) + 1 + 1);
    expect(drawing.edges.filter((e) => e.from === more.id)).toHaveLength(1);
  });
});
