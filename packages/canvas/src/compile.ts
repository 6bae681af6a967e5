/**
 * Compiles any canvas — normalised by the builders or not (parsed JSON, Celery dicts) — into a DAG
 * of task invocations. The runtime executes this graph; `toMermaid`/`toDot` draw it.
 *
 * One recursive walk does it all. Each canvas kind is compiled in a context that says what flows
 * into it (`incoming`), which options its containers pushed down, and which result it hangs off
 * (`parent`). It returns a fragment: the nodes that receive the incoming value (`entries`), what it
 * produces (`output`) and what applying it returns (`result`). Chaining is then just: the next
 * element's entries receive the previous element's output. Where each container's options land
 * is decided by `internal/placement.ts`, which `chain()` uses too.
 *
 * The canvas is checked with `parseCanvas` first (free for values the builders or the parser
 * made), so the walk never goes deeper than `MAX_DEPTH` levels.
 */
import {
  NOTHING,
  combine,
  toChainStep,
  toChordBody,
  toChordHeader,
  toGroupMember,
  type PlainOptions,
  type Placement,
} from './internal/placement.js';
import { parseCanvas } from './parse.js';
import type {
  Canvas,
  Chain,
  Chord,
  CompiledGraph,
  GraphEdge,
  GraphGroup,
  GraphNode,
  Group,
  InputRef,
  NodeRole,
  ResultRef,
  Signature,
  TaskOptions,
} from './types.js';

interface Incoming {
  readonly input: InputRef;
  readonly after: readonly string[];
}

interface Context {
  readonly incoming: Incoming | null;
  /** What the enclosing containers hand this part: call-time options, result id, callbacks. */
  readonly placement: Placement;
  readonly group: GraphNode['group'];
  readonly parent: ResultRef | null;
  readonly role: NodeRole;
}

interface Fragment {
  readonly entries: readonly string[];
  /** What the fragment produces; `null` for an empty chain (it passes nothing on). */
  readonly output: InputRef | null;
  readonly result: ResultRef | null;
}

interface Builder {
  readonly nodes: GraphNode[];
  readonly groups: GraphGroup[];
}

const ROOT = '$';
/** Shared empty list: most nodes have no predecessors and no error callbacks. */
const NONE_KEYS: readonly string[] = Object.freeze([]);

/**
 * Compiles a canvas into its execution graph: one node per task invocation with a stable,
 * path-derived key, edges saying which result flows where, and the shape of the returned result.
 * Nested groups are spliced into their parent here (Celery flattens them when applied): their
 * members get places in the enclosing group, and their results are spliced into its list.
 *
 * @param canvas - Any canvas; one the builders or `parseCanvas` did not make is checked first.
 * @returns The graph: `nodes`, `groups`, `edges`, `entries` and `result`.
 * @throws CanvasError when `canvas` is not a valid canvas.
 * @example
 * ```ts
 * const g = compile(chain(add.s(2, 2), add.s(4)));
 * g.nodes.map((n) => n.key); // ['$.0', '$.1']
 * g.edges;                   // [{ from: '$.0', to: '$.1', carries: 'result' }]
 * ```
 */
export function compile(canvas: Canvas): CompiledGraph {
  const builder: Builder = { nodes: [], groups: [] };
  const root: Context = { incoming: null, placement: NOTHING, group: null, parent: null, role: 'task' };
  const fragment = build(builder, parseCanvas(canvas), ROOT, root);
  const edges: GraphEdge[] = [];
  const entries: string[] = [];
  for (const node of builder.nodes) {
    if (node.after.length === 0 && node.role !== 'errback') entries.push(node.key);
    const fed = node.input === null ? new Set<string>() : new Set(inputKeys(node.input));
    for (const from of node.after) edges.push({ from, to: node.key, carries: fed.has(from) ? 'result' : 'order' });
    for (const to of node.errbacks) edges.push({ from: node.key, to, carries: 'failure' });
  }
  return { nodes: builder.nodes, groups: builder.groups, edges, entries, result: fragment.result };
}

/** Every node key an input refers to, in order (a join waits for all of them). */
export function inputKeys(input: InputRef): string[] {
  const keys: string[] = [];
  const visit = (ref: InputRef): void => {
    if ('node' in ref) keys.push(ref.node);
    else if ('list' in ref) ref.list.forEach(visit);
    else keys.push(ref.failureOf);
  };
  visit(input);
  return keys;
}

function build(b: Builder, canvas: Canvas, path: string, ctx: Context): Fragment {
  switch (canvas.kind) {
    case 'signature':
      return buildSignature(b, canvas, path, ctx);
    case 'chain':
      return buildChain(b, canvas, path, ctx);
    case 'group':
      return buildGroup(b, canvas, path, ctx);
    case 'chord':
      return buildChord(b, canvas, path, ctx);
  }
}

function buildSignature(b: Builder, sig: Signature, key: string, ctx: Context): Fragment {
  const own = sig.options;
  const outer = ctx.placement;
  const { plain, taskId, link, linkError } = combine(own, outer);
  // Reusing the signature's own (frozen) options when nothing changes them keeps a 100 000-node
  // graph from holding 100 000 copies of the same small object. Containers never push `taskId`
  // down as a plain option: it reaches a node only as the result holder's id.
  const untouched =
    own.link === undefined &&
    own.linkError === undefined &&
    Object.keys(outer.plain).length === 0 &&
    (outer.taskId === undefined || outer.taskId === own.taskId);
  const options: TaskOptions = untouched ? own : taskId === undefined ? plain : { ...plain, taskId };
  const errbacks: string[] = [];
  const node: GraphNode = {
    key,
    task: sig.task,
    args: sig.args,
    kwargs: sig.kwargs,
    options,
    immutable: sig.immutable,
    role: ctx.role,
    input: ctx.incoming === null || sig.immutable ? null : ctx.incoming.input,
    after: ctx.incoming?.after ?? NONE_KEYS,
    errbacks: linkError.length === 0 ? NONE_KEYS : errbacks,
    group: ctx.group,
    parent: ctx.parent,
  };
  b.nodes.push(node);

  link.forEach((callback, i) => {
    build(b, callback, `${key}.l${i}`, {
      ...detached('callback'),
      incoming: { input: { node: key }, after: [key] },
      parent: { node: key },
    });
  });
  linkError.forEach((errback, i) => {
    const fragment = build(b, errback, `${key}.e${i}`, {
      ...detached('errback'),
      incoming: { input: { failureOf: key }, after: [] },
    });
    errbacks.push(...fragment.entries);
  });
  return { entries: [key], output: { node: key }, result: { node: key } };
}

function buildChain(b: Builder, chain: Chain, path: string, ctx: Context): Fragment {
  // Celery skips empty groups and chains when the chain has other steps.
  const steps = chain.tasks
    .map((task, index) => ({ task, index }))
    .filter(({ task }, _, all) => all.length === 1 || !isEmpty(task));
  if (steps.length === 0) return { entries: [], output: ctx.incoming?.input ?? null, result: null };
  const placement = combine(chain.options, ctx.placement);

  let entries: readonly string[] = [];
  let previous: Fragment | null = null;
  steps.forEach(({ task, index }, position) => {
    const incoming: Incoming | null =
      previous === null ? ctx.incoming : previous.output === null ? null : fromOutput(previous.output);
    const fragment = build(b, task, `${path}.${index}`, {
      incoming,
      placement: toChainStep(placement, position, steps.length),
      group: position === steps.length - 1 ? ctx.group : null,
      parent: previous === null ? ctx.parent : previous.result,
      role: ctx.role,
    });
    if (position === 0) entries = fragment.entries;
    previous = fragment;
  });
  const last = previous as Fragment | null;
  return { entries, output: last?.output ?? null, result: last?.result ?? null };
}

function buildGroup(b: Builder, group: Group, path: string, ctx: Context): Fragment {
  const placement = combine(group.options, ctx.placement);
  const members = flattenGroup(group.tasks, path, placement.plain);

  const entries: string[] = [];
  const outputs: InputRef[] = [];
  const results: ResultRef[] = [];
  members.forEach((member, index) => {
    const fragment = build(b, member.canvas, member.path, {
      incoming: ctx.incoming,
      placement: { ...toGroupMember(placement, index), plain: member.override },
      group: { key: path, index },
      parent: null,
      role: ctx.role,
    });
    entries.push(...fragment.entries);
    if (fragment.output !== null) outputs.push(fragment.output);
    if (fragment.result !== null) results.push(fragment.result);
  });
  const id = placement.taskId;
  b.groups.push({ key: path, members: results, parent: ctx.parent, ...(id === undefined ? {} : { taskId: id }) });
  return { entries, output: { list: outputs }, result: { group: path } };
}

function buildChord(b: Builder, chord: Chord, path: string, ctx: Context): Fragment {
  const placement = combine(chord.options, ctx.placement);
  const headerKey = `${path}.h`;
  const header = buildGroup(
    b,
    { kind: 'group', tasks: chord.header, options: {} },
    headerKey,
    { ...ctx, placement: toChordHeader(placement), group: null },
  );
  const input = header.output ?? { list: [] };
  const body = build(b, chord.body, `${path}.b`, {
    incoming: { input, after: inputKeys(input) },
    placement: toChordBody(placement),
    group: ctx.group,
    parent: { group: headerKey },
    role: ctx.role,
  });
  const entries = header.entries.length > 0 ? header.entries : body.entries;
  return { entries, output: body.output, result: body.result };
}

interface Member {
  readonly canvas: Canvas;
  readonly path: string;
  readonly override: PlainOptions;
}

/**
 * Nested groups are spliced into their parent (Celery flattens them); their plain options still
 * apply to their members, under the enclosing group's, which win as a container's always do.
 */
function flattenGroup(tasks: readonly Canvas[], path: string, override: PlainOptions): Member[] {
  const members: Member[] = [];
  const stack: { tasks: readonly Canvas[]; path: string; override: PlainOptions; next: number }[] = [
    { tasks, path, override, next: 0 },
  ];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.tasks.length) {
      stack.pop();
      continue;
    }
    const index = top.next++;
    const canvas = top.tasks[index]!;
    const memberPath = `${top.path}.${index}`;
    if (canvas.kind === 'group') {
      const inner = combine(canvas.options, { ...NOTHING, plain: top.override }).plain;
      stack.push({ tasks: canvas.tasks, path: memberPath, override: inner, next: 0 });
    } else {
      members.push({ canvas, path: memberPath, override: top.override });
    }
  }
  return members;
}

function detached(role: NodeRole): Omit<Context, 'incoming'> {
  return { placement: NOTHING, group: null, parent: null, role };
}

function fromOutput(output: InputRef): Incoming {
  return { input: output, after: inputKeys(output) };
}

function isEmpty(canvas: Canvas): boolean {
  return (canvas.kind === 'group' || canvas.kind === 'chain') && canvas.tasks.every(isEmpty);
}
