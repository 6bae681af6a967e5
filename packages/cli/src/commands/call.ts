/** `celeriac call NAME`: sends a task by name and prints its id, as Celery's `celery call`. */
import { signature, type Json, type Kwargs } from '@celeriac/canvas';
import type { AppApplyOptions } from '@celeriac/runtime';
import { print, printJson } from '../output.js';
import type { Session } from '../session.js';

/** The call command's options. */
export interface CallCommandOptions {
  readonly args?: Json[];
  readonly kwargs?: Kwargs;
  readonly countdown?: number;
  readonly eta?: string;
  readonly expires?: number;
  readonly queue?: string;
  readonly priority?: number;
}

/** Sends the task; prints its id (with `--json`, `{"id": …}`). */
export async function callCommand(session: Session, name: string, options: CallCommandOptions): Promise<number> {
  const { app } = await session.app();
  const applyOptions: AppApplyOptions = {
    ...(options.countdown === undefined ? {} : { countdown: options.countdown }),
    ...(options.eta === undefined ? {} : { eta: options.eta }),
    ...(options.expires === undefined ? {} : { expires: options.expires }),
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    ...(options.priority === undefined ? {} : { priority: options.priority }),
  };
  const result = await app.apply(signature(name, options.args ?? [], options.kwargs ?? {}), applyOptions);
  if (session.json) printJson({ id: result.id });
  else print(result.id);
  return 0;
}
