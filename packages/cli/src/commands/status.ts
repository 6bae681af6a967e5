/** `celeriac status`: the workers online (from their heartbeats), then `N nodes online.` as Celery's. */
import { EXIT } from '../errors.js';
import { nodes, print, printJson } from '../output.js';
import type { Session } from '../session.js';

/** Lists the online workers; exits 69 (Celery's EX_UNAVAILABLE) when there is none. */
export async function statusCommand(session: Session): Promise<number> {
  const { app } = await session.app();
  const online = (await app.control.workers()).filter((worker) => worker.online);
  if (session.json) {
    printJson(Object.fromEntries(online.map((worker) => [worker.name, { ok: 'pong', ...worker }])));
  } else {
    for (const worker of online) print(`${worker.name}: OK`);
    if (online.length > 0) print();
    print(online.length === 0 ? 'No nodes online.' : `${nodes(online.length)} online.`);
  }
  return online.length === 0 ? EXIT.UNAVAILABLE : EXIT.OK;
}
