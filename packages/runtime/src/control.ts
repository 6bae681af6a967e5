/**
 * Remote control of running work: revocation. A revoke is recorded in Redis first (so a worker
 * that restarts, or takes the job later, skips it), then announced on the control channel so the
 * workers running a revoked task can abort it when asked to terminate.
 */
import type { Redis } from 'ioredis';
import { queueOf, type Dispatcher } from './dispatch.js';
import { encodeError } from './envelope.js';
import { leavesOf, nodeId, type ResultIndex, type WorkflowMeta } from './plan.js';
import type { WorkflowStore } from './store.js';
import type { ControlMessage } from './worker.js';

/** Options of `revoke`. */
export interface RevokeOptions {
  /** Also abort the task if it is running now: its handler's AbortSignal fires. Default false. */
  readonly terminate?: boolean;
}

export class Control {
  constructor(
    private readonly store: WorkflowStore,
    private readonly publisher: Redis,
    private readonly dispatcher: Dispatcher,
    /** Channel every worker listens to. */
    readonly channel: string,
  ) {}

  /**
   * Revokes a result: the workflow's own result revokes every unfinished node of the workflow;
   * any other result revokes its node(s) and everything downstream. Returns the revoked task ids.
   */
  async revoke(meta: WorkflowMeta, ref: ResultIndex, options: RevokeOptions = {}): Promise<string[]> {
    const whole = 'n' in ref ? 'n' in meta.result && meta.result.n === ref.n : 'g' in meta.result && meta.result.g === ref.g;
    const target = 'n' in ref ? { id: nodeId(meta, ref.n), task: meta.nodes[ref.n]!.task } : { id: meta.groups[ref.g]!.id, task: 'group' };
    const envelope = encodeError('REVOKED', {
      name: 'RevokedError',
      code: 'REVOKED',
      message: `Task was revoked (revoke of ${target.id})`,
      task: target.task,
      id: target.id,
    });
    const nodes = whole ? 'all' : leavesOf(meta, ref);
    const revoked = await this.store.revoke(meta.id, nodes, envelope);
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
