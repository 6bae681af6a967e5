/**
 * Draws a compiled canvas as a Mermaid flowchart or a Graphviz DOT digraph: one box per task
 * invocation, one arrow per edge, one cluster per group. The drawing is built from the
 * `CompiledGraph` alone, so what you see is exactly what the runtime will execute.
 */
import { compile } from './compile.js';
import { CanvasError } from './errors.js';
import type { Canvas, CompiledGraph, GraphEdge, GraphGroup, GraphNode } from './types.js';

/** Longest argument text shown in a box before it is cut with `...`. */
const MAX_ARGS_TEXT = 60;
const ERRBACK_COLOR = '#c0392b';

/** The renderer-independent layout: ids, labels, and which box sits in which cluster. */
interface Layout {
  readonly nodes: readonly LaidNode[];
  /** Clusters that are not inside another cluster, in `graph.groups` order. */
  readonly roots: readonly Cluster[];
  /** Nodes outside every cluster, in `graph.nodes` order. */
  readonly loose: readonly LaidNode[];
  readonly edges: readonly { readonly from: string; readonly to: string; readonly carries: GraphEdge['carries'] }[];
}

interface LaidNode {
  readonly id: string;
  readonly label: string;
  readonly role: GraphNode['role'];
}

interface Cluster {
  readonly id: string;
  readonly label: string;
  readonly nodes: LaidNode[];
  readonly children: Cluster[];
}

/**
 * Renders a canvas or its compiled graph as a Mermaid flowchart (left to right).
 *
 * Boxes are labelled like a call: `add(2, 2)`, immutable signatures as `add.si(2, 2)`, keyword
 * arguments as `name=value`; long argument lists are cut. Solid arrows carry a result into the
 * next task, dotted arrows (`-.->`) only order it (an immutable task waits but receives nothing),
 * and arrows ending in a cross (`--x`, labelled "on failure") lead to error callbacks, which are
 * drawn in red; success callbacks have dashed borders. The members of each group (and of each
 * chord header) sit in a subgraph, with everything that belongs to a member (the earlier steps of
 * a chain, its callbacks); nested groups nest.
 *
 * @param input - A canvas (compiled first with `compile`) or a `CompiledGraph`.
 * @returns Mermaid source, starting with `flowchart LR` and ending with a newline.
 * @throws {@link CanvasError} when the graph has an edge or group member naming an unknown node.
 * @example
 * ```ts
 * toMermaid(chain(add.s(2, 2), add.s(4)));
 * // flowchart LR
 * //   n_0["add(2, 2)"]
 * //   n_1["add(4)"]
 * //   n_0 --> n_1
 * ```
 */
export function toMermaid(input: Canvas | CompiledGraph): string {
  const layout = lay(input);
  const lines = ['flowchart LR'];
  for (const node of layout.loose) lines.push(`  ${mermaidNode(node)}`);
  const cluster = (c: Cluster, indent: string): void => {
    lines.push(`${indent}subgraph ${c.id}["${mermaidText(c.label)}"]`);
    for (const node of c.nodes) lines.push(`${indent}  ${mermaidNode(node)}`);
    for (const child of c.children) cluster(child, `${indent}  `);
    lines.push(`${indent}end`);
  };
  for (const c of layout.roots) cluster(c, '  ');
  for (const edge of layout.edges) {
    const arrow = edge.carries === 'result' ? '-->' : edge.carries === 'order' ? '-.->' : '--x|on failure|';
    lines.push(`  ${edge.from} ${arrow} ${edge.to}`);
  }
  const callbacks = layout.nodes.filter((n) => n.role === 'callback').map((n) => n.id);
  const errbacks = layout.nodes.filter((n) => n.role === 'errback').map((n) => n.id);
  if (callbacks.length > 0) {
    lines.push('  classDef callback stroke-dasharray: 4 3');
    lines.push(`  class ${callbacks.join(',')} callback`);
  }
  if (errbacks.length > 0) {
    lines.push(`  classDef errback stroke:${ERRBACK_COLOR},color:${ERRBACK_COLOR}`);
    lines.push(`  class ${errbacks.join(',')} errback`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Renders a canvas or its compiled graph as a Graphviz DOT digraph (left to right).
 *
 * Same drawing as {@link toMermaid}: boxes labelled `add(2, 2)` / `add.si(2, 2)`, solid edges for
 * results, dashed edges for order only, red dotted edges labelled "on failure" into red error
 * callbacks, rounded boxes for success callbacks, and one `cluster_…` subgraph per group.
 *
 * @param input - A canvas (compiled first with `compile`) or a `CompiledGraph`.
 * @returns DOT source, `digraph canvas { … }` followed by a newline.
 * @throws {@link CanvasError} when the graph has an edge or group member naming an unknown node.
 * @example
 * ```ts
 * writeFileSync('flow.dot', toDot(chord([add.s(1, 1), add.s(2, 2)], tsum.s())));
 * // then: dot -Tsvg flow.dot > flow.svg
 * ```
 */
export function toDot(input: Canvas | CompiledGraph): string {
  const layout = lay(input);
  const lines = ['digraph canvas {', '  rankdir=LR;', '  node [shape=box];'];
  for (const node of layout.loose) lines.push(`  ${dotNode(node)}`);
  const cluster = (c: Cluster, indent: string): void => {
    lines.push(`${indent}subgraph cluster_${c.id} {`);
    lines.push(`${indent}  label="${dotText(c.label)}";`);
    lines.push(`${indent}  style=dashed;`);
    for (const node of c.nodes) lines.push(`${indent}  ${dotNode(node)}`);
    for (const child of c.children) cluster(child, `${indent}  `);
    lines.push(`${indent}}`);
  };
  for (const c of layout.roots) cluster(c, '  ');
  for (const edge of layout.edges) {
    const style =
      edge.carries === 'result'
        ? ''
        : edge.carries === 'order'
          ? ' [style=dashed]'
          : ` [style=dotted, color="${ERRBACK_COLOR}", label="on failure"]`;
    lines.push(`  ${edge.from} -> ${edge.to}${style};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function lay(input: Canvas | CompiledGraph): Layout {
  const graph = 'kind' in input ? compile(input) : input;
  const ids = new Ids();
  const byKey = new Map<string, LaidNode>();
  const nodes = graph.nodes.map((node) => {
    const laid: LaidNode = { id: ids.make('n', node.key), label: label(node), role: node.role };
    byKey.set(node.key, laid);
    return laid;
  });

  const clusters = new Map<string, Cluster>();
  for (const group of graph.groups) {
    if (!clusters.has(group.key)) {
      clusters.set(group.key, { id: ids.make('g', group.key), label: groupLabel(group), nodes: [], children: [] });
    }
  }
  // Each node and each nested group goes into the first group listing it as a member, else the
  // group the node says it belongs to (`node.group`), else the innermost group whose key is a
  // prefix of its key: keys are paths, so the first steps of a chain that is a group member, or
  // the callbacks of a member, are drawn inside the group with the member.
  const home = new Map<string, string>();
  const parentOf = new Map<string, string>();
  graph.groups.forEach((group, g) => {
    group.members.forEach((member, m) => {
      if ('node' in member) {
        if (!byKey.has(member.node)) {
          throw new CanvasError(`groups[${g}].members[${m}].node`, `unknown node key ${JSON.stringify(member.node)}`);
        }
        if (!home.has(member.node)) home.set(member.node, group.key);
      } else if (
        clusters.has(member.group) &&
        !parentOf.has(member.group) &&
        !isAncestor(member.group, group.key, parentOf)
      ) {
        parentOf.set(member.group, group.key);
      }
    });
  });
  for (const key of clusters.keys()) {
    if (parentOf.has(key)) continue;
    const enclosing = enclosingGroup(key, clusters);
    if (enclosing !== undefined && !isAncestor(key, enclosing, parentOf)) parentOf.set(key, enclosing);
  }
  const loose: LaidNode[] = [];
  graph.nodes.forEach((node, i) => {
    const key =
      home.get(node.key) ??
      (node.group !== null && clusters.has(node.group.key) ? node.group.key : enclosingGroup(node.key, clusters));
    const laid = nodes[i]!;
    if (key === undefined) loose.push(laid);
    else clusters.get(key)!.nodes.push(laid);
  });
  const roots: Cluster[] = [];
  for (const [key, cluster] of clusters) {
    const parent = parentOf.get(key);
    if (parent === undefined) roots.push(cluster);
    else clusters.get(parent)!.children.push(cluster);
  }

  const edges = graph.edges.map((edge, i) => {
    const end = (field: 'from' | 'to'): string => {
      const laid = byKey.get(edge[field]);
      if (laid === undefined) throw new CanvasError(`edges[${i}].${field}`, `unknown node key ${JSON.stringify(edge[field])}`);
      return laid.id;
    };
    return { from: end('from'), to: end('to'), carries: edge.carries };
  });
  return { nodes, roots: roots.filter(nonEmpty), loose, edges };
}

function nonEmpty(cluster: Cluster): boolean {
  const kept = cluster.children.filter(nonEmpty);
  cluster.children.splice(0, cluster.children.length, ...kept);
  return cluster.nodes.length > 0 || kept.length > 0;
}

/** The innermost group whose key is a proper path prefix of `key` (`$.h` for `$.h.2.0`). */
function enclosingGroup(key: string, clusters: ReadonlyMap<string, Cluster>): string | undefined {
  for (let end = key.lastIndexOf('.'); end > 0; end = key.lastIndexOf('.', end - 1)) {
    const prefix = key.slice(0, end);
    if (clusters.has(prefix)) return prefix;
  }
  return undefined;
}

/** True when `candidate` is `key` or one of the clusters enclosing it. */
function isAncestor(candidate: string, key: string, parentOf: ReadonlyMap<string, string>): boolean {
  for (let k: string | undefined = key; k !== undefined; k = parentOf.get(k)) {
    if (k === candidate) return true;
  }
  return false;
}

/** Readable, unique identifiers: `$.1.h0` becomes `n_1_h0`; a clash gets a numeric suffix. */
class Ids {
  private readonly used = new Set<string>();

  make(prefix: string, key: string): string {
    const body = key.replace(/^\$/, '').replace(/[^A-Za-z0-9]+/g, '_');
    const base = body === '' ? prefix : body.startsWith('_') ? `${prefix}${body}` : `${prefix}_${body}`;
    let id = base;
    for (let i = 2; this.used.has(id); i++) id = `${base}_${i}`;
    this.used.add(id);
    return id;
  }
}

function label(node: GraphNode): string {
  const parts = node.args.map((arg) => JSON.stringify(arg));
  for (const [name, value] of Object.entries(node.kwargs)) {
    parts.push(`${/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)}=${JSON.stringify(value)}`);
  }
  let text = parts.join(', ');
  if (text.length > MAX_ARGS_TEXT) text = `${text.slice(0, MAX_ARGS_TEXT - 3)}...`;
  return `${node.task}${node.immutable ? '.si' : ''}(${text})`;
}

function groupLabel(group: GraphGroup): string {
  return group.taskId === undefined ? `group ${group.key}` : `group ${group.key} (${group.taskId})`;
}

function mermaidNode(node: LaidNode): string {
  return `${node.id}["${mermaidText(node.label)}"]`;
}

/** Escapes text inside a quoted Mermaid label with its `#code;` entities. */
function mermaidText(text: string): string {
  return text
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/&/g, '#amp;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/`/g, '#96;')
    .replace(/[\r\n]+/g, ' ');
}

function dotNode(node: LaidNode): string {
  const attributes = [`label="${dotText(node.label)}"`];
  if (node.role === 'callback') attributes.push('style=rounded');
  if (node.role === 'errback') attributes.push(`color="${ERRBACK_COLOR}"`, `fontcolor="${ERRBACK_COLOR}"`);
  return `${node.id} [${attributes.join(', ')}];`;
}

/** Escapes text inside a double-quoted DOT string. */
function dotText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n|\r/g, '\\n');
}
