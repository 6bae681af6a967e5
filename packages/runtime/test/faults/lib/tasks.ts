/**
 * The suite's two tasks, registered in the test process or in a worker process alike. Each run
 * writes a line into a ledger in Redis — `<task id> <random token>` as a hash field, so a command
 * ioredis resends after a killed connection writes the same field again instead of counting twice —
 * then pauses a little, so that work is always in flight when a fault strikes.
 */
import { randomUUID } from 'node:crypto';
import type { App, TaskContext } from '@celeriac/runtime';
import type { Redis } from 'ioredis';

/** The hash of executions: one field per run, `<task id> <token>`. */
export const ledgerKey = (prefix: string): string => `${prefix}:faults:ledger`;

/** Registers `add` and `tsum`; `ledger` must wait out outages (`maxRetriesPerRequest: null`). */
export function registerTasks(app: App, ledger: Redis, pauseMs: readonly [number, number] = [2, 25]): void {
  const record = async (ctx: TaskContext): Promise<void> => {
    await ledger.hset(ledgerKey(app.prefix), `${ctx.id} ${randomUUID()}`, '1');
    await new Promise((resolve) => setTimeout(resolve, pauseMs[0] + Math.random() * (pauseMs[1] - pauseMs[0])));
  };
  app.task(
    'add',
    async (ctx: TaskContext, ...args: number[]) => {
      await record(ctx);
      return args.reduce((a, b) => a + b, 0);
    },
    { bind: true },
  );
  app.task(
    'tsum',
    async (ctx: TaskContext, values: number[]) => {
      await record(ctx);
      return values.reduce((a, b) => a + b, 0);
    },
    { bind: true },
  );
}
