/**
 * Revocation. A revoke is recorded in Redis first (so a worker that restarts, or takes the job
 * later, skips it), then announced to every worker through the control plane's `revoke` command,
 * so the workers holding a revoked task drop it, and abort it when asked to terminate.
 */
import type { RemoteControl } from './control-plane/index.js';
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

/** Revoked ids announced per control command. */
const ANNOUNCE_SLICE = 10_000;

/** Revokes results by their place in a workflow. */
export class Revoker {
  constructor(
    private readonly store: WorkflowStore,
    private readonly settler: Settler,
    private readonly dispatcher: Dispatcher,
    private readonly control: RemoteControl,
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
    // In slices, so each announcement stays well under a command's size limit (1 MiB).
    for (let from = 0; from < ids.length; from += ANNOUNCE_SLICE) {
      await this.control.revoke(ids.slice(from, from + ANNOUNCE_SLICE), { terminate: options.terminate === true, reply: false });
    }
    return ids;
  }
}
