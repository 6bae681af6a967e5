/**
 * `celeriac -A app worker`: starts a worker for the app's tasks, prints Celery's start-up banner,
 * logs each task, and shuts down warm on the first SIGTERM/SIGINT (stop fetching, let the tasks in
 * flight finish) and cold on the second (exit at once; unfinished tasks go back to their queues).
 */
import { release, type } from 'node:os';
import type { AutoscaleOptions, PoolKind, WorkerOptions } from '@celeriac/runtime';
import { EXIT } from '../errors.js';
import type { Session } from '../session.js';
import { VERSION } from '../version.js';

/** The worker command's own options. */
export interface WorkerCommandOptions {
  readonly concurrency?: number;
  readonly hostname?: string;
  readonly queues?: readonly string[];
  readonly taskEvents?: boolean;
  readonly pool?: PoolKind;
  readonly maxTasksPerChild?: number;
  readonly autoscale?: AutoscaleOptions;
}

/** Celery's banner: who, what, where, and the task list. */
export function banner(lines: { name: string; app: string; broker: string; concurrency: string; events: boolean; queues: readonly string[]; tasks: readonly string[] }): string {
  const when = new Date().toISOString().replace('T', ' ').slice(0, 19);
  const rows = [
    ` -------------- ${lines.name} v${VERSION}`,
    '--- ***** ----- ',
    `-- ******* ---- ${type()}-${release()} ${when}`,
    '- *** --- * --- ',
    '- ** ---------- [config]',
    `- ** ---------- .> app:         ${lines.app}`,
    `- ** ---------- .> transport:   ${lines.broker}`,
    `- ** ---------- .> results:     ${lines.broker}`,
    `- *** --- * --- .> concurrency: ${lines.concurrency}`,
    `-- ******* ---- .> task events: ${lines.events ? 'ON' : 'OFF (enable -E to monitor tasks in this worker)'}`,
    '--- ***** ----- ',
    ' -------------- [queues]',
    ...lines.queues.map((queue) => `                .> ${queue}`),
    '',
    '[tasks]',
    ...(lines.tasks.length === 0 ? ['  (none registered: does -A name the module that registers them?)'] : lines.tasks.map((task) => `  . ${task}`)),
    '',
  ];
  return `${rows.join('\n')}\n`;
}

/** Runs a worker until it is shut down (signals, or `celeriac control shutdown`). */
export async function workerCommand(session: Session, options: WorkerCommandOptions): Promise<number> {
  const { app, module, broker } = await session.app(true);
  const log = session.logger;
  const pool = options.pool ?? 'async';
  // Redis must answer before the banner: an unreachable one is one clear error, not a worker
  // retrying quietly for ever. The runtime's own outage warning would say it a second time.
  await quietly(session, () => app.queues());
  const workerOptions: WorkerOptions = {
    name: options.hostname ?? 'celeriac@%h',
    queues: options.queues,
    concurrency: options.concurrency,
    taskEvents: options.taskEvents === true ? true : undefined,
    pool,
    ...(pool === 'processes' ? { appModule: module, maxTasksPerChild: options.maxTasksPerChild, autoscale: options.autoscale } : {}),
  };
  const worker = app.worker(workerOptions);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log.warn(`worker: Warm shutdown (${signal}): finishing the tasks in flight; send it again to stop at once`);
      void worker.close().catch(() => {});
    } else {
      log.warn(`worker: Cold shutdown (${signal}): unfinished tasks go back to their queues`);
      void worker.close({ force: true }).catch(() => {});
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  session.onClose(async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await worker.close({ force: true });
  });
  await worker.waitUntilReady();
  const concurrency =
    pool === 'processes' && options.autoscale !== undefined ? `{min=${options.autoscale.min ?? 0}, max=${options.autoscale.max}} (processes)` : `${worker.concurrency} (${pool})`;
  process.stdout.write(
    banner({
      name: worker.name,
      app: `${app.name}${module === undefined ? '' : ` (${module.pathname.split('/').slice(-2).join('/')})`}`,
      broker,
      concurrency,
      events: options.taskEvents === true,
      queues: worker.queues,
      tasks: app.registered,
    }),
  );
  log.info(`${worker.name} ready.`);
  await worker.closed;
  log.warn(`${worker.name}: ${signals >= 2 ? 'cold' : 'warm'} shutdown complete`);
  return signals >= 2 ? EXIT.FAILURE : EXIT.OK;
}

/** Runs `work` with warnings held back (errors still show): it reports its failure itself. */
async function quietly<T>(session: Session, work: () => Promise<T>): Promise<T> {
  const { pino } = session.logger as { pino?: { level: string } };
  const level = pino?.level;
  if (pino !== undefined && level !== 'debug') pino.level = 'error';
  try {
    return await work();
  } finally {
    if (pino !== undefined && level !== undefined) pino.level = level;
  }
}

