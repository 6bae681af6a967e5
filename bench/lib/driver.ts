/**
 * The two halves every benchmarked system implements: a producer that starts a workload and waits
 * for its results, and a worker that executes its tasks. Each half runs in its own process
 * (bench/lib/child.ts), so peak memory is measured per role — or both run in one process, as an
 * app that applies work and runs its own workers does (`--in-process`).
 */
import type { Workload } from './workload.js';

/** The systems compared. */
export type SystemName = 'celeriac' | 'bullmq';

export const SYSTEMS: readonly SystemName[] = ['celeriac', 'bullmq'];

/** Every worker runs this many jobs at once (issue 5: "bulk-added, concurrency 50"). */
export const WORKER_CONCURRENCY = 50;

/** The producer half. */
export interface Producer {
  /** Starts `workload`, waits for every result and checks the values; throws when one is wrong. */
  run(workload: Workload, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The worker half. */
export interface Consumer {
  close(): Promise<void>;
}

/** How a trial's workers are set up. */
export interface WorkerSettings {
  /** Record task events (Celeriac's `taskEvents`, Celery's `-E`); other systems ignore it. */
  readonly taskEvents: boolean;
}

/** How a system's halves are created. */
export interface System {
  producer(redisUrl: string): Promise<Producer>;
  consumer(redisUrl: string, settings: WorkerSettings): Promise<Consumer>;
  /** Both halves in one process, sharing what an app would share; `close` closes both. */
  inProcess(redisUrl: string, settings: WorkerSettings): Promise<Producer>;
}

/** Where the producer and the worker run: in two processes, or together in one. */
export type Mode = 'processes' | 'in-process';

export const MODES: readonly Mode[] = ['processes', 'in-process'];
