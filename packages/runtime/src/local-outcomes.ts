/**
 * Outcomes this app's own workers record, handed to this app's waiting `get()`s in memory. An app
 * that applies work and runs its own worker (the common Node set-up) then learns a task's outcome
 * the moment its worker has recorded it: no announcement to wait for, and no read after one. The
 * envelope handed over is the one `advance` or `fail` has just recorded (status RECORDED, atomically
 * with the node's state), so it is exactly what Redis holds: nothing a forged message could supply.
 * Nodes recorded by other processes, and the waiters of other apps, go through the announcements.
 */
import { decodeEnvelope, type Envelope } from './envelope.js';

/** Receives a node's final outcome. It must not throw. */
export type OutcomeListener = (envelope: Envelope) => void;

export class LocalOutcomes {
  /** Listeners by `<workflow id> <node index>`, only while someone waits. */
  private readonly listeners = new Map<string, Set<OutcomeListener>>();
  /** Outcomes recorded in this moment, not handed over yet. */
  private due: [key: string, envelope: string][] = [];

  /** Calls `listener` if a worker of this app records the node's final outcome; returns the way to stop. */
  watch(workflowId: string, index: number, listener: OutcomeListener): () => void {
    const key = `${workflowId} ${index}`;
    let forNode = this.listeners.get(key);
    if (forNode === undefined) this.listeners.set(key, (forNode = new Set()));
    forNode.add(listener);
    return () => {
      forNode.delete(listener);
      if (forNode.size === 0 && this.listeners.get(key) === forNode) this.listeners.delete(key);
    };
  }

  /**
   * A worker of this app has just recorded `envelope` as the node's final outcome. Its waiters hear
   * of it once the promises of this moment have run (`process.nextTick`), so the worker first
   * writes the completions of the jobs it finished — and still before the announcement arrives,
   * which would have a waiter read what it is about to be handed.
   */
  recorded(workflowId: string, index: number, envelope: string): void {
    if (this.listeners.size === 0) return;
    const key = `${workflowId} ${index}`;
    if (!this.listeners.has(key)) return;
    if (this.due.length === 0) process.nextTick(() => this.handOver());
    this.due.push([key, envelope]);
  }

  private handOver(): void {
    const due = this.due;
    this.due = [];
    for (const [key, envelope] of due) {
      const forNode = this.listeners.get(key);
      // Each waiter decodes its own copy: a value one caller changes is not another's.
      if (forNode !== undefined) for (const listener of [...forNode]) listener(decodeEnvelope(envelope));
    }
  }
}
