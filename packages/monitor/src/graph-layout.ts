/**
 * Lays out a workflow's graph for the workflow page: tasks as boxes, groups and chord headers as
 * clusters (nested as the canvas nests them), edges routed around them. The layout itself is
 * ELK's layered algorithm (elkjs), which handles clusters and edges between them; this module
 * decides what goes in which cluster and keeps big workflows readable and quick to lay out.
 *
 * - **Clusters.** A group's cluster holds its members; a member that is a chain brings its earlier
 *   steps along (found by walking `.parent` links back from the member, stopping at the group's own
 *   parent); a member that is a group is a cluster inside it.
 * - **Size.** A group shows at most {@link MAX_MEMBERS} members; the rest become one "+N more" box
 *   (its progress still counts them all). At most {@link MAX_DRAWN} boxes are drawn. ELK's time
 *   grows quickly with size (about 50 ms for 30 boxes, 250 ms for 100, seconds beyond), and the
 *   layout runs on the server's thread, so it is capped and cached: a workflow's shape never
 *   changes, only its states, which the page colours live.
 */
import elkModule from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkLayouter, ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { WorkflowEdge, WorkflowSnapshot } from '@celeriac/runtime';

/** Members a group shows before the rest are folded into one box. */
export const MAX_MEMBERS = 12;
/** Boxes drawn at most. */
export const MAX_DRAWN = 250;

/** A box: a task, or the "+N more" of a group. */
export interface DrawnNode {
  /** The task id, or `more:<group id>`. */
  readonly id: string;
  readonly kind: 'task' | 'more';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** For `more`: the task ids it stands for. */
  readonly hidden: readonly string[];
}

/** A group's frame. */
export interface DrawnCluster {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  /** Nesting depth, 0 for a top-level group. */
  readonly depth: number;
}

/** An edge as a polyline. */
export interface DrawnEdge {
  readonly from: string;
  readonly to: string;
  readonly carries: WorkflowEdge['carries'];
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

/** A laid-out workflow. */
export interface Drawing {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly DrawnNode[];
  readonly clusters: readonly DrawnCluster[];
  readonly edges: readonly DrawnEdge[];
  /** Tasks of the snapshot not drawn because of {@link MAX_DRAWN}. */
  readonly omitted: number;
  /** Milliseconds ELK took. */
  readonly layoutMs: number;
}

export const NODE_HEIGHT = 46;
const CLUSTER_LABEL = 26;

// elkjs is CommonJS (module.exports = the class, with .default = the class too); its types say
// `export default`, which TypeScript reads as the namespace under NodeNext. Either shape works here.
type ElkClass = new () => ElkLayouter;
const ElkConstructor = ((elkModule as unknown as { default?: ElkClass }).default ?? elkModule) as unknown as ElkClass;
const elk = new ElkConstructor();

const ROOT_OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT',
  'elk.edgeRouting': 'ORTHOGONAL',
  'elk.layered.spacing.nodeNodeBetweenLayers': '48',
  'elk.spacing.nodeNode': '14',
  'elk.layered.thoroughness': '4',
  // Keep the canvas's order (a group's members top to bottom) where crossings allow.
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.padding': '[top=16,left=16,bottom=16,right=16]',
};
const CLUSTER_OPTIONS = { 'elk.padding': `[top=${CLUSTER_LABEL + 10},left=12,bottom=12,right=12]` };

/**
 * Which cluster each task and group sits in directly (see the module comment).
 *
 * @param snapshot - the workflow
 * @returns task or group id → the id of the group whose cluster holds it
 */
export function clustersOf(snapshot: WorkflowSnapshot): Map<string, string> {
  const parentOf = new Map<string, string | null>();
  for (const node of snapshot.nodes) parentOf.set(node.id, node.parent);
  for (const group of snapshot.groups) parentOf.set(group.id, group.parent);
  const inside = new Map<string, string>();
  for (const group of snapshot.groups) {
    for (const member of group.members) {
      if (member === group.id) continue;
      inside.set(member, group.id);
      let step = parentOf.get(member) ?? null;
      const seen = new Set<string>([group.id, member]);
      while (step !== null && step !== group.parent && !seen.has(step) && !inside.has(step) && parentOf.has(step)) {
        seen.add(step);
        inside.set(step, group.id);
        step = parentOf.get(step) ?? null;
      }
    }
  }
  return inside;
}

/** Box width for a task name: room for the name at about 7.4 px a character, within bounds. */
export function nodeWidth(task: string): number {
  return Math.round(Math.min(260, Math.max(120, task.length * 7.4 + 28)));
}

/**
 * Lays out a workflow.
 *
 * @param snapshot - the workflow, as `app.workflow(id)` reads it
 * @returns boxes, clusters and edges with coordinates
 */
export async function layoutWorkflow(snapshot: WorkflowSnapshot): Promise<Drawing> {
  const inside = clustersOf(snapshot);
  const groupIds = new Set(snapshot.groups.map((group) => group.id));

  // Fold the members of big groups into a "+N more" box each.
  const standIn = new Map<string, string>();
  const hiddenBy = new Map<string, string[]>();
  for (const group of snapshot.groups) {
    const taskMembers = group.members.filter((member) => !groupIds.has(member));
    if (taskMembers.length <= MAX_MEMBERS) continue;
    const more = `more:${group.id}`;
    const hidden = new Set(taskMembers.slice(MAX_MEMBERS - 1));
    // A hidden member's earlier chain steps (in the same cluster) go with it.
    for (let grew = true; grew; ) {
      grew = false;
      for (const node of snapshot.nodes) {
        if (hidden.has(node.id) || inside.get(node.id) !== group.id || group.members.includes(node.id)) continue;
        if (node.children.some((child) => hidden.has(child))) {
          hidden.add(node.id);
          grew = true;
        }
      }
    }
    for (const id of hidden) standIn.set(id, more);
    hiddenBy.set(more, [...hidden]);
    inside.set(more, group.id);
  }

  const drawnIds: string[] = [];
  const seenMore = new Set<string>();
  for (const node of snapshot.nodes) {
    const id = standIn.get(node.id) ?? node.id;
    if (id !== node.id) {
      if (seenMore.has(id)) continue;
      seenMore.add(id);
    }
    drawnIds.push(id);
  }
  const drawn = new Set(drawnIds.slice(0, MAX_DRAWN));
  const omitted = snapshot.nodes.filter((node) => !drawn.has(standIn.get(node.id) ?? node.id)).length;
  const taskOf = new Map(snapshot.nodes.map((node) => [node.id, node.task]));

  // ELK's graph: clusters nest as `inside` says; a cluster with nothing drawn in it is left out.
  const elkNodes = new Map<string, ElkNode>();
  for (const id of drawn) {
    const width = id.startsWith('more:') ? 130 : nodeWidth(taskOf.get(id) ?? '');
    elkNodes.set(id, { id, width, height: NODE_HEIGHT });
  }
  const clusterNodes = new Map<string, ElkNode>();
  const clusterFor = (groupId: string): ElkNode => {
    let cluster = clusterNodes.get(groupId);
    if (cluster === undefined) {
      cluster = { id: groupId, layoutOptions: CLUSTER_OPTIONS, children: [] };
      clusterNodes.set(groupId, cluster);
    }
    return cluster;
  };
  const root: ElkNode = { id: '__root__', layoutOptions: ROOT_OPTIONS, children: [], edges: [] };
  const attached = new Set<string>();
  const attach = (id: string, node: ElkNode): void => {
    if (attached.has(id)) return;
    attached.add(id);
    const container = inside.get(id);
    // A cluster inside itself, or in a cycle of clusters, goes to the root instead.
    const parent = container !== undefined && groupIds.has(container) && !nestsIn(container, id, inside) ? clusterFor(container) : root;
    parent.children!.push(node);
    if (parent !== root) attach(parent.id, parent);
  };
  for (const [id, node] of elkNodes) attach(id, node);

  const edgeKeys = new Set<string>();
  const edges: { from: string; to: string; carries: WorkflowEdge['carries'] }[] = [];
  for (const edge of snapshot.edges) {
    const from = standIn.get(edge.from) ?? edge.from;
    const to = standIn.get(edge.to) ?? edge.to;
    if (from === to || !drawn.has(from) || !drawn.has(to)) continue;
    const key = `${from}\u0000${to}`;
    if (edgeKeys.has(key)) continue;
    edgeKeys.add(key);
    edges.push({ from, to, carries: edge.carries });
  }
  root.edges = edges.map((edge, i): ElkExtendedEdge => ({ id: `e${i}`, sources: [edge.from], targets: [edge.to] }));

  const started = performance.now();
  const laid = await elk.layout(root);
  const layoutMs = performance.now() - started;

  const nodes: DrawnNode[] = [];
  const clusters: DrawnCluster[] = [];
  const visit = (node: ElkNode, depth: number): void => {
    for (const child of node.children ?? []) {
      const box = { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 };
      if (clusterNodes.has(child.id)) {
        clusters.push({ id: child.id, ...box, depth });
        visit(child, depth + 1);
      } else {
        nodes.push({ id: child.id, kind: child.id.startsWith('more:') ? 'more' : 'task', ...box, hidden: hiddenBy.get(child.id) ?? [] });
      }
    }
  };
  visit(laid, 0);
  const laidEdges = new Map((laid.edges ?? []).map((edge) => [edge.id, edge]));
  return {
    width: Math.ceil(laid.width ?? 0),
    height: Math.ceil(laid.height ?? 0),
    nodes,
    clusters,
    edges: edges.map((edge, i): DrawnEdge => {
      const section = laidEdges.get(`e${i}`)?.sections?.[0];
      const points = section === undefined ? [] : [section.startPoint, ...(section.bendPoints ?? []), section.endPoint];
      return { ...edge, points: points.map(({ x, y }) => ({ x, y })) };
    }),
    omitted,
    layoutMs,
  };
}

/** Whether cluster `container` sits (directly or not) inside `id`: attaching `id` to it would loop. */
function nestsIn(container: string, id: string, inside: ReadonlyMap<string, string>): boolean {
  const seen = new Set<string>();
  for (let at: string | undefined = container; at !== undefined; at = inside.get(at)) {
    if (at === id || seen.has(at)) return true;
    seen.add(at);
  }
  return false;
}

/** Laid-out workflows by id and size, the most recently used kept. */
export class LayoutCache {
  private readonly entries = new Map<string, Promise<Drawing>>();

  constructor(private readonly capacity = 64) {}

  /**
   * The layout of a workflow, computed once per shape.
   *
   * @param snapshot - the workflow
   * @returns its drawing
   */
  get(snapshot: WorkflowSnapshot): Promise<Drawing> {
    const key = `${snapshot.id}\u0000${snapshot.size}\u0000${snapshot.nodes.length}`;
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    entry = layoutWorkflow(snapshot);
    entry.catch(() => this.entries.delete(key));
    this.entries.set(key, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}
