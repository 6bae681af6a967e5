/**
 * Applying small workflows on one Redis server: a new workflow's plan, then its entry jobs, sent
 * without waiting for Redis in between. Redis runs one connection's commands in order, so a worker
 * can fetch an entry only once its plan is in place, and an apply costs one round trip, as a bare
 * BullMQ `add` does.
 *
 * The applies made in the same moment — one turn of the event loop, such as a burst of 1 000
 * `delay`s — share one request for their plans (`create-whole-n.lua`, each plan created
 * atomically), written before any of their adds: one command per plan cost the producer about as
 * much CPU as the add beside it, and Redis a script call each (bench/README.md, "Round two,
 * continued (13)"). A crash between the plans and the adds leaves what a crash after a plan always
 * left: the entries in the outbox, which the workers' outbox sweep enqueues (outbox-sweeper.ts).
 */
import type { Dispatcher } from './dispatch.js';
import type { WorkflowPlan } from './plan.js';
import type { Released, WholePlan, WorkflowStore } from './store.js';
import { TickBatcher } from './tick-batch.js';

/**
 * Plans per `create-whole-n.lua` call at most. A plan has up to 100 nodes, and Redis runs nothing
 * else while a script runs, so no call may take long.
 */
const PLANS_PER_CALL = 50;

interface Launch {
  readonly workflowId: string;
  readonly whole: WholePlan;
  readonly entries: readonly Released[];
}

export class Launcher {
  private readonly launches = new TickBatcher<Launch, Error | undefined, void>(
    (_key, launches) => this.send(launches),
    (_launch, reply) => {
      if (reply instanceof Error) throw reply;
    },
    PLANS_PER_CALL,
  );

  constructor(
    private readonly store: WorkflowStore,
    private readonly dispatcher: Dispatcher,
  ) {}

  /**
   * Writes `plan`, whose id was generated and which fits whole (`store.fitsWhole`), and adds
   * `entries`, its entry nodes, behind it. A generated id is new, so a workflow found with it is
   * this plan, written already by a request that ioredis sent again after its connection dropped
   * before the reply: it is left as it is, and the adds find their jobs (same ids). Throws before
   * anything is sent when a node's arguments are too large.
   */
  launch(plan: WorkflowPlan, entries: readonly Released[]): Promise<void> {
    const launch: Launch = { workflowId: plan.meta.id, whole: this.store.encodeWhole(plan), entries };
    const opening = this.dispatcher.openQueuesOf(entries);
    return opening === undefined ? this.launches.add('', launch) : opening.then(() => this.launches.add('', launch));
  }

  /** One batch: its plans in one request, then every entry's add, all written before any reply. */
  private async send(launches: readonly Launch[]): Promise<(Error | undefined)[]> {
    const created = this.store.writeWhole(launches.map((launch) => launch.whole));
    const sentAt = Date.now();
    const added = launches.map(({ workflowId, entries }) => this.dispatcher.addEntries(workflowId, entries, sentAt));
    // An error of the plans' request fails every apply of the batch; a refused add, its own.
    const [, adds] = await Promise.all([created, Promise.allSettled(added)]);
    return adds.map((add) => (add.status === 'rejected' ? asError(add.reason) : undefined));
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
