/**
 * Settling a node: the one entrance for "record the outcome and release what follows". A first
 * delivery, a redelivered job, BullMQ's own failures, a replaced task's built-in steps, expiry and
 * revocation all come through here, so each outcome is recorded by one script (atomic, at most
 * once per node) and what it released is sent the same way whoever recorded it.
 */
import type { RedisClient } from 'bullmq';
import { DIRECT_RELEASE_LIMIT, releaseOf, releaseOfIndices, type Dispatcher, type Release } from './dispatch.js';
import { encodeError, type TaskState } from './envelope.js';
import { chordFailure, type RemoteError } from './failure.js';
import type { Handoff } from './handoff.js';
import type { LocalOutcomes } from './local-outcomes.js';
import { ScriptStatus } from './script-status.js';
import type { Recorded, WorkflowStore } from './store.js';

/** Which node an outcome belongs to. */
export interface NodeRef {
  readonly workflowId: string;
  readonly index: number;
  /** Task id and name (named in the errors of chord bodies downstream). */
  readonly id: string;
  readonly task: string;
}

/** How to send what a success released. */
export interface SendVia {
  /** The queue of the job that recorded it: release jobs for a huge release go there. */
  readonly queue: string;
  /**
   * A worker's hand-off and the connection its job completes on: a lone successor is added on
   * that connection, ahead of the completion (see handoff.ts).
   */
  readonly handoff?: { readonly handoff: Handoff; readonly client: RedisClient };
}

export class Settler {
  constructor(
    private readonly store: WorkflowStore,
    private readonly dispatcher: Dispatcher,
    /** Where this app's waiters hear of the outcomes recorded here. */
    private readonly local?: LocalOutcomes,
  ) {}

  /** Records a success envelope (see envelope.ts) and sends the successors it released. */
  async success(node: NodeRef, envelope: string, via: SendVia): Promise<Recorded> {
    const recorded = await this.recording(node, envelope, this.store.advance(node.workflowId, node.index, envelope, DIRECT_RELEASE_LIMIT));
    const lone = recorded.releasedIndices === undefined && recorded.released.length === 1 ? recorded.released[0] : undefined;
    // Only one socket orders the add before the completion: a cluster client spreads them over nodes.
    if (lone !== undefined && via.handoff !== undefined && via.handoff.client.isCluster !== true) {
      via.handoff.handoff.send(via.handoff.client, node.workflowId, lone, node.id);
    } else {
      await this.send(node, recorded, via.queue);
    }
    return recorded;
  }

  /**
   * Records a final failure: the node fails with `remote`, chord bodies downstream with a
   * ChordError naming it, everything else downstream with `remote`; its error callbacks are sent.
   */
  async failure(node: NodeRef, remote: RemoteError): Promise<Recorded> {
    const envelope = encodeError('FAILURE', remote);
    const recorded = await this.recording(node, envelope, this.store.fail(node.workflowId, node.index, envelope, encodeError('FAILURE', chordFailure(node, remote))));
    // Error callbacks are few, and go to their own queues: no release job is needed.
    await this.dispatcher.send(node.workflowId, releaseOf(recorded.released), node.id);
    return recorded;
  }

  /** Marks a node RETRY with the error that caused it. Returns the state it had already ended in, if it had. */
  retrying(node: NodeRef, remote: RemoteError): Promise<TaskState | null> {
    return this.store.mark(node.workflowId, node.index, 'RETRY', encodeError('RETRY', remote));
  }

  /** Marks a node STARTED. Returns the state it had already ended in, if it had. */
  started(node: NodeRef): Promise<TaskState | null> {
    return this.store.mark(node.workflowId, node.index, 'STARTED');
  }

  /**
   * Revokes nodes (`'all'`: every unfinished node of the workflow) and everything downstream of
   * them, storing `remote` as their outcome. Returns the indices revoked now.
   */
  revoke(workflowId: string, nodes: readonly number[] | 'all', remote: RemoteError): Promise<number[]> {
    return this.store.revoke(workflowId, nodes, encodeError('REVOKED', remote));
  }

  /**
   * For a redelivered job whose node already ended: sends what its outcome released and is still
   * in the outbox (the earlier delivery may have died before sending it).
   */
  async finishEnded(node: NodeRef, state: TaskState, queue: string): Promise<void> {
    // For a node that already ended, the scripts ignore the envelopes and return its outbox.
    if (state === 'SUCCESS') await this.send(node, await this.store.advance(node.workflowId, node.index, '', DIRECT_RELEASE_LIMIT), queue);
    if (state === 'FAILURE') await this.dispatcher.send(node.workflowId, releaseOf((await this.store.fail(node.workflowId, node.index, '', '')).released), node.id);
  }

  /**
   * Awaits `recording`, the script recording the node's outcome, sent just now: meanwhile this
   * app's waiters take an announcement of the node for this recording's, and are handed the
   * envelope once it is recorded, or told to read when nothing was recorded now (local-outcomes.ts).
   */
  private async recording(node: NodeRef, envelope: string, recording: Promise<Recorded>): Promise<Recorded> {
    const settle = this.local?.recording(node.workflowId, node.index);
    let recorded: Recorded | undefined;
    try {
      return (recorded = await recording);
    } finally {
      settle?.(recorded?.status === ScriptStatus.Recorded ? envelope : undefined);
    }
  }

  private send(node: NodeRef, recorded: Recorded, queue: string): Promise<void> {
    // Most outcomes release nothing (every group member but the last).
    if (recorded.releasedIndices === undefined && recorded.released.length === 0) return Promise.resolve();
    const release: Release =
      recorded.releasedIndices === undefined ? releaseOf(recorded.released) : releaseOfIndices(recorded.releasedIndices, queue);
    return this.dispatcher.send(node.workflowId, release, node.id);
  }
}
