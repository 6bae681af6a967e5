/**
 * Messages between the orchestrator (bench/run.ts) and its child processes (bench/lib/child.ts)
 * over Node's IPC channel. One trial: both children say `ready`; the producer runs the warm-up;
 * the orchestrator resets every counter and snapshots Redis; the producer runs the measured
 * workload; both children report their stats and exit.
 */
import type { SystemName } from './driver.js';
import type { RoundTripCounts } from './roundtrips.js';
import type { Workload } from './workload.js';

/** `both`: the producer and the worker in one process (`--in-process`). */
export type Role = 'producer' | 'worker' | 'both';

/** Passed to a child as JSON in its only argument. */
export interface ChildConfig {
  readonly role: Role;
  readonly system: SystemName;
  readonly redisUrl: string;
  readonly workload: Workload;
  readonly timeoutMs: number;
  /** Count client round trips (profile mode). */
  readonly countRoundTrips: boolean;
  /** Profiles of the measured workload to write (`--cpu-prof`, `--heap-prof`); see child.ts. */
  readonly profiles?: TrialProfiles;
}

/** What to profile in a trial's measured workload, and where the files go. */
export interface TrialProfiles {
  readonly dir: string;
  /** A V8 CPU profile, `<system>-<role>-<pid>.cpuprofile`. */
  readonly cpu: boolean;
  /** V8's sampled allocations, garbage included, `<system>-<role>-<pid>.heapprofile`. */
  readonly heap: boolean;
}

export type ToChild =
  | { readonly type: 'warmup' }
  | { readonly type: 'reset' }
  | { readonly type: 'run' }
  | { readonly type: 'stop' };

export interface ChildStats {
  readonly peakRssBytes: number;
  /** CPU time of this process since the last reset, in microseconds. */
  readonly cpuMicros: number;
  readonly roundTrips: RoundTripCounts | null;
}

export type FromChild =
  | { readonly type: 'ready' }
  | { readonly type: 'warmed' }
  | { readonly type: 'reset-done' }
  | { readonly type: 'done'; readonly ms: number }
  | { readonly type: 'stats'; readonly stats: ChildStats }
  | { readonly type: 'error'; readonly message: string };
