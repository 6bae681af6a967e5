/**
 * Compiles any canvas — normalised by the builders or not (parsed JSON, Celery dicts) — into a DAG
 * of task invocations. The runtime executes this graph; `toMermaid`/`toDot` draw it.
 *
 * One recursive walk does it all. Each canvas kind is compiled in a context that says what flows
 * into it (`incoming`), which options its containers pushed down, and which result it hangs off
 * (`parent`). It returns a fragment: the nodes that receive the incoming value (`entries`), what it
 * produces (`output`) and what applying it returns (`result`). Chaining is then just: the next
 * element's entries receive the previous element's output.
 */
import { immutable } from './signature.js';
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

type PlainOptions = Omit<TaskOptions, 'link' | 'linkError'>;

interface Incoming {
  readonly input: InputRef;
  readonly after: readonly string[];
}

interface Context {
  readonly incoming: Incoming | null;
  /** Options a container applies as call-time options: they override the node's own. */
  readonly override: PlainOptions;
  /** Options that belong to whatever holds the result (a chain's last step, a chord's body). */
  readonly taskId: string | undefined;
  readonly link: readonly Canvas[];
  /** Error callbacks every node below receives (a chain's `linkError` goes to every step). */
  readonly linkError: readonly Canvas[];
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
/** Shared empty lists: most nodes have no callbacks and no predecessors. */
const NONE: readonly Canvas[] = Object.freeze([]);
const NONE_KEYS: readonly string[] = Object.freeze([]);

/**
 * Compiles a canvas into its execution graph: one node per task invocation with a stable,
 * path-derived key, edges saying which result flows where, and the shape of the returned result.
 *
 * @example
 * ```ts
 * const g = compile(chain(add.s(2, 2), add.s(4)));
 * g.nodes.map((n) => n.key); // ['$.0', '$.1']
 * g.edges;                   // [{ from: '$.0', to: '$.1', carries: 'result' }]
 * ```
 */
export function compile(canvas: Canvas): CompiledGraph {
  const builder: Builder = { nodes: [], groups: [] };
  const root: Context = {
    incoming: null,
    override: {},
    taskId: undefined,
    link: [],
    linkError: [],
    group: null,
    parent: null,
    role: 'task',
  };
  const fragment = build(builder, canvas, ROOT, root);
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
  const { link = NONE, linkError = NONE, ...own } = sig.options;
  // Containers never push `taskId` down as an override: it reaches a node only as the result holder's id.
  const taskId = ctx.taskId ?? own.taskId;
  const untouched = link === NONE && linkError === NONE && taskId === own.taskId && Object.keys(ctx.override).length === 0;
  // Reusing the signature's own (frozen) options when nothing changes them keeps a 100 000-node
  // graph from holding 100 000 copies of the same small object.
  const merged = untouched ? sig.options : definedOnly({ ...own, ...ctx.override });
  const options: TaskOptions = taskId === undefined || untouched ? merged : { ...merged, taskId };
  const errbackCanvases = [...linkError, ...ctx.linkError];
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
    errbacks: errbackCanvases.length === 0 ? NONE_KEYS : errbacks,
    group: ctx.group,
    parent: ctx.parent,
  };
  b.nodes.push(node);

  [...link, ...ctx.link].forEach((callback, i) => {
    build(b, callback, `${key}.l${i}`, {
      ...detached('callback'),
      incoming: { input: { node: key }, after: [key] },
      parent: { node: key },
    });
  });
  errbackCanvases.forEach((errback, i) => {
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
  const { taskId, link = [], linkError = [], ...first } = chain.options;
  if (steps.length === 0) return { entries: [], output: ctx.incoming?.input ?? null, result: null };

  let entries: readonly string[] = [];
  let previous: Fragment | null = null;
  steps.forEach(({ task, index }, position) => {
    const isFirst = position === 0;
    const isLast = position === steps.length - 1;
    const incoming: Incoming | null =
      previous === null ? ctx.incoming : previous.output === null ? null : fromOutput(previous.output);
    const fragment = build(b, task, `${path}.${index}`, {
      incoming,
      // Chain options go to the first step (Celery); call-time options from outside win over them.
      override: isFirst ? definedOnly({ ...first, ...ctx.override }) : {},
      taskId: isLast ? (ctx.taskId ?? taskId) : undefined,
      link: isLast ? [...link, ...ctx.link] : [],
      linkError: [...linkError, ...ctx.linkError],
      group: isLast ? ctx.group : null,
      parent: previous === null ? ctx.parent : previous.result,
      role: ctx.role,
    });
    if (isFirst) entries = fragment.entries;
    previous = fragment;
  });
  const last = previous as Fragment | null;
  return { entries, output: last?.output ?? null, result: last?.result ?? null };
}

function buildGroup(b: Builder, group: Group, path: string, ctx: Context): Fragment {
  const { taskId, link = [], linkError = [], ...own } = group.options;
  const override = definedOnly({ ...own, ...ctx.override });
  // A group's success callback goes to its first member as an immutable clone (Celery), so it
  // fires once and receives nothing.
  const callbacks = [...link, ...ctx.link].map((callback) => immutable(callback));
  const members = flattenGroup(group.tasks, path, override);

  const entries: string[] = [];
  const outputs: InputRef[] = [];
  const results: ResultRef[] = [];
  members.forEach((member, index) => {
    const fragment = build(b, member.canvas, member.path, {
      incoming: ctx.incoming,
      override: member.override,
      taskId: undefined,
      link: index === 0 ? callbacks : [],
      linkError: [...linkError, ...ctx.linkError],
      group: { key: path, index },
      parent: null,
      role: ctx.role,
    });
    entries.push(...fragment.entries);
    if (fragment.output !== null) outputs.push(fragment.output);
    if (fragment.result !== null) results.push(fragment.result);
  });
  const id = ctx.taskId ?? taskId;
  b.groups.push({ key: path, members: results, parent: ctx.parent, ...(id === undefined ? {} : { taskId: id }) });
  return { entries, output: { list: outputs }, result: { group: path } };
}

function buildChord(b: Builder, chord: Chord, path: string, ctx: Context): Fragment {
  const { taskId, link = [], linkError = [], ...own } = chord.options;
  const override = definedOnly({ ...own, ...ctx.override });
  const headerKey = `${path}.h`;
  const header = buildGroup(
    b,
    { kind: 'group', tasks: chord.header, options: {} },
    headerKey,
    { ...ctx, override, taskId: undefined, link: [], linkError: [], group: null },
  );
  const input = header.output ?? { list: [] };
  const body = build(b, chord.body, `${path}.b`, {
    incoming: { input, after: inputKeys(input) },
    override,
    taskId: ctx.taskId ?? taskId,
    link: [...link, ...ctx.link],
    // Error callbacks of a chord belong to its body: they fire once per chord failure.
    linkError: [...linkError, ...ctx.linkError],
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

/** Nested groups are spliced into their parent (Celery flattens them); their options still apply. */
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
      const { taskId: _id, link: _link, linkError: _linkError, ...inner } = canvas.options;
      stack.push({ tasks: canvas.tasks, path: memberPath, override: definedOnly({ ...inner, ...top.override }), next: 0 });
    } else {
      members.push({ canvas, path: memberPath, override: top.override });
    }
  }
  return members;
}

function detached(role: NodeRole): Omit<Context, 'incoming'> {
  return { override: {}, taskId: undefined, link: [], linkError: [], group: null, parent: null, role };
}

function fromOutput(output: InputRef): Incoming {
  return { input: output, after: inputKeys(output) };
}

function isEmpty(canvas: Canvas): boolean {
  return (canvas.kind === 'group' || canvas.kind === 'chain') && canvas.tasks.every(isEmpty);
}

function definedOnly<T extends object>(options: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return out as T;
}
