/**
 * One trial: a fresh producer process and a fresh worker process for one system and one workload
 * against a just-flushed private Redis. Every wait is bounded, and the children are killed (by
 * their pid, and only they) when a trial goes wrong, so a benchmark run always ends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SystemName } from './driver.js';
import type { ChildConfig, ChildStats, FromChild, Role, ToChild } from './protocol.js';
import { delta, snapshot, type Admin, type RedisDelta } from './redis-stats.js';

export type { Admin };
import type { Workload } from './workload.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
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
}

export interface TrialResult {
  readonly ms: number;
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

function start(config: ChildConfig): Child {
  const child = fork(CHILD, [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx', '--conditions=@celeriac/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
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
  };
  const worker = start({ ...base, role: 'worker' });
  const producer = start({ ...base, role: 'producer' });
  try {
    await Promise.all([worker.expect('ready', STEP_TIMEOUT_MS), producer.expect('ready', STEP_TIMEOUT_MS)]);
    producer.send({ type: 'warmup' });
    await producer.expect('warmed', STEP_TIMEOUT_MS);
    // Let the last warm-up jobs finish moving to `completed` before counters are reset.
    await new Promise((resolve) => setTimeout(resolve, 100));
    worker.send({ type: 'reset' });
    producer.send({ type: 'reset' });
    await Promise.all([worker.expect('reset-done', STEP_TIMEOUT_MS), producer.expect('reset-done', STEP_TIMEOUT_MS)]);
    const before = await snapshot(admin);
    producer.send({ type: 'run' });
    const { ms } = await producer.expect('done', options.timeoutMs + 5_000);
    const after = await snapshot(admin);
    producer.send({ type: 'stop' });
    worker.send({ type: 'stop' });
    const [producerStats, workerStats] = await Promise.all([
      producer.expect('stats', STEP_TIMEOUT_MS),
      worker.expect('stats', STEP_TIMEOUT_MS),
    ]);
    await Promise.all([producer.end(5_000), worker.end(5_000)]);
    return { ms, producer: producerStats.stats, worker: workerStats.stats, redis: delta(before, after) };
  } finally {
    producer.kill();
    worker.kill();
  }
}
