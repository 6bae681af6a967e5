/**
 * `ctx.replace(canvas)` (Celery's `Task.replace`): the canvas runs as a workflow of its own, to
 * whose compiled graph the runtime adds a built-in last step that records the replacement's
 * result as the replaced node's — or, through an error callback, its failure.
 *
 * The built-in steps are the only jobs whose target lies outside their own workflow, so they are
 * bound to the plan: a step reads its target from the spec the runtime stored when it applied the
 * replacement (never from the job), checks that the job is the one that spec describes, and takes
 * the value it records from the stored results of its predecessors (never from the job's args).
 * They are added to the compiled graph, never to a canvas: task names starting with `celeriac.`
 * cannot enter a canvas, so no user can create such a spec, and a job forged by hand is refused
 * and changes nothing.
 */
import { compile, type Canvas, type CompiledGraph, type GraphNode, type InputRef, type ResultRef } from '@celeriac/canvas';
import * as v from 'valibot';
import { encodeSuccess } from './envelope.js';
import { InvalidJobError } from './errors.js';
import type { Outcome } from './execute.js';
import type { RemoteError } from './failure.js';
import { incomingValue, type TaskJob } from './job-data.js';
import { locate } from './lookup.js';
import { inputIndices, type NodeSpec } from './plan.js';
import type { NodeRef, Settler } from './settle.js';
import type { WorkflowStore } from './store.js';

/** The step that records a replacement's result as the replaced node's. */
export const REPLACED = 'celeriac.replaced';
/** The error callback that records a replacement's failure as the replaced node's. */
export const REPLACE_FAILED = 'celeriac.replace_failed';

/**
 * The id of the workflow that replaced task `taskId`. Until its last step ends the replaced node,
 * that node is released and has no job: the outbox sweeper tells it from a lost one by this.
 */
export function replacementOf(taskId: string): string {
  return `${taskId}.replaced`;
}

const targetSchema = v.object({
  w: v.string(),
  i: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  id: v.string(),
  task: v.string(),
});

/** A built-in step that could not be verified: nothing was recorded. */
export class RefusedJobError extends InvalidJobError {
  constructor(job: TaskJob, reason: string) {
    super(`Refused job ${job.id} (${job.task}) of workflow ${job.workflowId}: ${reason}. Nothing was recorded.`);
    this.name = 'RefusedJobError';
  }
}

export class Replacer {
  constructor(
    private readonly store: WorkflowStore,
    private readonly settler: Settler,
    /** Applies a compiled graph (the runtime's own, holding the built-in steps). */
    private readonly launch: (graph: CompiledGraph) => Promise<void>,
  ) {}

  /** Whether `task` names one of the built-in steps. */
  static handles(task: string): boolean {
    return task === REPLACED || task === REPLACE_FAILED;
  }

  /**
   * Applies `canvas` in place of `job`. The ids derive from the replaced task's id, so a
   * redelivered task that replaces itself again changes nothing.
   */
  async replace(job: TaskJob, canvas: Canvas, queue: string): Promise<void> {
    const target = { w: job.workflowId, i: job.index, id: job.id, task: job.task };
    await this.launch(withBuiltins(compile(canvas), target, { taskId: replacementOf(job.id), queue }));
  }

  /**
   * Runs a built-in step. Throws {@link RefusedJobError} when the job is not the one its stored
   * spec describes, or its input is not there yet.
   */
  async run(job: TaskJob, queue: string): Promise<Outcome> {
    const { spec, target } = await this.verified(job);
    if (job.task === REPLACED) {
      const value = await this.storedInput(job, spec);
      await this.settler.success(target, encodeSuccess(value, this.store.maxPayloadSize), { queue });
      return { kind: 'success', value };
    }
    // The failure reached the last step (everything a replacement runs leads to it): record the
    // error it failed with, the original one rather than a ChordError around it.
    const failedId = spec.input !== null && 'f' in spec.input ? spec.input.f : undefined;
    if (failedId === undefined) throw new RefusedJobError(job, 'its stored spec names no failed task');
    const { meta, ref } = await locate(this.store, failedId);
    const [envelope] = 'n' in ref && meta.id === job.workflowId ? await this.store.envelopes(meta.id, [ref.n]) : [];
    if (envelope === null || envelope === undefined || envelope.state === 'SUCCESS' || envelope.state === 'RETRY') {
      throw new RefusedJobError(job, `task ${failedId} of its workflow has not failed`);
    }
    const { error } = envelope;
    await this.settler.failure(target, error.code === 'CHORD_FAILED' && error.cause !== undefined ? error.cause : error);
    return { kind: 'success', value: null };
  }

  /**
   * Ends the replaced node with `error` instead of running the step: a step whose workers keep
   * dying with it (the results of a replacement too big to gather) gives up as a task job does,
   * so the replaced task's waiters do not wait forever. Throws {@link RefusedJobError} as `run` does.
   */
  async abandon(job: TaskJob, error: RemoteError): Promise<void> {
    const { target } = await this.verified(job);
    await this.settler.failure(target, error);
  }

  /** The job's stored spec, and the node it records into, once the job is found to be the one the spec describes. */
  private async verified(job: TaskJob): Promise<{ spec: NodeSpec; target: NodeRef }> {
    const [spec] = await this.store.specs(job.workflowId, [job.index]);
    if (spec === null || spec === undefined) throw new RefusedJobError(job, 'its workflow has no such node');
    if (spec.task !== job.task || spec.id !== job.id) throw new RefusedJobError(job, 'it does not match the node its workflow stored');
    const parsed = v.safeParse(targetSchema, spec.kwargs);
    if (!parsed.success) throw new RefusedJobError(job, 'its stored target is malformed');
    const { w, i, id, task } = parsed.output;
    return { spec, target: { workflowId: w, index: i, id, task } };
  }

  /** The value a step receives, read from its predecessors' stored results. */
  private async storedInput(job: TaskJob, spec: NodeSpec): Promise<unknown> {
    if (spec.input === null) return null; // the replacement was an empty chain
    const envelopes = await this.store.envelopes(job.workflowId, inputIndices(spec.input));
    const values = envelopes.map((envelope) => {
      if (envelope?.state !== 'SUCCESS') throw new RefusedJobError(job, 'its replacement has not finished');
      return envelope.value;
    });
    return incomingValue(spec.input, spec, values);
  }
}

const FINISH = '$.replaced';
const FINISH_FAILED = '$.replaced.e';

/**
 * Adds the built-in steps to a replacement's graph: after its result, a step that receives it (a
 * list, in order, when the result is a group) and records it as the replaced node's; and one
 * error callback, shared by every step of the replacement, that records its failure. The new
 * last step is the workflow's result, with the given `taskId`.
 */
function withBuiltins(graph: CompiledGraph, target: v.InferOutput<typeof targetSchema>, options: { taskId: string; queue: string }): CompiledGraph {
  if (graph.result === null) {
    // An empty chain has no result: it ends the replaced node with `null`, as its own step.
    return { nodes: [finishNode(target, options, null, [])], groups: [], edges: [], entries: [FINISH], result: { node: FINISH } };
  }
  const groups = new Map(graph.groups.map((group) => [group.key, group]));
  const inputOf = (ref: ResultRef): InputRef => ('node' in ref ? { node: ref.node } : { list: groups.get(ref.group)!.members.map(inputOf) });
  const leavesOf = (ref: ResultRef): string[] => ('node' in ref ? [ref.node] : groups.get(ref.group)!.members.flatMap(leavesOf));
  const leaves = leavesOf(graph.result);
  // Every step of the replacement leads to the last one, so a failure anywhere reaches it.
  const nodes = graph.nodes.map((node) => (node.role === 'task' ? { ...node, errbacks: [...node.errbacks, FINISH_FAILED] } : node));
  const failed: GraphNode = {
    key: FINISH_FAILED,
    task: REPLACE_FAILED,
    args: [],
    kwargs: target,
    options: { queue: options.queue },
    immutable: false,
    role: 'errback',
    input: { failureOf: FINISH },
    after: [],
    errbacks: [],
    group: null,
    parent: null,
  };
  return {
    nodes: [...nodes, finishNode(target, options, inputOf(graph.result), leaves, graph.result), failed],
    groups: graph.groups,
    edges: [...graph.edges, ...leaves.map((from) => ({ from, to: FINISH, carries: 'result' as const }))],
    entries: graph.entries,
    result: { node: FINISH },
  };
}

function finishNode(
  target: v.InferOutput<typeof targetSchema>,
  options: { taskId: string; queue: string },
  input: InputRef | null,
  after: readonly string[],
  parent: ResultRef | null = null,
): GraphNode {
  return {
    key: FINISH,
    task: REPLACED,
    args: [],
    kwargs: target,
    options,
    immutable: false,
    role: 'task',
    input,
    after,
    errbacks: input === null ? [] : [FINISH_FAILED],
    group: null,
    parent,
  };
}
