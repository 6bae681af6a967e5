/**
 * Loads the Lua scripts in `../lua/` (resolving `--@include name` lines from `lua/includes/`) and
 * registers them on an ioredis client as custom commands; ioredis sends EVALSHA and falls back to
 * EVAL, so each script crosses the network once per connection.
 */
import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

const luaDir = new URL('../lua/', import.meta.url);

function source(name: string): string {
  const text = readFileSync(new URL(`${name}.lua`, luaDir), 'utf8');
  return text.replace(/^--@include ([\w-]+)$/gm, (_, include: string) =>
    readFileSync(new URL(`includes/${include}.lua`, luaDir), 'utf8'),
  );
}

/** Script name → number of keys, matching `lua/<name>-<keys>.lua`. */
const scripts = { create: 9, advance: 6, fail: 6, mark: 2, outbox: 6, revoke: 6, rate: 1 } as const;

/** What each script returns; see the header of its `.lua` file. */
export type ReleaseReply = [status: number, ...released: (string | number | null)[]];
/** What `mark` returns: its status, and the state a node that already ended has. */
export type MarkReply = [status: number, state?: string];

/** The typed calls the scripts add to a client. */
export interface ScriptCommands {
  create(...keysAndArgs: (string | number)[]): Promise<number>;
  advance(...keysAndArgs: (string | number)[]): Promise<ReleaseReply>;
  fail(...keysAndArgs: (string | number)[]): Promise<ReleaseReply>;
  mark(...keysAndArgs: (string | number)[]): Promise<MarkReply>;
  outbox(...keysAndArgs: (string | number)[]): Promise<ReleaseReply>;
  revoke(...keysAndArgs: (string | number)[]): Promise<number[]>;
  rate(key: string, intervalMs: number): Promise<number>;
}

/** The scripts as queued in a pipeline (ioredis adds defined commands to pipelines too). */
export interface ScriptPipeline extends ChainableCommander {
  create(...keysAndArgs: (string | number)[]): ScriptPipeline;
}

const loaded = new WeakSet<Redis>();
let cache: Map<string, string> | undefined;

/** Registers the scripts on `client` (once per client) and returns it typed with the commands. */
export function withScripts(client: Redis): Redis & ScriptCommands {
  if (!loaded.has(client)) {
    cache ??= new Map(Object.keys(scripts).map((name) => [name, source(`${name}-${scripts[name as keyof typeof scripts]}`)]));
    for (const [name, numberOfKeys] of Object.entries(scripts)) {
      client.defineCommand(name, { numberOfKeys, lua: cache.get(name)! });
    }
    loaded.add(client);
  }
  return client as Redis & ScriptCommands;
}
