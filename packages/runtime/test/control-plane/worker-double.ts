/**
 * A test double of the worker for the control plane: an in-memory implementation of
 * `ControlTarget`, so tests can drive the command table and check what each command changed.
 * It stands in for the worker (which the lead wires later); Redis in the integration tests is real.
 */
import type { ControlTarget, ScheduledTaskInfo, TaskRequestInfo, TimeLimits, WorkerCounts } from '../../src/control-plane/index.js';

export class WorkerDouble implements ControlTarget {
  readonly tasks: string[];
  readonly running = new Map<string, TaskRequestInfo>();
  readonly waiting: TaskRequestInfo[] = [];
  readonly delayed: ScheduledTaskInfo[] = [];
  readonly revokedIds = new Set<string>();
  readonly terminated: string[] = [];
  readonly consumed: Set<string>;
  readonly rateLimits = new Map<string, string | null>();
  readonly timeLimits = new Map<string, TimeLimits>();
  concurrency: number;
  shutdownCalls = 0;
  readonly startedAt = Date.now() - 5_000;
  readonly processed: Record<string, number> = { add: 3 };
  readonly failed: Record<string, number> = { add: 1 };

  constructor(
    readonly name: string,
    options: { tasks?: string[]; queues?: string[]; concurrency?: number } = {},
  ) {
    this.tasks = options.tasks ?? ['add', 'mul'];
    this.consumed = new Set(options.queues ?? ['default']);
    this.concurrency = options.concurrency ?? 2;
  }

  /** Pretends a task is running. */
  run(id: string, name = 'add', args: unknown[] = [2, 2]): TaskRequestInfo {
    const request: TaskRequestInfo = { id, name, args, kwargs: {}, queue: 'default', retries: 0, started: Date.now(), workerPid: process.pid };
    this.running.set(id, request);
    return request;
  }

  registered(): readonly string[] {
    return [...this.tasks].sort();
  }
  active(): readonly TaskRequestInfo[] {
    return [...this.running.values()];
  }
  async reserved(): Promise<readonly TaskRequestInfo[]> {
    return this.waiting;
  }
  async scheduled(): Promise<readonly ScheduledTaskInfo[]> {
    return this.delayed;
  }
  revoked(): readonly string[] {
    return [...this.revokedIds];
  }
  stats(): WorkerCounts {
    return { startedAt: this.startedAt, pool: { kind: 'async', maxConcurrency: this.concurrency, processes: [] }, processed: this.processed, failed: this.failed };
  }
  queues(): readonly string[] {
    return [...this.consumed];
  }
  addConsumer(queue: string): boolean {
    if (this.consumed.has(queue)) return false;
    this.consumed.add(queue);
    return true;
  }
  async cancelConsumer(queue: string): Promise<boolean> {
    return this.consumed.delete(queue);
  }
  setRateLimit(task: string, rate: string | null): void {
    this.rateLimits.set(task, rate);
  }
  setTimeLimit(task: string, limits: TimeLimits): void {
    this.timeLimits.set(task, limits);
  }
  poolGrow(n: number): void {
    this.concurrency += n;
  }
  poolShrink(n: number): void {
    if (this.concurrency - n < 1) throw new RangeError(`cannot shrink the pool of ${this.name} below 1 (it runs ${this.concurrency})`);
    this.concurrency -= n;
  }
  revoke(ids: readonly string[], terminate: boolean): void {
    for (const id of ids) {
      this.revokedIds.add(id);
      if (terminate && this.running.delete(id)) this.terminated.push(id);
    }
  }
  shutdown(): void {
    this.shutdownCalls++;
  }
}
