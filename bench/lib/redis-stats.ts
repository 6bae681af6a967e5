/**
 * Server-side counters of the private Redis, read before and after each measured run:
 * commands executed (`INFO commandstats`, which counts the commands Lua scripts call too),
 * Redis CPU time (`INFO cpu`) and memory in use (`INFO memory`).
 */

/** What a trial asks of the Redis it runs on, besides the URL: empty it, and read its counters. */
export interface Admin {
  flushall(): Promise<unknown>;
  info(section: string): Promise<string>;
}

export interface RedisSnapshot {
  /** calls per command name, e.g. `{ evalsha: 120, hset: 240 }`. */
  readonly calls: Readonly<Record<string, number>>;
  /** Microseconds the server spent in scripts (EVALSHA + EVAL), the commands they called included. */
  readonly scriptUsec: number;
  /** Seconds of CPU the server has used (user + system, all threads). */
  readonly cpuSeconds: number;
  readonly usedMemoryBytes: number;
}

/** Commands the orchestrator itself sends; excluded from the deltas. */
const OWN = new Set(['info', 'flushall', 'config|resetstat', 'ping', 'client|setname', 'client|setinfo', 'select', 'hello']);

function fields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

export async function snapshot(redis: Admin): Promise<RedisSnapshot> {
  const [commandstats, cpu, memory] = await Promise.all([redis.info('commandstats'), redis.info('cpu'), redis.info('memory')]);
  const calls: Record<string, number> = {};
  let scriptUsec = 0;
  for (const [key, value] of fields(commandstats)) {
    if (!key.startsWith('cmdstat_')) continue;
    const name = key.slice('cmdstat_'.length);
    const count = /(?:^|,)calls=(\d+)/.exec(value);
    if (count !== null && !OWN.has(name)) calls[name] = Number(count[1]);
    if (name === 'evalsha' || name === 'eval') scriptUsec += Number(/(?:^|,)usec=(\d+)/.exec(value)?.[1] ?? 0);
  }
  const cpuFields = fields(cpu);
  const cpuSeconds = Number(cpuFields.get('used_cpu_user') ?? 0) + Number(cpuFields.get('used_cpu_sys') ?? 0);
  const usedMemoryBytes = Number(fields(memory).get('used_memory') ?? 0);
  return { calls, scriptUsec, cpuSeconds, usedMemoryBytes };
}

export interface RedisDelta {
  /** Commands executed between the snapshots, including those called from Lua. */
  readonly commands: number;
  /** Script invocations (EVALSHA + EVAL) among them. */
  readonly scripts: number;
  /** Microseconds the server spent in those scripts. */
  readonly scriptUs: number;
  readonly byName: Readonly<Record<string, number>>;
  readonly cpuMs: number;
  /** Memory in use at the second snapshot (everything the run left in Redis). */
  readonly usedMemoryBytes: number;
}

export function delta(before: RedisSnapshot, after: RedisSnapshot): RedisDelta {
  const byName: Record<string, number> = {};
  let commands = 0;
  for (const [name, calls] of Object.entries(after.calls)) {
    const d = calls - (before.calls[name] ?? 0);
    if (d <= 0) continue;
    byName[name] = d;
    commands += d;
  }
  return {
    commands,
    scripts: (byName['evalsha'] ?? 0) + (byName['eval'] ?? 0),
    scriptUs: after.scriptUsec - before.scriptUsec,
    byName,
    cpuMs: (after.cpuSeconds - before.cpuSeconds) * 1000,
    usedMemoryBytes: after.usedMemoryBytes,
  };
}
