/**
 * Outcomes this app's own workers record, handed to this app's waiting `get()`s in memory. An app
 * that applies work and runs its own worker (the common Node set-up) then learns a task's outcome
 * the moment its worker has recorded it: no announcement to wait for, and no read after one. The
 * envelope handed over is the one `advance` or `fail` has just recorded (status RECORDED, atomically
 * with the node's state), so it is exactly what Redis holds: nothing a forged message could supply.
 * Nodes recorded by other processes, and the waiters of other apps, go through the announcements;
 * an announcement of a node this app's worker is recording waits for the hand-over instead.
 */
import { decodeEnvelope, type Envelope } from './envelope.js';
import { ValuesByKey } from './values-by-key.js';

/** A waiter of one node (wait.ts's `Wait`), told of its outcome. */
export interface OutcomeWatcher {
  /**
   * Receives the node's final outcome, or undefined when this app's worker, which was recording it,
   * recorded nothing after all (a duplicate delivery, an error): the waiter reads it from Redis. It
   * must not throw.
   */
  handed(envelope: Envelope | undefined): void;
}

export class LocalOutcomes {
  /** Watchers by `<workflow id> <node index>`, only while someone waits. */
  private readonly watchers = new ValuesByKey<string, OutcomeWatcher>();
  /** Outcomes settled in this moment, not handed over yet (undefined: nothing recorded here). */
  private due: [key: string, envelope: string | undefined][] = [];
  /** Nodes whose outcome this app's workers are recording now, with how many recordings are under way. */
  private readonly inFlight = new Map<string, number>();
  private workers = false;

  /**
   * Whether a worker of this app was started in this process: before that, nothing can be handed
   * over, and a waiting `get()` watches for nothing (an app that only applies work holds no watch
   * per wait).
   */
  get active(): boolean {
    return this.workers;
  }

  /** A worker of this app starts in this process: from now on, waits watch for its outcomes. */
  activate(): void {
    this.workers = true;
  }

  /** Tells `watcher` if a worker of this app records the node's final outcome, until {@link unwatch}. */
  watch(workflowId: string, index: number, watcher: OutcomeWatcher): void {
    this.watchers.add(`${workflowId} ${index}`, watcher);
  }

  /** Stops telling `watcher` about the node; calling it again is harmless. */
  unwatch(workflowId: string, index: number, watcher: OutcomeWatcher): void {
    this.watchers.delete(`${workflowId} ${index}`, watcher);
  }

  /**
   * A worker of this app starts recording the node's final outcome. Until the returned `settle`
   * is called, an announcement of the node is this recording's (or a duplicate delivery's): the
   * announcement travels on the subscriber's connection and the script's reply on the worker's,
   * and Node may read either first, so a waiter that read on the announcement would read what it
   * is about to be handed ({@link isRecording}). `settle(envelope)` hands over the envelope
   * recorded now; `settle(undefined)` tells the waiters to read.
   */
  recording(workflowId: string, index: number): (recorded: string | undefined) => void {
    const key = `${workflowId} ${index}`;
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    return (recorded) => {
      const left = this.inFlight.get(key)! - 1;
      if (left === 0) this.inFlight.delete(key);
      else this.inFlight.set(key, left);
      this.settled(key, recorded);
    };
  }

  /** Whether a worker of this app is recording the node's outcome now (see {@link recording}). */
  isRecording(workflowId: string, index: number): boolean {
    return this.inFlight.size > 0 && this.inFlight.has(`${workflowId} ${index}`);
  }

  /**
   * A recording has ended, with the envelope recorded, or none. Its waiters hear of it once the
   * promises of this moment have run (`process.nextTick`), so the worker first writes the
   * completions of the jobs it finished.
   */
  private settled(key: string, recorded: string | undefined): void {
    if (!this.watchers.has(key)) return;
    if (this.due.length === 0) process.nextTick(() => this.handOver());
    this.due.push([key, recorded]);
  }

  private handOver(): void {
    const due = this.due;
    this.due = [];
    for (const [key, recorded] of due) {
      // Each waiter decodes its own copy: a value one caller changes is not another's.
      for (const watcher of this.watchers.get(key)) watcher.handed(recorded === undefined ? undefined : decodeEnvelope(recorded));
    }
  }
}
