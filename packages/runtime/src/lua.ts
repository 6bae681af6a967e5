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

/** Keys of `create-whole-6.lua`, which a plan's write (`store.wholeWrite`) starts with. */
export const PLAN_KEYS = 6;
/** Arguments BullMQ's `addStandardJob` takes after its keys: packed args, data, packed options. */
export const STANDARD_ADD_ARGS = 3;
/** Keys of BullMQ's `addStandardJob` (its file name says how many, as ours do). */
export const STANDARD_ADD_KEYS = addStandardJob.keys;
/**
 * Whether BullMQ's `addStandardJob` reads its keys and arguments by position only, never counting
 * them, so that it can run on a slice of `planWithAdds`'s; if a BullMQ version counted them, a
 * plan would go as its own script, ahead of the adds.
 */
export const PLAN_RIDES_ADDS = !/#(KEYS|ARGV)\b/.test(addStandardJob.content);

/**
 * `create-whole-6.lua` and BullMQ's own `addStandardJob` script, as one script: a small plan and
 * its entries' jobs in one request and one atomic step (`dispatch.sendBehind`). Each runs as a
 * function on its own slice of the keys and arguments, BullMQ's as the installed BullMQ ships it,
 * unchanged. The plan is written first: when the workflow exists already, nothing is added and
 * the script returns 0; otherwise BullMQ's reply for each job, in order (its id, or its negative
 * error code). Keys in several hash slots: one Redis server only, never a cluster.
 *
 * The caller passes the number of keys first; KEYS: the plan's six, then nine per job; ARGV: the
 * number of jobs J, three per job, then the plan's arguments.
 */
const PLAN_WITH_ADDS = {
  lua: [
    `local function createWhole(KEYS, ARGV)\n${luaScripts.createWhole.lua}\nend`,
    `local function addStandardJob(KEYS, ARGV)\n${addStandardJob.content}\nend`,
    'local jobs = tonumber(ARGV[1])',
    `local planArgs = {}`,
    `for k = 2 + ${STANDARD_ADD_ARGS} * jobs, #ARGV do planArgs[#planArgs + 1] = ARGV[k] end`,
    `if createWhole({ unpack(KEYS, 1, ${PLAN_KEYS}) }, planArgs) == 0 then return 0 end`,
    'local ids = {}',
    'for j = 0, jobs - 1 do',
    `  local k, a = ${PLAN_KEYS} + ${STANDARD_ADD_KEYS} * j, 1 + ${STANDARD_ADD_ARGS} * j`,
    `  ids[j + 1] = addStandardJob({ unpack(KEYS, k + 1, k + ${STANDARD_ADD_KEYS}) }, { unpack(ARGV, a + 1, a + ${STANDARD_ADD_ARGS}) })`,
    'end',
    'return ids',
  ].join('\n'),
};

/** The call {@link withScripts} adds besides the scripts of `../lua/`. */
export interface PlanWithAddsCommand {
  /** See {@link PLAN_WITH_ADDS}: resolves to each job's id (or error code), or 0 when the workflow already existed. */
  planWithAdds(...keysAndArgs: (string | number | Buffer)[]): Promise<(string | number)[] | 0>;
}

const loaded = new WeakSet<RedisClient>();

/** Registers the scripts on `client` (once per client) and returns it typed with the commands. */
export function withScripts(client: RedisClient): RedisClient & ScriptCommands & PlanWithAddsCommand {
  if (!loaded.has(client)) {
    for (const [name, script] of Object.entries(luaScripts)) client.defineCommand(name, script);
    client.defineCommand('planWithAdds', PLAN_WITH_ADDS);
    loaded.add(client);
  }
  return client as RedisClient & ScriptCommands & PlanWithAddsCommand;
}
