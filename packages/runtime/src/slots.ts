/**
 * A worker's task slots: at most `size` tasks run at once, across all the queues it consumes.
 *
 * A task given a free slot starts at once, in the caller's turn. That is why this is not p-limit,
 * which starts even an unqueued task a few microtasks later: in that gap BullMQ's fetch loop asks
 * Redis for another job, on the connection the task's hand-off then writes on, so a chain hop sent
 * about 1.6 `moveToActive` calls instead of 1.0, one of them often ahead of the hop's own add.
 */
export class Slots {
  private active = 0;
  /** Tasks waiting for a slot, oldest first: each is woken holding the slot it was given. */
  private readonly waiters: (() => void)[] = [];

  constructor(private size: number) {}

  /** Runs `task` in a slot: at once when one is free, else when one frees up, in the order asked. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.size) {
      this.active++;
      return this.hold(task);
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve)).then(() => this.hold(task));
  }

  /** Changes how many tasks may run at once; more slots start waiting tasks at once, fewer let running ones finish. */
  resize(size: number): void {
    this.size = size;
    this.wake();
  }

  /** Runs `task` in a slot already taken, and gives the slot on when it ends. */
  private async hold<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } finally {
      this.active--;
      this.wake();
    }
  }

  private wake(): void {
    while (this.active < this.size && this.waiters.length > 0) {
      this.active++;
      this.waiters.shift()!();
    }
  }
}
