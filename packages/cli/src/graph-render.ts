/**
 * A workflow's graph as text, Mermaid or Graphviz DOT — from a running workflow (each node with
 * its state and value) or from a canvas file (its shape only). `result --tree` and `graph` print it.
 */
import type { CompiledGraph } from '@celeriac/canvas';
import type { WorkflowSnapshot } from '@celeriac/runtime';
import type { GraphFormat } from './command-names.js';

/** One task of the graph. */
export interface GraphNodeView {
  readonly id: string;
  readonly task: string;
  readonly state?: string;
  /** A short value or error, when it ended. */
  readonly detail?: string;
  /** The group (or chord header) it belongs to. */
  readonly group?: string;
  readonly role: 'task' | 'callback' | 'errback';
}

/** A graph ready to print. */
export interface GraphView {
  readonly title: string;
  readonly nodes: readonly GraphNodeView[];
  readonly edges: readonly { readonly from: string; readonly to: string; readonly carries: 'result' | 'order' | 'failure' }[];
  /** Groups by id, with their progress when known. */
  readonly groups: readonly { readonly id: string; readonly progress?: string }[];
  /** Nodes left out (a huge workflow is listed up to a limit). */
  readonly omitted: number;
}


/** A stored workflow as a graph view. */
export function fromSnapshot(snapshot: WorkflowSnapshot): GraphView {
  return {
    title: `workflow ${snapshot.id}: ${snapshot.state}, ${snapshot.size} ${snapshot.size === 1 ? 'task' : 'tasks'}`,
    nodes: snapshot.nodes.map((node) => ({
      id: node.id,
      task: node.task,
      state: node.state,
      role: node.role,
      ...(node.result !== undefined ? { detail: node.result } : node.error !== undefined ? { detail: `${node.error.name}: ${node.error.message}` } : {}),
      ...(node.group === null ? {} : { group: node.group.id }),
    })),
    edges: snapshot.edges,
    groups: snapshot.groups.map((group) => ({ id: group.id, progress: `${group.succeeded}/${group.size} succeeded${group.failed > 0 ? `, ${group.failed} failed` : ''}` })),
    omitted: snapshot.size - snapshot.nodes.length,
  };
}

/** A canvas compiled to a graph, as a graph view (node ids are the graph's keys). */
export function fromCompiled(graph: CompiledGraph, title: string): GraphView {
  return {
    title,
    nodes: graph.nodes.map((node) => ({ id: node.key, task: node.task, role: node.role, ...(node.group === null ? {} : { group: node.group.key }) })),
    edges: graph.edges,
    groups: graph.groups.map((group) => ({ id: group.key })),
    omitted: 0,
  };
}

/** Renders the view in `format`. */
export function renderGraph(view: GraphView, format: GraphFormat): string {
  switch (format) {
    case 'text':
      return renderText(view);
    case 'mermaid':
      return renderMermaid(view);
    case 'dot':
      return renderDot(view);
  }
}

/** `task[id] STATE value`, one node a line, indented by its depth; members under their group's line. */
function renderText(view: GraphView): string {
  const depth = depths(view);
  const lines = [view.title];
  const groupLine = new Map(view.groups.map((group) => [group.id, group.progress]));
  const shown = new Set<string>();
  for (const node of view.nodes) {
    const pad = '  '.repeat((depth.get(node.id) ?? 0) + 1);
    if (node.group !== undefined && !shown.has(node.group)) {
      shown.add(node.group);
      const progress = groupLine.get(node.group);
      lines.push(`${pad}group ${node.group}${progress === undefined ? '' : `: ${progress}`}`);
    }
    const from = view.edges.filter((edge) => edge.to === node.id).map((edge) => short(edge.from));
    const role = node.role === 'task' ? '' : ` (${node.role === 'callback' ? 'link' : 'link_error'})`;
    const after = from.length === 0 ? '' : ` <- ${from.join(', ')}`;
    const state = node.state === undefined ? '' : ` ${node.state}`;
    const detail = node.detail === undefined ? '' : ` ${oneLine(node.detail, 80)}`;
    lines.push(`${pad}${node.group === undefined ? '' : '| '}${node.task}[${node.id}]${role}${state}${detail}${after}`);
  }
  if (view.omitted > 0) lines.push(`  … ${view.omitted} more tasks not listed`);
  return `${lines.join('\n')}\n`;
}

const STATE_COLOURS: Readonly<Record<string, string>> = {
  SUCCESS: '#b7e4c7',
  FAILURE: '#f4a3a3',
  REVOKED: '#d9d9d9',
  RETRY: '#ffe08a',
  STARTED: '#a9d6f5',
  PENDING: '#ffffff',
};

/** A Mermaid flowchart; groups as subgraphs, nodes coloured by state. */
function renderMermaid(view: GraphView): string {
  const ids = new Map(view.nodes.map((node, i) => [node.id, `n${i}`]));
  const lines = ['flowchart LR'];
  const label = (node: GraphNodeView): string => `${ids.get(node.id)!}["${mermaidText(node.task)}${node.state === undefined ? '' : `<br/>${node.state}`}"]`;
  const byGroup = groupMembers(view);
  for (const [i, group] of view.groups.entries()) {
    const members = byGroup.get(group.id) ?? [];
    if (members.length === 0) continue;
    lines.push(`  subgraph g${i}["group${group.progress === undefined ? '' : ` ${mermaidText(group.progress)}`}"]`);
    for (const node of members) lines.push(`    ${label(node)}`);
    lines.push('  end');
  }
  for (const node of view.nodes) if (node.group === undefined) lines.push(`  ${label(node)}`);
  for (const edge of view.edges) {
    const from = ids.get(edge.from);
    const to = ids.get(edge.to);
    if (from === undefined || to === undefined) continue;
    lines.push(`  ${from} ${edge.carries === 'result' ? '-->' : edge.carries === 'order' ? '-.->' : '-. error .->'} ${to}`);
  }
  for (const [state, colour] of Object.entries(STATE_COLOURS)) {
    const members = view.nodes.filter((node) => node.state === state).map((node) => ids.get(node.id)!);
    if (members.length > 0) lines.push(`  classDef ${state.toLowerCase()} fill:${colour}`, `  class ${members.join(',')} ${state.toLowerCase()}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A Graphviz digraph; groups as clusters, nodes filled by state. */
function renderDot(view: GraphView): string {
  const ids = new Map(view.nodes.map((node, i) => [node.id, `n${i}`]));
  const lines = ['digraph workflow {', '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fillcolor="#ffffff"];'];
  const node = (n: GraphNodeView): string =>
    `${ids.get(n.id)!} [label=${dotText(`${n.task}${n.state === undefined ? '' : `\n${n.state}`}`)}${n.state === undefined ? '' : `, fillcolor="${STATE_COLOURS[n.state] ?? '#ffffff'}"`}];`;
  const byGroup = groupMembers(view);
  for (const [i, group] of view.groups.entries()) {
    const members = byGroup.get(group.id) ?? [];
    if (members.length === 0) continue;
    lines.push(`  subgraph cluster_${i} {`, `    label=${dotText(`group${group.progress === undefined ? '' : ` ${group.progress}`}`)};`);
    for (const member of members) lines.push(`    ${node(member)}`);
    lines.push('  }');
  }
  for (const n of view.nodes) if (n.group === undefined) lines.push(`  ${node(n)}`);
  for (const edge of view.edges) {
    const from = ids.get(edge.from);
    const to = ids.get(edge.to);
    if (from === undefined || to === undefined) continue;
    lines.push(`  ${from} -> ${to}${edge.carries === 'result' ? '' : edge.carries === 'order' ? ' [style=dashed]' : ' [style=dashed, color=red, label="error"]'};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function groupMembers(view: GraphView): Map<string, GraphNodeView[]> {
  const members = new Map<string, GraphNodeView[]>();
  for (const node of view.nodes) {
    if (node.group === undefined) continue;
    members.set(node.group, [...(members.get(node.group) ?? []), node]);
  }
  return members;
}

/** Each node's longest distance from an entry node (edges into it counted). */
function depths(view: GraphView): Map<string, number> {
  const depth = new Map<string, number>();
  const incoming = new Map<string, string[]>();
  for (const edge of view.edges) incoming.set(edge.to, [...(incoming.get(edge.to) ?? []), edge.from]);
  const visit = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (seen.has(id)) return 0;
    seen.add(id);
    const d = Math.max(-1, ...(incoming.get(id) ?? []).map((from) => visit(from, seen))) + 1;
    depth.set(id, d);
    return d;
  };
  for (const node of view.nodes) visit(node.id, new Set());
  return depth;
}

/** An id with its UUID cut to the first 8 characters (`b97043b9.0`), or a key as it is. */
function short(id: string): string {
  return id.replace(/^([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i, '$1');
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function mermaidText(text: string): string {
  return text.replace(/["<>]/g, (c) => ({ '"': '#quot;', '<': '#lt;', '>': '#gt;' })[c]!);
}

function dotText(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
