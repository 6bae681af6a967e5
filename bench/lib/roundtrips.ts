/**
 * Counts Redis round trips from the client side, for the profile mode (`--profile`). Both BullMQ
 * and Celeriac talk to Redis through the one ioredis in node_modules, so wrapping
 * `Redis.prototype.sendCommand` sees every command of both:
 * - a command sent on its own is one round trip;
 * - the commands of one pipeline or MULTI/EXEC share a `stream` object: one round trip for all;
 * - blocking reads (BZPOPMIN, XREAD BLOCK, ...) are waits for work, counted apart.
 * Subscriber-mode commands and PUBLISH-received messages are not requests and are not counted.
 */
import { Redis } from 'ioredis';

export interface RoundTripCounts {
  /** Requests the client waited for a reply to (a pipeline counts once). */
  roundTrips: number;
  /** Commands sent, pipelined or not (Lua scripts count as one command each here). */
  commands: number;
  /** Blocking waits for new work or events. */
  blocking: number;
  /** Commands by name (EVALSHA/EVAL by script where known, e.g. `evalsha`). */
  byName: Record<string, number>;
}

const BLOCKING = new Set(['bzpopmin', 'bzpopmax', 'brpoplpush', 'blmove', 'brpop', 'blpop']);

const counts: RoundTripCounts = { roundTrips: 0, commands: 0, blocking: 0, byName: {} };
let installed = false;

interface CommandLike {
  readonly name: string;
  readonly args: readonly unknown[];
}

/** Starts counting; call before any client is created. */
export function installRoundTripCounter(): void {
  if (installed) return;
  installed = true;
  const pipelines = new WeakSet<object>();
  const proto = Redis.prototype as unknown as { sendCommand: (command: CommandLike, stream?: object) => unknown };
  const original = proto.sendCommand;
  proto.sendCommand = function (this: Redis, command: CommandLike, stream?: object): unknown {
    const name = command.name.toLowerCase();
    const isBlocking = BLOCKING.has(name) || (name === 'xread' && command.args.some((a) => String(a).toUpperCase() === 'BLOCK'));
    const subscriber = ['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ping', 'quit', 'info', 'client'].includes(name);
    if (isBlocking) {
      counts.blocking++;
    } else if (!subscriber) {
      counts.commands++;
      counts.byName[name] = (counts.byName[name] ?? 0) + 1;
      if (stream === undefined) counts.roundTrips++;
      else if (!pipelines.has(stream)) {
        pipelines.add(stream);
        counts.roundTrips++;
      }
    }
    return original.call(this, command, stream);
  };
}

/** Zeroes the counters (after the warm-up). */
export function resetRoundTrips(): void {
  counts.roundTrips = 0;
  counts.commands = 0;
  counts.blocking = 0;
  counts.byName = {};
}

/** The counters so far, or null when counting is off. */
export function roundTrips(): RoundTripCounts | null {
  return installed ? { ...counts, byName: { ...counts.byName } } : null;
}
