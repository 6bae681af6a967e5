/**
 * `celeriac events`: prints task and worker events as they happen (Celery's `celery events
 * --dump`), one line each, or JSON lines with `--json`. Workers send them with `-E`.
 */
import type { StoredTaskEvent } from '@celeriac/runtime';
import { print, printJson } from '../output.js';
import type { Session } from '../session.js';

/** The events command's options. */
export interface EventsCommandOptions {
  /** Print this many past events first (newest last). */
  readonly history?: number;
}

/** One event as a line: time, worker, type, task and the fields that matter for the type. */
export function describeEvent(event: StoredTaskEvent): string {
  const when = new Date(event.timestamp).toISOString();
  const head = `${when} ${event.worker} ${event.type}`;
  switch (event.type) {
    case 'task-received':
      return `${head} ${event.name}[${event.taskId}] args=${event.args} kwargs=${event.kwargs}`;
    case 'task-started':
      return `${head} ${event.name}[${event.taskId}]`;
    case 'task-succeeded':
      return `${head} ${event.name}[${event.taskId}] result=${event.result} runtime=${(event.runtime / 1000).toFixed(3)}s`;
    case 'task-failed':
      return `${head} ${event.name}[${event.taskId}] exception=${event.exception}`;
    case 'task-retried':
      return `${head} ${event.name}[${event.taskId}] exception=${event.exception} retries=${event.retries}`;
    case 'task-revoked':
      return `${head} ${event.name}[${event.taskId}] terminated=${event.terminated} expired=${event.expired}`;
    case 'worker-heartbeat':
      return `${head} active=${event.active} processed=${event.processed} failed=${event.failed}`;
    case 'worker-online':
    case 'worker-offline':
      return `${head} ${event.swIdent} ${event.swVer} (${event.swSys})`;
  }
}

/** Follows the events until SIGINT/SIGTERM. */
export async function eventsCommand(session: Session, options: EventsCommandOptions): Promise<number> {
  const { app } = await session.app();
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  session.onClose(async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  const show = (event: StoredTaskEvent): void => (session.json ? printJson(event) : print(describeEvent(event)));
  let after: string | undefined;
  if (options.history !== undefined && options.history > 0) {
    const page = await app.events.history({ limit: Math.min(1_000, options.history) });
    for (const event of [...page.events].reverse()) show(event);
    after = page.events[0]?.id;
  }
  process.stderr.write('Waiting for events (workers send them when started with -E); Ctrl-C to stop.\n');
  for await (const event of app.events.tail({ signal: stop.signal, ...(after === undefined ? {} : { after }) })) show(event);
  return 0;
}
