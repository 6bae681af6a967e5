/**
 * `celeriac monitor`: serves `@celeriac/monitor` (Flower's page and API) for the app, with
 * Flower's flags, until SIGINT/SIGTERM.
 */
import { startMonitor } from '@celeriac/monitor';
import type { Session } from '../session.js';

/** The monitor command's options (Flower's flags). */
export interface MonitorCommandOptions {
  readonly port?: number;
  readonly address?: string;
  readonly urlPrefix?: string;
  readonly basicAuth?: string;
  readonly readOnly?: boolean;
  readonly insecure?: boolean;
  readonly maxTasks?: number;
  /** Milliseconds, as Flower's `--inspect_timeout`. */
  readonly inspectTimeout?: number;
}

/** Serves the monitor until a signal. */
export async function monitorCommand(session: Session, options: MonitorCommandOptions): Promise<number> {
  const { app } = await session.app();
  const monitor = await startMonitor(app, {
    port: options.port,
    address: options.address,
    urlPrefix: options.urlPrefix,
    basicAuth: options.basicAuth,
    readOnly: options.readOnly,
    insecure: options.insecure,
    maxTasks: options.maxTasks,
    inspectTimeout: options.inspectTimeout,
    logger: session.logger,
  });
  session.onClose(() => monitor.close());
  process.stdout.write(`Celeriac monitor for app "${app.name}" on ${monitor.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  return 0;
}
