/**
 * One trial: a fresh producer process and a fresh worker process (or one process for both, in the
 * in-process mode) for one system and one workload against a just-flushed private Redis. Every wait is bounded, and the children are killed (by
 * their pid, and only they) when a trial goes wrong, so a benchmark run always ends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { compileChildren } from './compiled.js';
import type { Mode, SystemName } from './driver.js';
import type { ChildConfig, ChildStats, FromChild, Role, ToChild, TrialProfiles } from './protocol.js';
import { delta, snapshot, type Admin, type RedisDelta } from './redis-stats.js';

export type { Admin };
import type { Workload } from './workload.js';

/** Startup, warm-up and shutdown each get at most this long (the measured run gets the scenario's timeout). */
const STEP_TIMEOUT_MS = 60_000;

export interface TrialOptions {
  readonly system: SystemName;
  readonly workload: Workload;
  readonly redisUrl: string;
  /** The orchestrator's own connection to the private Redis (FLUSHALL, INFO); for a cluster, every master's. */
  readonly admin: Admin;
  readonly timeoutMs: number;
  readonly countRoundTrips: boolean;
  /** Separate producer and worker processes, or both in one. */
  readonly mode: Mode;
  /** Profiles of the measured workload to write, if any. */
  readonly profiles?: TrialProfiles | undefined;
}

export interface TrialResult {
  readonly ms: number;
  /**
   * In one process (`in-process`), `producer` holds that process's stats, and `worker` only its
   * peak RSS (its CPU and requests are the producer's).
   */
  readonly producer: ChildStats;
  readonly worker: ChildStats;
  readonly redis: RedisDelta;
}

/** A child process with a queue of the messages it sent, awaited one by one. */
class Child {
  private readonly inbox: FromChild[] = [];
  private notify: (() => void) | undefined;
  private exited = false;
  private readonly exit: Promise<void>;

  constructor(
    readonly role: Role,
    private readonly process: ChildProcess,
  ) {
    process.on('message', (message: FromChild) => {
      this.inbox.push(message);
      this.notify?.();
    });
    this.exit = new Promise((resolve) =>
      process.once('exit', () => {
        this.exited = true;
        this.notify?.();
        resolve();
      }),
    );
  }

  send(message: ToChild): void {
    if (this.process.connected) this.process.send(message);
  }

  /** The next message, which must be of `type`; rejects on an error report, an exit or a timeout. */
  async expect<T extends FromChild['type']>(type: T, timeoutMs: number): Promise<Extract<FromChild, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.inbox.shift();
      if (message !== undefined) {
        if (message.type === type) return message as Extract<FromChild, { type: T }>;
        if (message.type === 'error') throw new Error(`${this.role} failed: ${message.message}`);
        throw new Error(`${this.role} sent ${message.type} while ${type} was expected`);
      }
      if (this.exited) throw new Error(`${this.role} exited (code ${this.process.exitCode}) while ${type} was expected`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`${this.role} did not send ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.notify = undefined;
    }
  }

  /** Waits for the process to exit on its own, then kills it. */
  async end(graceMs: number): Promise<void> {
    if (this.exited) return;
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.process.kill('SIGKILL');
  }
}

/** The children's entry point, compiled once per benchmark run (compiled.ts says why). */
let childEntry: Promise<string> | undefined;

function start(entry: string, config: ChildConfig): Child {
  // Plain Node, no TypeScript loader: the systems run as npm ships them.
  const child = fork(entry, [JSON.stringify(config)], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Child(config.role, child);
}

export async function runTrial(options: TrialOptions): Promise<TrialResult> {
  const { admin } = options;
  await admin.flushall();
  const base = {
    system: options.system,
    redisUrl: options.redisUrl,
    workload: options.workload,
    timeoutMs: options.timeoutMs,
    countRoundTrips: options.countRoundTrips,
    ...(options.profiles === undefined ? {} : { profiles: options.profiles }),
  };
  const inProcess = options.mode === 'in-process';
  const entry = await (childEntry ??= compileChildren());
  // In one process, the one child plays both parts; `worker` only stands for it.
  const producer = start(entry, { ...base, role: inProcess ? 'both' : 'producer' });
  const worker = inProcess ? producer : start(entry, { ...base, role: 'worker' });
  const children = inProcess ? [producer] : [worker, producer];
  try {
    await Promise.all(children.map((child) => child.expect('ready', STEP_TIMEOUT_MS)));
    producer.send({ type: 'warmup' });
    await producer.expect('warmed', STEP_TIMEOUT_MS);
    // Let the last warm-up jobs finish moving to `completed` before counters are reset.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const child of children) child.send({ type: 'reset' });
    await Promise.all(children.map((child) => child.expect('reset-done', STEP_TIMEOUT_MS)));
    const before = await snapshot(admin);
    producer.send({ type: 'run' });
    const { ms } = await producer.expect('done', options.timeoutMs + 5_000);
    const after = await snapshot(admin);
    for (const child of children) child.send({ type: 'stop' });
    const stats = await Promise.all(children.map((child) => child.expect('stats', STEP_TIMEOUT_MS)));
    await Promise.all(children.map((child) => child.end(5_000)));
    const producerStats = stats[stats.length - 1]!.stats;
    // One process: its CPU and requests are counted once, as the producer's.
    const workerStats = inProcess ? { peakRssBytes: producerStats.peakRssBytes, cpuMicros: 0, roundTrips: null } : stats[0]!.stats;
    return { ms, producer: producerStats, worker: workerStats, redis: delta(before, after) };
  } finally {
    producer.kill();
    worker.kill();
  }
}
