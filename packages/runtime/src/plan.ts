/**
 * Freezing: turns a compiled graph into a workflow plan with every result id assigned up front
 * (Celery's `freeze`), so the whole `.parent` chain exists before anything runs. Nodes are
 * addressed by index from here on; the plan is what `store.ts` writes to Redis once.
 */
import { randomUUID } from 'node:crypto';
import { CanvasError } from '@celeriac/canvas';
import type { CompiledGraph, InputRef, Json, Kwargs, NodeRole, ResultRef, TaskOptions } from '@celeriac/canvas';

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

/** A result reference by index: a node, or a group in `meta.groups`. */
export type ResultIndex = { readonly n: number } | { readonly g: number };

/** What any process needs to rebuild result objects (with `.parent` and children) from an id. */
export interface WorkflowMeta {
  readonly v: 1;
  /** The workflow's id: the id of the result `apply` returned. */
  readonly id: string;
  /** Celery's `root_id`: the id of the first task. */
  readonly rootId: string;
  readonly result: ResultIndex;
  readonly nodes: readonly { readonly id: string; readonly task: string; readonly parent: ResultIndex | null; readonly children: readonly number[] }[];
  readonly groups: readonly { readonly id: string; readonly members: readonly ResultIndex[]; readonly parent: ResultIndex | null }[];
  readonly createdAt: number;
}

export interface WorkflowPlan {
  readonly meta: WorkflowMeta;
  readonly specs: readonly NodeSpec[];
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
  const given = 'n' in result ? graph.nodes[result.n]!.options.taskId : graph.groups[result.g]!.taskId;
  const workflowId = claim(given ?? randomUUID(), 'taskId');
  const isResult = (r: ResultIndex): boolean => ('n' in r && 'n' in result ? r.n === result.n : 'g' in r && 'g' in result && r.g === result.g);
  const nodeIds = graph.nodes.map((node, i) =>
    isResult({ n: i }) ? workflowId : claim(node.options.taskId ?? `${workflowId}.${i}`, node.key),
  );
  const groupIds = graph.groups.map((group, g) =>
    isResult({ g }) ? workflowId : claim(group.taskId ?? `${workflowId}.g${g}`, group.key),
  );
  const toInput = (input: InputRef): SpecInput =>
    'node' in input ? { n: index(input.node) } : 'list' in input ? { l: input.list.map(toInput) } : { f: nodeIds[index(input.failureOf)]! };

  const firstEntry = graph.entries[0];
  const rootId = firstEntry === undefined ? workflowId : nodeIds[index(firstEntry)]!;

  // Most nodes of a large group have no successor and no error callback: they share one empty list.
  const successors: number[][] = new Array<number[]>(graph.nodes.length);
  graph.nodes.forEach((node, i) => node.after.forEach((key) => (successors[index(key)] ??= []).push(i)));
  for (let i = 0; i < successors.length; i++) successors[i] ??= NONE as number[];

  const feedsSuccessor = graph.nodes.map(() => false);
  for (const node of graph.nodes) {
    if (node.input !== null) for (const key of inputKeysOf(node.input)) feedsSuccessor[index(key)] = true;
  }

  const specs = graph.nodes.map((node, i): NodeSpec => {
    // Compiled options never hold link/linkError; without a taskId or a fix to make they are
    // shared as they are (the plan only reads them).
    const fix = node.options.taskId !== undefined || (node.options.ignoreResult === true && feedsSuccessor[i]);
    const own: RunOptions = fix ? runOptionsOf(node.options, feedsSuccessor[i]!) : node.options;
    const taskDefaults = defaults(node.task);
    const group = node.group === null ? undefined : groupIndexOf.get(node.group.key);
    return {
      id: nodeIds[i]!,
      task: node.task,
      args: node.args,
      kwargs: node.kwargs,
      options: taskDefaults === undefined ? own : { ...taskDefaults, ...own },
      input: node.input === null ? null : toInput(node.input),
      rootId,
      ...(group === undefined ? {} : { groupId: groupIds[group]!, groupIndex: node.group!.index }),
      role: node.role,
    };
  });

  return {
    meta: {
      v: 1,
      id: workflowId,
      rootId,
      result,
      nodes: graph.nodes.map((node, i) => ({ id: nodeIds[i]!, task: node.task, parent: ref(node.parent), children: successors[i]! })),
      groups: graph.groups.map((group, g) => ({
        id: groupIds[g]!,
        members: group.members.map((member) => ref(member)!),
        parent: ref(group.parent),
      })),
      createdAt: Date.now(),
    },
    specs,
    successors,
    errbacks: graph.nodes.map((node) => (node.errbacks.length === 0 ? NONE : node.errbacks.map(index))),
    waitsFor: graph.nodes.map((node) => node.after.length),
    entries: graph.entries.map(index),
  };
}
