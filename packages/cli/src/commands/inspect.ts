/**
 * `celeriac inspect …` and `celeriac control …`: Celery's questions and commands to workers,
 * through the runtime's `app.control`, printed per worker (`->  w1@host: OK`) or with `--json` in
 * Celery's shape (`{"w1@host": [...]}`).
 */
import type { BroadcastOptions, Replies } from '@celeriac/runtime';
import type { InspectCommand } from '../command-names.js';
import { printReplies } from '../output.js';
import type { Session } from '../session.js';

/** `-d/--destination` and `-t/--timeout` (seconds). */
export interface DestinationOptions {
  readonly destination?: readonly string[];
  readonly timeout?: number;
}

/** The runtime's broadcast options from the command line's. */
export function broadcastOptions(options: DestinationOptions): BroadcastOptions {
  return {
    ...(options.destination === undefined ? {} : { destination: options.destination }),
    ...(options.timeout === undefined ? {} : { timeout: Math.max(1, Math.round(options.timeout * 1000)) }),
  };
}

/** Asks the workers one question and prints their replies. */
export async function inspectCommand(session: Session, command: InspectCommand, ids: readonly string[], options: DestinationOptions): Promise<number> {
  const { app } = await session.app();
  const inspect = app.control.inspect(broadcastOptions(options));
  const ask: Record<InspectCommand, () => Promise<Replies<unknown>>> = {
    registered: () => inspect.registered(),
    active: () => inspect.active(),
    reserved: () => inspect.reserved(),
    scheduled: () => inspect.scheduled(),
    revoked: () => inspect.revoked(),
    stats: () => inspect.stats(),
    ping: () => inspect.ping(),
    active_queues: () => inspect.activeQueues(),
    query_task: () => inspect.queryTask(ids),
  };
  return printReplies(await ask[command](), session.json);
}
