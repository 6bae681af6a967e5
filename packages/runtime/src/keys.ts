/**
 * Every Redis key Celeriac writes, in one place. A workflow's keys share the hash tag `{<id>}`, so
 * each Lua script touches a single Redis Cluster slot (DESIGN invariant 6).
 */

/** The keys of one workflow, in the order the Lua scripts expect them. */
export interface WorkflowKeys {
  /** Static plan: `meta`, `n:<i>` node specs, `s:<i>` successors, `e:<i>` errbacks, `a:<i>` inputs, `j:<i>` join flags. */
  readonly graph: string;
  /** Node state by index (absent = PENDING). */
  readonly state: string;
  /** Result envelope (JSON) by index. */
  readonly result: string;
  /** Predecessors still to finish, by index. */
  readonly deps: string;
  /** Released nodes whose job may not be enqueued yet (finished by whoever finds them). */
  readonly outbox: string;
  /** How many times each node was released: the crash tests check every count is exactly 1. */
  readonly released: string;
  /** Pub/sub channel announcing terminal states (`<index>:<STATE>`). */
  readonly events: string;
}

export function workflowKeys(prefix: string, workflowId: string): WorkflowKeys {
  const base = `${prefix}:wf:{${workflowId}}`;
  return {
    graph: `${base}:graph`,
    state: `${base}:state`,
    result: `${base}:result`,
    deps: `${base}:deps`,
    outbox: `${base}:outbox`,
    released: `${base}:released`,
    events: eventsChannel(prefix, workflowId),
  };
}

/**
 * Finds one kind of key of every workflow of the app: the SCAN pattern matching them (glob
 * characters in the prefix escaped), and the function reading the workflow id back from such a
 * key (undefined for any other key).
 */
export function workflowKeyScan(prefix: string, kind: 'graph' | 'outbox'): { pattern: string; idOf(key: string): string | undefined } {
  const [head, tail] = workflowKeys(prefix, '\u0000')[kind].split('\u0000') as [string, string];
  return {
    pattern: workflowKeys(globEscape(prefix), '*')[kind],
    idOf: (key) => (key.length > head.length + tail.length && key.startsWith(head) && key.endsWith(tail) ? key.slice(head.length, key.length - tail.length) : undefined),
  };
}

/** Escapes Redis glob characters, so that a pattern matches `text` literally. */
function globEscape(text: string): string {
  return text.replace(/[\\*?[\]]/g, '\\$&');
}

/** A workflow's events channel ({@link WorkflowKeys.events}), without its six keys. */
export function eventsChannel(prefix: string, workflowId: string): string {
  return `${prefix}:wf:{${workflowId}}:events`;
}

/**
 * Reads the workflow id back from a workflow's `events` channel ({@link workflowKeys}): returns
 * the function that does it for the app with this prefix, and undefined for any other channel.
 */
export function eventsChannelReader(prefix: string): (channel: string) => string | undefined {
  const head = `${prefix}:wf:{`;
  const tail = '}:events';
  return (channel) =>
    channel.length > head.length + tail.length && channel.startsWith(head) && channel.endsWith(tail)
      ? channel.slice(head.length, channel.length - tail.length)
      : undefined;
}

/**
 * A PSUBSCRIBE pattern matching every pub/sub channel of the app (glob characters in the prefix
 * escaped), so one subscription carries every workflow's events to every waiter (see
 * subscriber.ts). Redis checks a pattern against the ACL literally: this one is exactly what the
 * least-privilege grant `&<prefix>:*` allows.
 */
export function appChannelsPattern(prefix: string): string {
  return `${globEscape(prefix)}:*`;
}

/** Maps a task or group id that is not a workflow's own id to `<workflowId> <ref>`. */
export function pointerKey(prefix: string, id: string): string {
  return `${prefix}:id:{${id}}`;
}

/**
 * Where a workflow's plan is written before `create` publishes it. They share the workflow's hash
 * tag, so the publishing script stays in one slot; `nonce` keeps two racing applies apart.
 */
export function stagingKeys(keys: WorkflowKeys, nonce: string): readonly [graph: string, deps: string, outbox: string] {
  return [`${keys.graph}:new:${nonce}`, `${keys.deps}:new:${nonce}`, `${keys.outbox}:new:${nonce}`];
}

/** A task's rate-limit cell, shared by every worker (see `lua/rate-1.lua`). */
export function rateKey(prefix: string, task: string): string {
  return `${prefix}:rate:{${task}}`;
}

/**
 * BullMQ's key prefix for one of the app's queues; BullMQ's keys are `<this>:<queue>:<suffix>`.
 *
 * On one Redis it is `<prefix>:q` for every queue (`celeriac:q:default:wait`), as it always was:
 * changing it would strand the jobs queued before an upgrade. On a Redis Cluster every BullMQ
 * script takes many keys of its queue, which must share one slot, so the prefix carries the queue
 * as a hash tag, `<prefix>:q:{<queue>}` (`celeriac:q:{default}:default:wait`): each queue lives in
 * one slot, different queues in different slots, and every key still starts with `<prefix>:`, so
 * the least-privilege ACL pattern `~<prefix>:*` covers them.
 */
export function queuePrefix(prefix: string, queue: string, cluster: boolean): string {
  return cluster ? `${prefix}:q:{${queue}}` : `${prefix}:q`;
}

/**
 * The release jobs sent for a workflow (`<queue> <job id>`; see dispatch.ts), so that the outbox
 * sweeper can tell a node a release job will enqueue from a lost one. In the workflow's slot.
 */
export function releaseJobsKey(prefix: string, workflowId: string): string {
  return `${prefix}:wf:{${workflowId}}:release-jobs`;
}

/**
 * The outbox sweepers' keys (see outbox-sweeper.ts): the turn, which the worker that sets it holds
 * until it expires, and where the last pass left off.
 */
export function outboxSweepKeys(prefix: string): { readonly turn: string; readonly progress: string } {
  return { turn: `${prefix}:outbox-sweep`, progress: `${prefix}:outbox-sweep:progress` };
}

/** The SCAN pattern matching each queue's id counter (one per queue a job was ever added to). */
export function queueIdPattern(prefix: string, cluster: boolean): string {
  return cluster ? `${prefix}:q:{*}:*:id` : `${prefix}:q:*:id`;
}

/** The queue whose id counter `key` is (see {@link queueIdPattern}), or undefined if it is none. */
export function queueOfIdKey(prefix: string, key: string, cluster: boolean): string | undefined {
  const head = cluster ? `${prefix}:q:{` : `${prefix}:q:`;
  if (!key.startsWith(head) || !key.endsWith(':id')) return undefined;
  const rest = key.slice(head.length, -':id'.length);
  if (!cluster) return rest;
  // `<queue>}:<queue>`
  const queue = rest.slice(0, (rest.length - 2) / 2);
  return rest === `${queue}}:${queue}` ? queue : undefined;
}

// ---------------------------------------------------------------------------------------------
// Control plane (DESIGN §7): the mailbox's channels, worker presence, and the task-event stream.
// Every key starts with the app's prefix, so a least-privilege ACL pattern `~<prefix>:*` covers it.
// ---------------------------------------------------------------------------------------------

/** Pub/sub channel every worker of the app listens to for control commands (and legacy revokes). */
export function controlChannel(prefix: string): string {
  return `${prefix}:control`;
}

/**
 * Pub/sub channel the replies to one control request are published on. Workers derive it from
 * the request id (never from a channel named in the message), so a forged command cannot make a
 * worker publish on another channel, such as a workflow's events.
 */
export function replyChannel(prefix: string, requestId: string): string {
  return `${prefix}:control:reply:${requestId}`;
}

/** The keys of worker presence; they share one hash tag, so every script touches one slot. */
export interface PresenceKeys {
  /** Sorted set: worker name → epoch ms (Redis's clock) of its last heartbeat. */
  readonly seen: string;
  /** Hash: worker name → its record as JSON (name, host, pid, queues, tasks, versions, …). */
  readonly info: string;
  /** Hash: worker name → its live counters as JSON, rewritten by each heartbeat. */
  readonly live: string;
}

export function presenceKeys(prefix: string): PresenceKeys {
  const base = `${prefix}:{${prefix}:workers}`;
  return { seen: `${base}:seen`, info: `${base}:info`, live: `${base}:live` };
}

/** The capped stream task and worker events are written to (Celery's `-E`). */
export function taskEventsKey(prefix: string): string {
  return `${prefix}:task-events`;
}
