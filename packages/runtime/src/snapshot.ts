/**
 * A workflow as observers see it (DESIGN §7): its nodes with their states, results and links, as
 * plain JSON — what `celeriac result --tree`, `celeriac graph` and the monitor's workflow page
 * draw — and a live feed of its state changes. Everything is read from Redis, so any process can
 * look at any workflow; nothing here changes it.
 */
import type { Json, Kwargs } from '@celeriac/canvas';
import { READY_STATES, type Envelope, type TaskState } from './envelope.js';
import type { RemoteError } from './failure.js';
import { leavesOf, nodeId, type ResultIndex, type RunOptions, type WorkflowMeta } from './plan.js';
import type { RateLimitedLog } from './logger.js';
import { truncatedRepr } from './repr.js';
import { announcedIndex, dropped } from './wait.js';
import type { NodeLinks, WorkflowStore } from './store.js';
import type { ChannelSubscriber } from './subscriber.js';

/** One task invocation of a workflow. */
export interface WorkflowNode {
  /** Its place in the workflow's plan. */
  readonly index: number;
  /** The task id (its result id). */
  readonly id: string;
  readonly task: string;
  /** A workflow step, a success callback (`link`) or an error callback (`linkError`). */
  readonly role: 'task' | 'callback' | 'errback';
  readonly state: TaskState;
  /** The queue its job goes to. */
  readonly queue: string;
  /** Its own arguments (a parent's result is prepended when it runs, unless it is immutable). */
  readonly args: readonly Json[];
  readonly kwargs: Kwargs;
  /** Its options as it runs (countdown, eta, expires, maxRetries, time limits…). */
  readonly options: RunOptions;
  /** Id of the result its `.parent` points to (a task or a group), if any. */
  readonly parent: string | null;
  /** Ids of the results it releases (the next steps, `link` callbacks). */
  readonly children: readonly string[];
  /** The group (or chord header) it is a member of, and its place there. */
  readonly group: { readonly id: string; readonly index: number } | null;
  /** Its value as JSON text, cut to 1 024 characters, once it succeeded. */
  readonly result?: string;
  /** Why it failed, was revoked, or is being retried. */
  readonly error?: RemoteError;
  /** Epoch ms its outcome was recorded. */
  readonly doneAt?: number;
  /** Ids of the tasks it still waits for: why a PENDING node has not started ("waiting on X and Y"). */
  readonly waitingOn: readonly string[];
}

/** What runs after what: a result passed on, an order only (into an immutable step), or an error callback. */
export interface WorkflowEdge {
  readonly from: string;
  readonly to: string;
  readonly carries: 'result' | 'order' | 'failure';
}

/** A group or chord header, with its progress ("37/100 header results in"). */
export interface WorkflowGroup {
  readonly id: string;
  /** Ids of its members' results, in order (a member that is a chain: its last step; a nested group: its id). */
  readonly members: readonly string[];
  /** Id of the result its `.parent` points to, if any. */
  readonly parent: string | null;
  /** Tasks it waits for (nested groups counted through), and how many succeeded or ended otherwise. */
  readonly size: number;
  readonly succeeded: number;
  readonly failed: number;
}

/** One workflow, read from Redis. */
export interface WorkflowSnapshot {
  /** The workflow's id: the id of the result `apply` returned. */
  readonly id: string;
  /** Celery's `root_id`: the first task's id. */
  readonly rootId: string;
  /** Epoch ms it was applied. */
  readonly createdAt: number;
  /** Id of the result `apply` returned (a task, or a group). */
  readonly result: string;
  /** The result's state: FAILURE if any of its tasks failed, SUCCESS once all succeeded, PENDING before any started, else STARTED. */
  readonly state: TaskState;
  /** Nodes in the workflow. */
  readonly size: number;
  /** The first `limit` nodes (all of them unless `truncated`), by index. */
  readonly nodes: readonly WorkflowNode[];
  /** The links between the nodes listed. */
  readonly edges: readonly WorkflowEdge[];
  readonly groups: readonly WorkflowGroup[];
  /** True when the workflow has more nodes than were listed. */
  readonly truncated: boolean;
}

/** Options of {@link readSnapshot}. */
export interface SnapshotOptions {
  /** Nodes listed at most (a 100 000-task group is summarised by its groups' progress). Default 1 000. */
  readonly limit?: number | undefined;
}

/** A state change of one node, as {@link watchWorkflow} yields it. */
export interface NodeChange {
  readonly index: number;
  readonly id: string;
  readonly state: TaskState;
}

const DEFAULT_LIMIT = 1_000;

/** Reads a workflow: every node's state (for the groups' progress), and up to `limit` nodes in full. */
export async function readSnapshot(store: WorkflowStore, meta: WorkflowMeta, options: SnapshotOptions = {}): Promise<WorkflowSnapshot> {
  const size = meta.nodes.length;
  const listed = Array.from({ length: Math.min(size, options.limit ?? DEFAULT_LIMIT) }, (_, i) => i);
  const all = Array.from({ length: size }, (_, i) => i);
  const [states, specs, links, envelopes] = await Promise.all([
    store.states(meta.id, all),
    store.specs(meta.id, listed),
    store.links(meta.id, listed),
    store.envelopes(meta.id, listed),
  ]);
  const refId = (ref: ResultIndex): string => ('n' in ref ? nodeId(meta, ref.n) : meta.groups[ref.g]!.id);
  const inputsOf = new Map<number, readonly number[]>(listed.map((i) => [i, links[i]!.inputs]));
  const predecessors = reverse(links);

  const nodes = listed.map((i): WorkflowNode => {
    const spec = specs[i];
    const node = meta.nodes[i]!;
    const waitingOn = states[i] === 'PENDING' ? (predecessors.get(i) ?? []).filter((p) => states[p] !== 'SUCCESS').map((p) => nodeId(meta, p)) : [];
    return {
      index: i,
      id: nodeId(meta, i),
      task: node.task,
      role: spec?.role ?? 'task',
      state: states[i]!,
      queue: spec?.options.queue ?? 'default',
      args: spec?.args ?? [],
      kwargs: spec?.kwargs ?? {},
      options: spec?.options ?? {},
      parent: node.parent === undefined || node.parent === null ? null : refId(node.parent),
      children: (node.children ?? []).map((child) => nodeId(meta, child)),
      group: spec?.groupId === undefined ? null : { id: spec.groupId, index: spec.groupIndex ?? 0 },
      ...outcome(envelopes[i] ?? null),
      waitingOn,
    };
  });
  const edges: WorkflowEdge[] = [];
  listed.forEach((i) => {
    const { successors, errbacks } = links[i]!;
    for (const j of successors) {
      edges.push({ from: nodeId(meta, i), to: nodeId(meta, j), carries: (inputsOf.get(j) ?? []).includes(i) ? 'result' : 'order' });
    }
    for (const j of errbacks) edges.push({ from: nodeId(meta, i), to: nodeId(meta, j), carries: 'failure' });
  });
  const groups = meta.groups.map((group, g): WorkflowGroup => {
    const leaves = leavesOf(meta, { g });
    return {
      id: group.id,
      members: group.members.map(refId),
      parent: group.parent === null ? null : refId(group.parent),
      size: leaves.length,
      succeeded: leaves.filter((i) => states[i] === 'SUCCESS').length,
      failed: leaves.filter((i) => states[i] === 'FAILURE' || states[i] === 'REVOKED').length,
    };
  });
  return {
    id: meta.id,
    rootId: meta.rootId,
    createdAt: meta.createdAt,
    result: refId(meta.result),
    state: aggregate(leavesOf(meta, meta.result).map((i) => states[i]!)),
    size,
    nodes,
    edges,
    groups,
    truncated: listed.length < size,
  };
}

/**
 * Yields each node's state as it changes, from the states at the start on, until every node has
 * ended or `signal` aborts. Messages on the workflow's channel only say which node to read again:
 * a forged one costs a read and changes nothing.
 */
export async function* watchWorkflow(
  store: WorkflowStore,
  subscriber: ChannelSubscriber,
  log: RateLimitedLog,
  meta: WorkflowMeta,
  signal?: AbortSignal,
): AsyncGenerator<NodeChange, void, undefined> {
  const all = Array.from({ length: meta.nodes.length }, (_, i) => i);
  const known = new Map<number, TaskState>();
  let toRead = new Set(all);
  let wake: () => void = () => {};
  const subscription = subscriber.listen(
    store.eventsChannel(meta.id),
    (message) => {
      const index = announcedIndex(message);
      if (index === undefined) return dropped(log, meta.id, message);
      if (index >= meta.nodes.length) return;
      toRead.add(index);
      wake();
    },
    () => {
      toRead = new Set(all);
      wake();
    },
  );
  const onAbort = (): void => wake();
  signal?.addEventListener('abort', onAbort);
  try {
    await subscription.ready;
    while (signal?.aborted !== true) {
      if (toRead.size > 0) {
        const indices = [...toRead];
        toRead = new Set();
        const states = await store.states(meta.id, indices);
        for (let k = 0; k < indices.length; k++) {
          const index = indices[k]!;
          if (known.get(index) === states[k]) continue;
          known.set(index, states[k]!);
          yield { index, id: nodeId(meta, index), state: states[k]! };
        }
        if (known.size === all.length && [...known.values()].every((state) => READY_STATES.has(state))) return;
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = () => {};
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    subscription.close();
  }
}

/** A result's state from its tasks' states (as `GroupResult.state()`). */
export function aggregate(states: readonly TaskState[]): TaskState {
  if (states.length === 1) return states[0]!;
  if (states.includes('FAILURE')) return 'FAILURE';
  if (states.every((state) => state === 'SUCCESS')) return 'SUCCESS';
  if (states.every((state) => state === 'PENDING')) return 'PENDING';
  return 'STARTED';
}

function outcome(envelope: Envelope | null): Pick<WorkflowNode, 'result' | 'error' | 'doneAt'> {
  if (envelope === null) return {};
  if (envelope.state === 'SUCCESS') return { result: truncatedRepr(envelope.value), doneAt: envelope.doneAt };
  return { error: envelope.error, doneAt: envelope.doneAt };
}

/** Each listed node's predecessors: the nodes whose successors list names it. */
function reverse(links: readonly NodeLinks[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  links.forEach(({ successors }, i) => {
    for (const j of successors) {
      let list = out.get(j);
      if (list === undefined) out.set(j, (list = []));
      list.push(i);
    }
  });
  return out;
}
