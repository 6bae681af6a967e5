/**
 * Remote control of running work: revocation, and the control messages workers receive. A revoke
 * is recorded in Redis first (so a worker that restarts, or takes the job later, skips it), then
 * announced on the control channel so the workers running a revoked task can abort it when asked
 * to terminate. Control messages are read from a channel anyone with access to Redis can publish
 * on: each is validated, and a malformed one is dropped.
 */
import type { Redis } from 'ioredis';
import * as v from 'valibot';
import { queueOf, type Dispatcher } from './dispatch.js';
import { revokedFailure } from './failure.js';
import { leavesOf, nodeId, type ResultIndex, type WorkflowMeta } from './plan.js';
import type { Settler } from './settle.js';
import type { WorkflowStore } from './store.js';

/** Options of `revoke`. */
export interface RevokeOptions {
  /** Also abort the task if it is running now: its handler's AbortSignal fires. Default false. */
  readonly terminate?: boolean | undefined;
}

const controlSchema = v.object({
  type: v.literal('revoke'),
  ids: v.pipe(v.array(v.string()), v.maxLength(1_000_000)),
  terminate: v.boolean(),
});

/** A message to every worker: today, which task ids were revoked. */
export type ControlMessage = v.InferOutput<typeof controlSchema>;

/** Reads a control message; `null` when it is not one (garbage, another version, a hostile publisher). */
export function parseControlMessage(text: string): ControlMessage | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = v.safeParse(controlSchema, raw);
  return parsed.success ? parsed.output : null;
}

/** Revokes results by their place in a workflow. */
export class Revoker {
  constructor(
    private readonly store: WorkflowStore,
    private readonly settler: Settler,
    private readonly publisher: Redis,
    private readonly dispatcher: Dispatcher,
    /** Channel every worker listens to. */
    private readonly channel: string,
  ) {}

  /**
   * Revokes a result: the workflow's own result revokes every unfinished node of the workflow;
   * any other result revokes its node(s) and everything downstream. Returns the revoked task ids.
   */
  async revoke(meta: WorkflowMeta, ref: ResultIndex, options: RevokeOptions = {}): Promise<string[]> {
    const whole = 'n' in ref ? 'n' in meta.result && meta.result.n === ref.n : 'g' in meta.result && meta.result.g === ref.g;
    const target = 'n' in ref ? { id: nodeId(meta, ref.n), task: meta.nodes[ref.n]!.task } : { id: meta.groups[ref.g]!.id, task: 'group' };
    const revoked = await this.settler.revoke(meta.id, whole ? 'all' : leavesOf(meta, ref), revokedFailure(target));
    if (revoked.length === 0) return [];
    const ids = revoked.map((index) => nodeId(meta, index));
    // Jobs still waiting are removed, so no worker — not even one started later — takes them;
    // the announcement covers jobs a worker already fetched, and running ones with `terminate`.
    const specs = await this.store.specs(meta.id, revoked);
    await Promise.all(specs.map((spec) => (spec === null ? undefined : this.dispatcher.remove(queueOf(spec), spec.id))));
    const message: ControlMessage = { type: 'revoke', ids, terminate: options.terminate === true };
    await this.publisher.publish(this.channel, JSON.stringify(message));
    return ids;
  }
}
