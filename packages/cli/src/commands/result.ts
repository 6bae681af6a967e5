/**
 * `celeriac result ID`: waits for a result and prints its value, as Celery's `celery result`;
 * `--state` prints the state without waiting, `--tree` the workflow around it, `--traceback` the
 * remote stack of a failure. On a terminal, waiting on a group or chord shows a progress bar.
 */
import { TaskError, TimeoutError, type AnyResult, type GroupResult } from '@celeriac/runtime';
import cliProgress from 'cli-progress';
import { CliError } from '../errors.js';
import { fromSnapshot, renderGraph } from '../graph-render.js';
import { print, printJson } from '../output.js';
import type { Session } from '../session.js';

/** The result command's options. */
export interface ResultCommandOptions {
  /** Seconds to wait; default for ever. */
  readonly timeout?: number;
  readonly traceback?: boolean;
  readonly state?: boolean;
  readonly tree?: boolean;
}

/** Prints the value (JSON), the state, or the tree; a failure is one line on stderr and exit 1. */
export async function resultCommand(session: Session, id: string, options: ResultCommandOptions): Promise<number> {
  const { app } = await session.app();
  if (options.tree === true) {
    const snapshot = await app.workflow(id);
    if (session.json) printJson(snapshot);
    else process.stdout.write(renderGraph(fromSnapshot(snapshot), 'text'));
    return 0;
  }
  const result = await app.result(id);
  if (options.state === true) {
    const state = await result.state();
    if (session.json) printJson({ id, state });
    else print(state);
    return 0;
  }
  const stop = showProgress(result);
  try {
    const value = await result.get(options.timeout === undefined ? {} : { timeout: Math.round(options.timeout * 1000) });
    stop();
    print(session.json ? JSON.stringify({ id, state: 'SUCCESS', result: value }) : JSON.stringify(value) ?? 'null');
    return 0;
  } catch (error) {
    stop();
    if (error instanceof TimeoutError) {
      throw new CliError(`result ${id}: not ready within ${options.timeout ?? 0} s (state ${await result.state()}); wait longer with --timeout`);
    }
    if (error instanceof TaskError) {
      if (session.json) printJson({ id, state: 'FAILURE', error: { task: error.task, taskId: error.taskId, name: error.remoteName, message: error.message, traceback: error.remoteStack ?? null } });
      else if (options.traceback === true) print(error.remoteStack ?? `${error.remoteName}: ${error.message}`);
      throw new CliError(error.message);
    }
    throw error;
  }
}

/** The group whose members a progress bar counts: the result itself, or a chord body's header. */
function groupOf(result: AnyResult): GroupResult<unknown> | undefined {
  if ('results' in result) return result;
  const parent = result.parent;
  return parent !== null && 'results' in parent ? parent : undefined;
}

/** On a terminal, a progress bar of the group's completed members (done/total, rate, ETA); returns its stop. */
function showProgress(result: AnyResult): () => void {
  const group = groupOf(result);
  if (group === undefined || process.stderr.isTTY !== true) return () => {};
  const total = group.results.length;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{bar} {value}/{total} | {rate}/s | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(total, 0, { rate: '0' });
  let stopped = false;
  // The rate counts what completed while we watched, not what was done before.
  let before: number | undefined;
  const tick = async (): Promise<void> => {
    while (!stopped) {
      const done = await group.completedCount().catch(() => undefined);
      before ??= done;
      const rate = done === undefined ? 0 : (done - (before ?? 0)) / Math.max(0.001, (Date.now() - started) / 1000);
      if (done !== undefined && !stopped) bar.update(done, { rate: rate.toFixed(1) });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  void tick();
  return () => {
    if (stopped) return;
    stopped = true;
    bar.stop();
  };
}
