/**
 * How a worker sends the jobs a finished task released, so that a chain hop costs no more round
 * trips in a row than plain BullMQ's (`queue.add`, then `moveToFinished`).
 *
 * A lone successor (a chain step, a chord body) is added on the connection that completes the
 * releasing job, and the job completes without waiting for the add's reply. BullMQ writes the add
 * before `Job.addJob` returns, and Redis runs one connection's commands in the order they came, so
 * the completion (`moveToFinished`, written later on that connection) always runs after the add.
 * A worker killed at any instant leaves the add done, or both undone: then the job is redelivered
 * and finishes its outbox (invariant 2). Waiting for the reply instead would add a round trip to
 * every hop, and BullMQ's fetch loop, woken by the add, would race the completion for the successor.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from 'bullmq';
import { releaseOf, type Dispatcher } from './dispatch.js';
import type { Logger } from './logger.js';
import type { Released } from './store.js';

/** Seconds between attempts to add a successor whose add Redis refused: 1, 2, 4, 8, 16. */
const RETRY_DELAYS = [1, 2, 4, 8, 16];

/** One per worker: sends releases, and retries the lone adds Redis refused after their job completed. */
export class Handoff {
  /** Adds sent and not yet answered (or being retried). */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    /** Aborted by a forced close: retries stop waiting. */
    private readonly signal: AbortSignal,
  ) {}

  /**
   * Adds the lone successor `node`, released by the job `parentId`, on the worker connection
   * `client` that will then complete that job. Returns as soon as the add is written; its reply is
   * awaited in the background, and a refused add is retried from here.
   */
  send(client: RedisClient, workflowId: string, node: Released, parentId: string): void {
    const sentAt = Date.now();
    const answered: Promise<void> = this.dispatcher
      .addOn(client, workflowId, node, parentId, sentAt)
      .then(
        () => {},
        (error: unknown) => this.retry(workflowId, node, parentId, sentAt, error),
      )
      .finally(() => this.pending.delete(answered));
    this.pending.add(answered);
  }

  /** Resolves once every add sent so far has been answered, or given up on. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /**
   * The job that released `node` has completed, so nothing will redeliver it: retry the add from
   * here. The node stays in its workflow's outbox until it ends, so the outbox sweeper (or a
   * retried apply) still enqueues it if every attempt fails.
   */
  private async retry(workflowId: string, node: Released, parentId: string, sentAt: number, error: unknown): Promise<void> {
    const what = `the job of task ${node.spec.id} (${node.spec.task}, workflow ${workflowId})`;
    this.logger.warn(`could not add ${what}; retrying`, error);
    let last = error;
    for (const seconds of RETRY_DELAYS) {
      try {
        await sleep(seconds * 1000, undefined, { signal: this.signal });
      } catch {
        break; // a forced close
      }
      try {
        return await this.dispatcher.send(workflowId, releaseOf([node]), parentId, sentAt);
      } catch (retryError) {
        last = retryError;
      }
    }
    this.logger.error(
      `gave up adding ${what}: it stays in the workflow's outbox, where a worker's outbox sweep finds and enqueues it`,
      last,
    );
  }
}
