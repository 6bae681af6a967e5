/**
 * Freezing: turns a compiled graph into a workflow plan with every result id assigned up front
 * (Celery's `freeze`), so the whole `.parent` chain exists before anything runs. Nodes are
 * addressed by index from here on; the plan is what `store.ts` writes to Redis once.
 */
import { randomUUID } from 'node:crypto';
import { CanvasError } from '@celeriac/canvas';
import type { CompiledGraph, GraphNode, InputRef, Json, Kwargs, NodeRole, ResultRef, TaskOptions } from '@celeriac/canvas';

/** A node's incoming value by index: a node's result, a list of inputs, or a failed task's id. */
export type SpecInput = { readonly n: number } | { readonly l: readonly SpecInput[] } | { readonly f: string };

/** Options that matter when a node runs (ids and callbacks are already part of the plan). */
export type RunOptions = Omit<TaskOptions, 'taskId' | 'link' | 'linkError'>;

/** Everything a worker needs to run one node, stored once as `n:<index>`. */
export interface NodeSpec {
  readonly id: string;
  readonly task: string;
  readonly args: readonly Json[];
  readonly kwargs: Kwargs;
  readonly options: RunOptions;
  readonly input: SpecInput | null;
  readonly rootId: string;
  readonly groupId?: string;
  readonly groupIndex?: number;
  readonly role: NodeRole;
}

/** The values {@link encodeSpec} leaves out, and {@link decodeSpec} puts back. */
const SPEC_DEFAULTS = { kwargs: Object.freeze({}), options: Object.freeze({}), input: null, role: 'task' } as const;

/**
 * A spec as stored: without the fields that hold their default value (no kwargs, no options, no
 * input, the plain task role), which most members of a large group do. That keeps a 100 000-member
 * group's plan about a quarter smaller, in Redis and in the garbage of the process writing it.
 */
export function encodeSpec(spec: NodeSpec): string {
  // Built by assignment, in the order the fields always had: conditional spreads in an object
  // literal give each object a hidden class of its own once V8 optimises the function (and
  // JSON.stringify a slow path), which a group of 100 000 or a burst of `delay`s pays per node.
  const stored: { -readonly [K in keyof NodeSpec]?: NodeSpec[K] } = { id: spec.id, task: spec.task, args: spec.args, rootId: spec.rootId };
  if (spec.groupId !== undefined) stored.groupId = spec.groupId;
  if (spec.groupIndex !== undefined) stored.groupIndex = spec.groupIndex;
  if (Object.keys(spec.kwargs).length > 0) stored.kwargs = spec.kwargs;
  if (Object.keys(spec.options).length > 0) stored.options = spec.options;
  if (spec.input !== null) stored.input = spec.input;
  if (spec.role !== SPEC_DEFAULTS.role) stored.role = spec.role;
  return JSON.stringify(stored);
}

/** Reads a spec written by {@link encodeSpec}. */
export function decodeSpec(text: string): NodeSpec {
  // Filling in the parsed object is about five times as fast as spreading it over the defaults,
  // and a worker decodes one spec per job it releases.
  const spec = JSON.parse(text) as { -readonly [K in keyof NodeSpec]?: NodeSpec[K] };
  spec.kwargs ??= SPEC_DEFAULTS.kwargs;
  spec.options ??= SPEC_DEFAULTS.options;
  spec.input ??= SPEC_DEFAULTS.input;
  spec.role ??= SPEC_DEFAULTS.role;
  return spec as NodeSpec;
}

/** A result reference by index: a node, or a group in `meta.groups`. */
export type ResultIndex = { readonly n: number } | { readonly g: number };

/**
 * A node as results see it. Most nodes of a large workflow have a derived id, no parent and no
 * children: they leave those out, and freeze shares one such object per task name, so the meta of
 * a 100 000-member group costs little more than its node count in memory and in Redis.
 */
export interface MetaNode {
  /** Absent when derived: `<workflow id>.<index>` (see {@link nodeId}). */
  readonly id?: string;
  readonly task: string;
  /** Absent when null; metas written by earlier versions store `null`, so read it with `?? null`. */
  readonly parent?: ResultIndex | null;
  /** Absent when empty. */
  readonly children?: readonly number[];
}

/** What any process needs to rebuild result objects (with `.parent` and children) from an id. */
export interface WorkflowMeta {
  readonly v: 1;
  /** The workflow's id: the id of the result `apply` returned. */
  readonly id: string;
  /** Celery's `root_id`: the id of the first task. */
  readonly rootId: string;
  readonly result: ResultIndex;
  readonly nodes: readonly MetaNode[];
  readonly groups: readonly { readonly id: string; readonly members: readonly ResultIndex[]; readonly parent: ResultIndex | null }[];
  readonly createdAt: number;
}

/** Node indices a result depends on, in order (a group's nested members flattened). */
export function leavesOf(meta: WorkflowMeta, ref: ResultIndex): number[] {
  if ('n' in ref) return [ref.n];
  return meta.groups[ref.g]!.members.flatMap((member) => leavesOf(meta, member));
}

/** The task id of node `index`. */
export function nodeId(meta: WorkflowMeta, index: number): string {
  return meta.nodes[index]!.id ?? derivedNodeId(meta.id, index);
}

/** The id node `index` has unless a user chose one (see {@link derivedLocation}). */
export function derivedNodeId(workflowId: string, index: number): string {
  return `${workflowId}.${index}`;
}

/** The id group `g` has unless a user chose one. */
export function derivedGroupId(workflowId: string, g: number): string {
  return `${workflowId}.g${g}`;
}

export interface WorkflowPlan {
  readonly meta: WorkflowMeta;
  /**
   * Whether the workflow's id is one a user chose (`taskId`). A generated id is new, so no
   * workflow with it can exist yet: writing its plan cannot find one (see `app.launch`).
   */
  readonly idChosen: boolean;
  /**
   * The spec of node `index`, built on each call: a plan never holds every spec at once, so a
   * large workflow's specs exist only one write slice at a time.
   */
  spec(index: number): NodeSpec;
  readonly successors: readonly (readonly number[])[];
  readonly errbacks: readonly (readonly number[])[];
  /** Predecessors each node waits for (0 for entries and error callbacks). */
  readonly waitsFor: readonly number[];
  readonly entries: readonly number[];
}

const NONE: readonly number[] = Object.freeze([]);

/** A node's options as it runs: no id, and no ignoreResult when a successor needs its result. */
function runOptionsOf(options: TaskOptions, feedsSuccessor: boolean): RunOptions {
  const { taskId: _taskId, link: _link, linkError: _linkError, ...own } = options;
  // A result that feeds a successor must be stored whatever ignoreResult says: it is the input.
  if (own.ignoreResult === true && feedsSuccessor) delete own.ignoreResult;
  return own;
}

function inputKeysOf(input: InputRef): string[] {
  if ('node' in input) return [input.node];
  if ('list' in input) return input.list.flatMap(inputKeysOf);
  return [];
}

/**
 * Where a derived id (`<workflow>.<n>` or `<workflow>.g<n>`) points, if it has that shape. The
 * caller confirms the workflow exists: a user's own `taskId` may look alike.
 */
export function derivedLocation(id: string): { workflowId: string; ref: ResultIndex } | null {
  const match = /^(.+)\.(g?)(\d+)$/.exec(id);
  if (match === null) return null;
  const at = Number(match[3]);
  return { workflowId: match[1]!, ref: match[2] === 'g' ? { g: at } : { n: at } };
}

/** Node indices an input needs results from, in the order `lua/includes/released.lua` returns them. */
export function inputIndices(input: SpecInput | null): number[] {
  const out: number[] = [];
  const visit = (ref: SpecInput): void => {
    if ('n' in ref) out.push(ref.n);
    else if ('l' in ref) ref.l.forEach(visit);
  };
  if (input !== null) visit(input);
  return out;
}

/**
 * Assigns ids and indexes a compiled graph. `defaults` returns a task's registered default
 * options, which fill only the options a node does not set (Celery's precedence).
 * Returns `null` when the canvas has nothing to return (an empty chain).
 */
export function freeze(graph: CompiledGraph, defaults: (task: string) => RunOptions | undefined): WorkflowPlan | null {
  if (graph.result === null) return null;
  const indexOf = new Map(graph.nodes.map((node, index) => [node.key, index]));
  const groupIndexOf = new Map(graph.groups.map((group, index) => [group.key, index]));
  const seen = new Set<string>();
  const claim = (id: string | undefined, what: string): string => {
    const chosen = id ?? randomUUID();
    if (seen.has(chosen)) throw new CanvasError(what, `taskId "${chosen}" is used twice in one workflow; ids must be unique`);
    seen.add(chosen);
    return chosen;
  };
  const index = (key: string): number => indexOf.get(key)!;
  const ref = (r: ResultRef | null): ResultIndex | null =>
    r === null ? null : 'node' in r ? { n: index(r.node) } : { g: groupIndexOf.get(r.group)! };
  const result = ref(graph.result)!;

  // The workflow's id is its result's id; other ids derive from it (`<id>.<n>`, `<id>.g<n>`), so
  // any of them leads back to the workflow without a lookup key per task (see derivedLocation).
  // Only ids a user chose are stored; derived ones are computed when needed.
  const given = 'n' in result ? graph.nodes[result.n]!.options.taskId : graph.groups[result.g]!.taskId;
  const workflowId = claim(given ?? randomUUID(), 'taskId');
  const isResult = (r: ResultIndex): boolean => ('n' in r && 'n' in result ? r.n === result.n : 'g' in r && 'g' in result && r.g === result.g);
  const chosenIds = new Map<number, string>();
  graph.nodes.forEach((node, i) => {
    if (isResult({ n: i })) chosenIds.set(i, workflowId);
    else if (node.options.taskId !== undefined) chosenIds.set(i, claim(node.options.taskId, node.key));
  });
  const groupIds = graph.groups.map((group, g) =>
    isResult({ g }) ? workflowId : claim(group.taskId ?? derivedGroupId(workflowId, g), group.key),
  );
  // A chosen id must not be the derived id of a node that has none chosen.
  for (const id of seen) {
    const derived = derivedLocation(id);
    if (derived?.workflowId === workflowId && 'n' in derived.ref && derived.ref.n < graph.nodes.length && !chosenIds.has(derived.ref.n)) {
      throw new CanvasError('taskId', `taskId "${id}" is the id of another task of this workflow; ids must be unique`);
    }
  }
  const idOf = (i: number): string => chosenIds.get(i) ?? derivedNodeId(workflowId, i);
  const toInput = (input: InputRef): SpecInput =>
    'node' in input ? { n: index(input.node) } : 'list' in input ? { l: input.list.map(toInput) } : { f: idOf(index(input.failureOf)) };

  const firstEntry = graph.entries[0];
  const rootId = firstEntry === undefined ? workflowId : idOf(index(firstEntry));

  // Most nodes of a large group have no successor and no error callback: they share one empty list.
  const successors: number[][] = new Array<number[]>(graph.nodes.length);
  graph.nodes.forEach((node, i) => node.after.forEach((key) => (successors[index(key)] ??= []).push(i)));
  for (let i = 0; i < successors.length; i++) successors[i] ??= NONE as number[];

  const feedsSuccessor = graph.nodes.map(() => false);
  for (const node of graph.nodes) {
    if (node.input !== null) for (const key of inputKeysOf(node.input)) feedsSuccessor[index(key)] = true;
  }

  const spec = (i: number): NodeSpec => {
    const node = graph.nodes[i]!;
    // Compiled options never hold link/linkError; without a taskId or a fix to make they are
    // shared as they are (the plan only reads them).
    const fix = node.options.taskId !== undefined || (node.options.ignoreResult === true && feedsSuccessor[i]);
    const own: RunOptions = fix ? runOptionsOf(node.options, feedsSuccessor[i]!) : node.options;
    const taskDefaults = defaults(node.task);
    const group = node.group === null ? undefined : groupIndexOf.get(node.group.key);
    const built: { -readonly [K in keyof NodeSpec]: NodeSpec[K] } = {
      id: idOf(i),
      task: node.task,
      args: node.args,
      kwargs: node.kwargs,
      options: taskDefaults === undefined ? own : Object.assign({}, taskDefaults, own),
      input: node.input === null ? null : toInput(node.input),
      rootId,
      role: node.role,
    };
    if (group !== undefined) {
      built.groupId = groupIds[group]!;
      built.groupIndex = node.group!.index;
    }
    return built;
  };

  // One shared object per task name for the many nodes with a derived id, no parent, no children.
  const plainNodes = new Map<string, MetaNode>();
  const metaNode = (node: GraphNode, i: number): MetaNode => {
    const id = chosenIds.get(i);
    const parent = ref(node.parent);
    const children = successors[i]!;
    if (id === undefined && parent === null && children.length === 0) {
      let shared = plainNodes.get(node.task);
      if (shared === undefined) plainNodes.set(node.task, (shared = { task: node.task }));
      return shared;
    }
    const built: { -readonly [K in keyof MetaNode]: MetaNode[K] } = id === undefined ? { task: node.task } : { id, task: node.task };
    if (parent !== null) built.parent = parent;
    if (children.length > 0) built.children = children;
    return built;
  };

  return {
    meta: {
      v: 1,
      id: workflowId,
      rootId,
      result,
      nodes: graph.nodes.map(metaNode),
      groups: graph.groups.map((group, g) => ({
        id: groupIds[g]!,
        members: group.members.map((member) => ref(member)!),
        parent: ref(group.parent),
      })),
      createdAt: Date.now(),
    },
    idChosen: given !== undefined,
    spec,
    successors,
    errbacks: graph.nodes.map((node) => (node.errbacks.length === 0 ? NONE : node.errbacks.map(index))),
    waitsFor: graph.nodes.map((node) => node.after.length),
    entries: graph.entries.map(index),
  };
}
