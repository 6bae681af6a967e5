/**
 * Registers the Lua scripts of `../lua/` on an ioredis client as custom commands; ioredis sends
 * EVALSHA and falls back to EVAL, so each script crosses the network once per connection. The
 * scripts are embedded at build time (scripts/embed-lua.ts), so bundles need no `.lua` file.
 */
import { addStandardJob } from 'bullmq/dist/esm/scripts/addStandardJob-9.js';
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
  createWhole(...keysAndArgs: (string | number)[]): Promise<number>;
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

/** Keys of `create-whole-6.lua`. */
export const PLAN_KEYS = 6;
/** Arguments BullMQ's `addStandardJob` takes after its keys: packed args, data, packed options. */
export const STANDARD_ADD_ARGS = 3;
/** Keys of BullMQ's `addStandardJob` (its file name says how many, as ours do). */
export const STANDARD_ADD_KEYS = addStandardJob.keys;
/**
 * Whether BullMQ's `addStandardJob` reads its keys and arguments by position only, never counting
 * them, so that the plan's may follow them in `planWithAdd`; if a BullMQ version counted them, a
 * plan would go as its own script, ahead of the add.
 */
export const PLAN_RIDES_ADD = !/#(KEYS|ARGV)\b/.test(addStandardJob.content);

/**
 * `create-whole-6.lua` and BullMQ's own `addStandardJob` script, as one script: a small plan and
 * its first entry's job in one request and one atomic step (`dispatch.sendBehind`). BullMQ's
 * script is taken as the installed BullMQ ships it and runs unchanged on its own keys and
 * arguments, which come first; the plan's keys and arguments follow, and the plan is written
 * first: when the workflow exists already, nothing is added and the script returns 0 (BullMQ's
 * returns the job id). Keys in two hash slots: one Redis server only, never a cluster.
 */
const PLAN_WITH_ADD = {
  numberOfKeys: STANDARD_ADD_KEYS + PLAN_KEYS,
  lua: [
    `local function createWhole(KEYS, ARGV)\n${luaScripts.createWhole.lua}\nend`,
    'local planKeys, planArgs = {}, {}',
    `for k = 1, ${PLAN_KEYS} do planKeys[k] = KEYS[${STANDARD_ADD_KEYS} + k] end`,
    `for k = ${STANDARD_ADD_ARGS + 1}, #ARGV do planArgs[k - ${STANDARD_ADD_ARGS}] = ARGV[k] end`,
    'if createWhole(planKeys, planArgs) == 0 then return 0 end',
    addStandardJob.content,
  ].join('\n'),
};

/** The call {@link withScripts} adds besides the scripts of `../lua/`. */
export interface PlanWithAddCommand {
  /**
   * BullMQ's `addStandardJob` keys, the plan's keys, BullMQ's arguments, the plan's arguments;
   * resolves to the job's id, or 0 when the workflow already existed (nothing written).
   */
  planWithAdd(...keysAndArgs: (string | number | Buffer)[]): Promise<string | number>;
}

const loaded = new WeakSet<RedisClient>();

/** Registers the scripts on `client` (once per client) and returns it typed with the commands. */
export function withScripts(client: RedisClient): RedisClient & ScriptCommands & PlanWithAddCommand {
  if (!loaded.has(client)) {
    for (const [name, script] of Object.entries(luaScripts)) client.defineCommand(name, script);
    client.defineCommand('planWithAdd', PLAN_WITH_ADD);
    loaded.add(client);
  }
  return client as RedisClient & ScriptCommands & PlanWithAddCommand;
}
