/**
 * The outbox sweeper: DESIGN §4's "whoever finds a non-empty outbox finishes it", for the outboxes
 * no one else will look at again.
 *
 * A released node stays in its workflow's outbox until it ends, and its job is added only after
 * the release is recorded. Whoever released it adds the job, and a redelivered job finishes what
 * its first delivery released; but some releases have no one left to finish them: a producer that
 * died inside `apply` (with a generated id, no caller can apply it again), a release job or a lone
 * successor's add given up after its retries, and on a Redis Cluster an add that a queue's master
 * acknowledged and then lost in an unplanned failover. Such a node would wait until its workflow
 * expires, and every `get()` on it with it.
 *
 * So every worker, every `outboxSweepInterval`, tries to take the app's sweeping turn (a key set
 * with NX that lasts the interval: one pass per interval across all the app's workers). The one
 * that takes it looks for released nodes with no job: in an outbox, no job under the node's id in
 * its queue (or only a finished one, stale: left by an earlier workflow with the same ids), not a
 * task that replaced itself (its replacement ends it), no release job of its workflow still to run. A process may be adding exactly those jobs at that moment, so it looks
 * twice, half an interval apart, and enqueues what both looks found, through the dispatcher under
 * the nodes' own job ids: an add that lands after all is a no-op. Nothing here records an outcome,
 * so exactly-once advancement stays with the scripts; a wrong guess costs one more run of a task,
 * which at-least-once allows.
 *
 * A pass costs the same whatever Redis holds: it SCANs about {@link SCAN_PER_PASS} keys per server
 * (every master of a cluster) from where the last pass stopped, one SCARD per outbox met, and
 * reads specs and checks jobs for about {@link SWEEP_BUDGET} released nodes at most.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isConnectionError } from './connection.js';
import { ConnectionError } from './errors.js';
import { queueOf, releaseOf, type Dispatcher } from './dispatch.js';
import type { Logger, RateLimitedLog } from './logger.js';
import type { NodeSpec } from './plan.js';
import { replacementOf } from './replace.js';
import type { ScanCursors } from './scan.js';
import type { WorkflowStore } from './store.js';

/** Default `outboxSweepInterval`: a lost node runs within about one and a half minutes. */
export const DEFAULT_SWEEP_INTERVAL = 60_000;
/** Nodes read and checked per request. */
const SWEEP_SLICE = 1_000;
/**
 * Released nodes a pass checks, about, at most. Past it (a backlog of queued workflows), each
 * workflow's nodes are sampled, in the share the last pass's count gives, so that a pass costs
 * about the same whatever the backlog, and a lost node is found within a few passes instead of one;
 * and a pass that finds more than twice as many as the last one counted stops checking there.
 */
export const SWEEP_BUDGET = 50_000;
/**
 * Keys a pass looks at, about, on each server: the scan of the outboxes goes on where the last pass
 * left it, so a pass costs the same however many workflows Redis keeps, and a keyspace of N keys is
 * covered every N / 100 000 passes.
 */
export const SCAN_PER_PASS = 100_000;
/** Keys per SCAN call. */
const SCAN_COUNT = 1_000;

/** What a sweeper needs from its worker. */
export interface SweeperContext {
  readonly store: WorkflowStore;
  readonly dispatcher: Dispatcher;
  /** The app's key prefix. */
  readonly prefix: string;
  /** The worker's name: who holds the turn, and what its log lines say. */
  readonly name: string;
  readonly logger: Logger;
  /** Where a failed pass is reported (Redis may be down: once per window). */
  readonly log: RateLimitedLog;
  /** The error a user can act on for what a Redis operation failed with (the worker's `translate`). */
  translate(error: unknown): unknown;
}

export class OutboxSweeper {
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private readonly stop = new AbortController();

  /**
   * @param every - ms between passes; half of it between a pass's two looks
   * @param limits - released nodes a pass checks, about, at most; keys it looks at on each server
   */
  constructor(
    private readonly context: SweeperContext,
    private readonly every: number,
    private readonly limits: { readonly budget: number; readonly scan: number } = { budget: SWEEP_BUDGET, scan: SCAN_PER_PASS },
  ) {}

  /** Sweeps every interval (give or take a tenth, so workers started together do not race) until closed. */
  start(): void {
    if (this.stop.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.pass = this.sweep().then(
        () => this.next(),
        (error: unknown) => {
          // An outage is reported once by the app's connection watch; anything else here (a missing
          // permission, named).
          const problem = this.context.translate(error);
          if (!this.stop.signal.aborted && !(problem instanceof ConnectionError) && !isConnectionError(error)) {
            this.context.log.error('sweep', `worker ${this.context.name}: an outbox sweep failed: ${(problem as Error).message}`, problem);
          }
          this.next();
        },
      );
    }, this.every * (0.9 + Math.random() * 0.2));
    this.timer.unref();
  }

  private next(): void {
    this.pass = undefined;
    this.start();
  }

  /** Stops sweeping; a pass under way stops at its next step. */
  async close(): Promise<void> {
    this.stop.abort();
    clearTimeout(this.timer);
    await this.pass;
  }

  /**
   * One pass, when this worker takes the turn: finds released nodes without a job, waits half an
   * interval, and enqueues those still without one. Resolves to the number enqueued (0 when
   * another worker had the turn). Called by the timer; tests call it directly.
   */
  async sweep(): Promise<number> {
    const { store, name, logger } = this.context;
    const progress = await store.takeSweepTurn(name, this.every);
    if (progress === null) return 0;
    const { cursors } = progress;
    const { suspects, counted, checked } = await this.suspects(progress.counted, cursors);
    let enqueued = 0;
    if (suspects.size > 0) {
      // Whoever released them may be adding them now: it gets half an interval to do so.
      await sleep(this.every / 2, undefined, { signal: this.stop.signal, ref: false }).catch(() => {});
      for (const [workflowId, indices] of suspects) enqueued += await this.enqueue(workflowId, indices);
    }
    if (!this.stop.signal.aborted) await store.endSweepTurn({ counted, cursors });
    logger.debug(
      `worker ${name}: swept the outboxes: ${checked} of ${counted} released task(s) checked, ` +
        `${suspects.size} workflow(s) with released tasks that had no job, ${enqueued} task(s) enqueued`,
    );
    return enqueued;
  }

  /**
   * The first look: by workflow, the indices of its released nodes that have no job; and how many
   * released nodes the pass counted and checked. Past the budget, nodes are sampled (see
   * {@link SWEEP_BUDGET}).
   */
  private async suspects(
    lastCounted: number,
    cursors: ScanCursors,
  ): Promise<{ suspects: Map<string, number[]>; counted: number; checked: number }> {
    const { store } = this.context;
    const { budget, scan } = this.limits;
    const suspects = new Map<string, number[]>();
    const share = lastCounted > budget ? budget / lastCounted : 1;
    let counted = 0;
    let checked = 0;
    const count = Math.min(SCAN_COUNT, scan);
    for await (const page of store.withOutboxes(cursors, Math.ceil(scan / count), count)) {
      if (this.stop.signal.aborted) return { suspects: new Map(), counted, checked };
      // Each workflow's whole outbox, or a sample of it: `released * share` nodes, rounded up or
      // down at random, and no more than is left of twice the budget. Read for the whole page at once.
      const picks: { id: string; count: number | undefined }[] = [];
      let picked = 0;
      for (const { id, released } of page) {
        counted += released;
        const wanted = share === 1 ? released : Math.floor(released * share + Math.random());
        const sample = Math.min(wanted, 2 * budget - checked - picked);
        if (sample <= 0) continue;
        picks.push({ id, count: sample === released ? undefined : sample });
        picked += sample;
      }
      const indicesOf = await store.outboxIndicesOf(picks);
      const specsOf = await store.specsOf(picks.map(({ id }, k) => ({ id, indices: indicesOf[k]! })));
      const nodes = picks.flatMap(({ id }, k) => indicesOf[k]!.flatMap((index, j) => (specsOf[k]![j] ? [{ workflowId: id, index, spec: specsOf[k]![j] }] : [])));
      checked += nodes.length;
      for (const { workflowId, index } of await this.unqueued(nodes)) {
        const lost = suspects.get(workflowId);
        if (lost === undefined) suspects.set(workflowId, [index]);
        else lost.push(index);
      }
    }
    for (const workflowId of suspects.keys()) {
      if (await this.hasReleaseJobToRun(workflowId)) suspects.delete(workflowId);
    }
    return { suspects, counted, checked };
  }

  /** The second look at one workflow's suspects: enqueues those still released and still without a job. */
  private async enqueue(workflowId: string, indices: readonly number[]): Promise<number> {
    if (this.stop.signal.aborted || (await this.hasReleaseJobToRun(workflowId))) return 0;
    let count = 0;
    for (let from = 0; from < indices.length; from += SWEEP_SLICE) {
      const lost = await this.unqueued(await this.context.store.outbox(workflowId, indices.slice(from, from + SWEEP_SLICE)));
      if (lost.length === 0) continue;
      // A stale finished job would make the add a no-op; a job a worker took meanwhile stays.
      await Promise.all(lost.map(({ spec }) => this.context.dispatcher.remove(queueOf(spec), spec.id)));
      await this.context.dispatcher.send(workflowId, releaseOf(lost), null);
      count += lost.length;
    }
    if (count > 0) {
      this.context.logger.warn(
        `worker ${this.context.name}: enqueued ${count} task(s) of workflow ${workflowId} that were released but had no job to run for ${this.every / 2} ms ` +
          '(a process died, or gave up, between recording their release and adding their jobs; or a finished job of an earlier workflow with the same ids was in the way)',
      );
    }
    return count;
  }

  /**
   * The nodes among `nodes` whose job will not run (none, or a stale one), but for a replaced task
   * waiting for its replacement. Checked {@link SWEEP_SLICE} at a time, each slice in one request.
   */
  private async unqueued<TNode extends { readonly spec: NodeSpec }>(nodes: readonly TNode[]): Promise<TNode[]> {
    const { store, dispatcher } = this.context;
    const unqueued: TNode[] = [];
    for (let from = 0; from < nodes.length; from += SWEEP_SLICE) {
      const jobless = await dispatcher.withoutLiveJobs(nodes.slice(from, from + SWEEP_SLICE));
      const replaced = await store.existing(jobless.map(({ spec }) => replacementOf(spec.id)));
      for (const [k, node] of jobless.entries()) if (!replaced[k]) unqueued.push(node);
    }
    return unqueued;
  }

  /** Whether a release job sent for the workflow is still to run. */
  private async hasReleaseJobToRun(workflowId: string): Promise<boolean> {
    const jobs = await this.context.store.releaseJobs(workflowId);
    return jobs.length > 0 && this.context.dispatcher.hasReleaseJobToRun(jobs);
  }
}
