/**
 * `celeriac purge`: removes the messages waiting in the app's queues (or `-Q` ones), after asking
 * for confirmation as Celery's does (`-f` skips it), and says how many it removed.
 */
import { createInterface } from 'node:readline/promises';
import { EXIT } from '../errors.js';
import { print, printJson } from '../output.js';
import type { Session } from '../session.js';

/** The purge command's options. */
export interface PurgeCommandOptions {
  readonly queues?: readonly string[];
  readonly force?: boolean;
}

/** Asks, then purges. */
export async function purgeCommand(session: Session, options: PurgeCommandOptions): Promise<number> {
  const { app } = await session.app();
  const queues = options.queues ?? (await app.queues()).map((queue) => queue.name);
  if (queues.length === 0) {
    if (session.json) printJson({ purged: 0, queues: [] });
    else print('No queues to purge.');
    return EXIT.OK;
  }
  if (options.force !== true) {
    const asked = await confirm(
      `WARNING: This will remove all tasks from ${queues.length === 1 ? 'queue' : 'queues'}: ${queues.join(', ')}.\n` +
        '         There is no undo for this operation!\n\n(to skip this prompt use the -f option)\n' +
        'Are you sure you want to delete all tasks (yes/NO)? ',
    );
    if (!asked) {
      process.stderr.write('Purge cancelled: nothing was removed.\n');
      return EXIT.FAILURE;
    }
  }
  const purged = await app.purge(queues);
  if (session.json) printJson({ purged, queues });
  else print(`Purged ${purged} ${purged === 1 ? 'message' : 'messages'} from ${queues.length} known task ${queues.length === 1 ? 'queue' : 'queues'}.`);
  return EXIT.OK;
}

/** Reads yes/no from stdin; anything but "yes" or "y" (or no stdin at all) is no. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const closed = new Promise<string>((resolve) => rl.once('close', () => resolve('')));
    const answer = await Promise.race([rl.question(question), closed]);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
