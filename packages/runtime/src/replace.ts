/**
 * `ctx.replace(canvas)` (Celery's `Task.replace`): the canvas runs as a workflow of its own whose
 * last step is a built-in one that records the replacement's result as the replaced node's — or,
 * through an error callback on every step, its failure.
 *
 * The built-in steps are the only jobs whose target lies outside their own workflow, so they are
 * bound to the plan: a step reads its target from the spec the runtime stored when it applied the
 * replacement (never from the job), checks that the job is the one that spec describes, and takes
 * the value it records from the stored results of its predecessors (never from the job's args).
 * Task names starting with `celeriac.` cannot enter a user's canvas, so no user can create such a
 * spec; a job forged by hand is refused and changes nothing.
 */
import { parseCanvas, type Canvas, type Signature, type TaskOptions } from '@celeriac/canvas';
import * as v from 'valibot';
import { encodeSuccess } from './envelope.js';
import { InvalidJobError } from './errors.js';
import type { Outcome } from './execute.js';
import { incomingValue, type TaskJob } from './job-data.js';
import { locate } from './lookup.js';
import { inputIndices, type NodeSpec } from './plan.js';
import type { NodeRef, Settler } from './settle.js';
import type { WorkflowStore } from './store.js';

/** The step that records a replacement's result as the replaced node's. */
export const REPLACED = 'celeriac.replaced';
/** The error callback that records a replacement's failure as the replaced node's. */
export const REPLACE_FAILED = 'celeriac.replace_failed';

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
    /** Applies a canvas the runtime built (it may hold the built-in steps). */
    private readonly launch: (canvas: Canvas) => Promise<void>,
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
    const parsed = parseCanvas(canvas);
    const target = { w: job.workflowId, i: job.index, id: job.id, task: job.task };
    const finish = builtin(REPLACED, target, { taskId: `${job.id}.replaced`, queue });
    const onError = builtin(REPLACE_FAILED, target, { queue });
    // Plain data, not the builders: they refuse reserved task names, as they must for users.
    await this.launch({ kind: 'chain', tasks: [parsed, finish], options: { linkError: [onError] } });
  }

  /**
   * Runs a built-in step. Throws {@link RefusedJobError} when the job is not the one its stored
   * spec describes, or its input is not there yet.
   */
  async run(job: TaskJob, queue: string): Promise<Outcome> {
    const [spec] = await this.store.specs(job.workflowId, [job.index]);
    if (spec === null || spec === undefined) throw new RefusedJobError(job, 'its workflow has no such node');
    if (spec.task !== job.task || spec.id !== job.id) throw new RefusedJobError(job, 'it does not match the node its workflow stored');
    const parsed = v.safeParse(targetSchema, spec.kwargs);
    if (!parsed.success) throw new RefusedJobError(job, 'its stored target is malformed');
    const { w, i, id, task } = parsed.output;
    const target: NodeRef = { workflowId: w, index: i, id, task };

    if (job.task === REPLACED) {
      const value = await this.storedInput(job, spec);
      await this.settler.success(target, encodeSuccess(value), { queue });
      return { kind: 'success', value };
    }
    const failedId = spec.input !== null && 'f' in spec.input ? spec.input.f : undefined;
    if (failedId === undefined) throw new RefusedJobError(job, 'its stored spec names no failed task');
    const { meta, ref } = await locate(this.store, failedId);
    const [envelope] = 'n' in ref && meta.id === job.workflowId ? await this.store.envelopes(meta.id, [ref.n]) : [];
    if (envelope === null || envelope === undefined || envelope.state === 'SUCCESS' || envelope.state === 'RETRY') {
      throw new RefusedJobError(job, `task ${failedId} of its workflow has not failed`);
    }
    await this.settler.failure(target, envelope.error);
    return { kind: 'success', value: null };
  }

  /** The value a step receives, read from its predecessors' stored results. */
  private async storedInput(job: TaskJob, spec: NodeSpec): Promise<unknown> {
    if (spec.input === null) throw new RefusedJobError(job, 'its stored spec takes no input');
    const envelopes = await this.store.envelopes(job.workflowId, inputIndices(spec.input));
    const values = envelopes.map((envelope) => {
      if (envelope?.state !== 'SUCCESS') throw new RefusedJobError(job, 'its replacement has not finished');
      return envelope.value;
    });
    return incomingValue(spec.input, spec, values);
  }
}

function builtin(task: string, target: v.InferOutput<typeof targetSchema>, options: TaskOptions): Signature {
  return { kind: 'signature', task, args: [], kwargs: target, options, immutable: false };
}
