/**
 * Registers the Lua scripts of `../lua/` on an ioredis client as custom commands; ioredis sends
 * EVALSHA and falls back to EVAL, so each script crosses the network once per connection. The
 * scripts are embedded at build time (scripts/embed-lua.ts), so bundles need no `.lua` file.
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './connection.js';
import { luaScripts } from './lua-scripts.generated.js';

/** What each script returns; see the header of its `.lua` file. */
export type ReleaseReply = [status: number, ...released: (string | number | null)[]];
/** What `mark` returns: its status, and the state a node that already ended has. */
export type MarkReply = [status: number, state?: string];

/** The typed calls the scripts add to a client. */
export interface ScriptCommands {
  create(...keysAndArgs: (string | number)[]): Promise<number>;
  /** The number of keys first (6 per plan); one reply per plan. */
  createWhole(...keysAndArgs: (string | number)[]): Promise<number[]>;
  advance(...keysAndArgs: (string | number)[]): Promise<ReleaseReply[]>;
  fail(...keysAndArgs: (string | number)[]): Promise<ReleaseReply>;
  mark(...keysAndArgs: (string | number)[]): Promise<MarkReply>;
  outbox(...keysAndArgs: (string | number)[]): Promise<ReleaseReply>;
  outcome(...keysAndArgs: (string | number)[]): Promise<[state: string | null, envelope: string | null][]>;
  revoke(...keysAndArgs: (string | number)[]): Promise<number[]>;
  rate(key: string, intervalMs: number): Promise<number>;
}

/** The scripts as queued in a pipeline (ioredis adds defined commands to pipelines too). */
export interface ScriptPipeline extends ChainableCommander {
  create(...keysAndArgs: (string | number)[]): ScriptPipeline;
  advance(...keysAndArgs: (string | number)[]): ScriptPipeline;
  fail(...keysAndArgs: (string | number)[]): ScriptPipeline;
  createWhole(...keysAndArgs: (string | number)[]): ScriptPipeline;
}

const loaded = new WeakSet<RedisClient>();

/** Registers the scripts on `client` (once per client) and returns it typed with the commands. */
export function withScripts(client: RedisClient): RedisClient & ScriptCommands {
  if (!loaded.has(client)) {
    for (const [name, script] of Object.entries(luaScripts)) client.defineCommand(name, script);
    loaded.add(client);
  }
  return client as RedisClient & ScriptCommands;
}
