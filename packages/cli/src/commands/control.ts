/** `celeriac control …`: Celery's remote control commands, printed as `inspect` prints replies. */
import type { Replies } from '@celeriac/runtime';
import { printReplies } from '../output.js';
import type { Session } from '../session.js';
import { broadcastOptions, type DestinationOptions } from './inspect.js';

/** A control command with its arguments, as parsed. */
export type ControlRequest =
  | { readonly command: 'shutdown' }
  | { readonly command: 'rate_limit'; readonly task: string; readonly rate: string }
  | { readonly command: 'time_limit'; readonly task: string; readonly soft: number | null; readonly hard: number | null }
  | { readonly command: 'add_consumer' | 'cancel_consumer'; readonly queue: string }
  | { readonly command: 'revoke'; readonly ids: readonly string[]; readonly terminate: boolean }
  | { readonly command: 'pool_grow' | 'pool_shrink'; readonly n: number };

/** Sends one command to the workers and prints their replies. */
export async function controlCommand(session: Session, request: ControlRequest, options: DestinationOptions): Promise<number> {
  const { app } = await session.app();
  const control = app.control;
  const send = broadcastOptions(options);
  let replies: Replies<unknown>;
  switch (request.command) {
    case 'shutdown':
      replies = await control.shutdown(send);
      break;
    case 'rate_limit':
      replies = await control.rateLimit(request.task, /^\d+(\.\d+)?$/.test(request.rate) ? Number(request.rate) : request.rate, send);
      break;
    case 'time_limit':
      replies = await control.timeLimit(request.task, { soft: request.soft, hard: request.hard }, send);
      break;
    case 'add_consumer':
      replies = await control.addConsumer(request.queue, send);
      break;
    case 'cancel_consumer':
      replies = await control.cancelConsumer(request.queue, send);
      break;
    case 'revoke':
      replies = await control.revoke(request.ids, { ...send, terminate: request.terminate });
      break;
    case 'pool_grow':
      replies = await control.poolGrow(request.n, send);
      break;
    case 'pool_shrink':
      replies = await control.poolShrink(request.n, send);
      break;
  }
  return printReplies(replies, session.json);
}
