/**
 * The app's recent workflows, read from the store — what the monitor lists when workers send no
 * task events (DESIGN §7), and what `celeriac` can list without them. There is no index of
 * workflows (applying one writes none, so `apply` pays nothing for this): listing SCANs the
 * workflows' graph keys and reads each one's meta, so its cost grows with the number of workflows
 * Redis holds (about 30 ms per 1 000 small workflows here). It is meant for an operator's page,
 * not a hot path.
 */
import type { RedisClient } from './connection.js';
import { scanKeys } from './scan.js';
import type { TaskState } from './envelope.js';
import { InvalidArgumentError } from './errors.js';
import { workflowKeyScan } from './keys.js';
import { leavesOf, type WorkflowMeta } from './plan.js';
import { aggregate } from './snapshot.js';
import type { WorkflowStore } from './store.js';

/** One workflow, summarised. */
export interface WorkflowSummary {
  /** The workflow's id: the id of the result `apply` returned. */
  readonly id: string;
  /** Celery's `root_id`: the first task's id. */
  readonly rootId: string;
  /** Epoch ms it was applied. */
  readonly createdAt: number;
  /** The name of its first task. */
  readonly task: string;
  /** Its tasks, in order of first appearance, without repeats (at most 10). */
  readonly tasks: readonly string[];
  /** Number of tasks in it. */
  readonly size: number;
  /** The state of the result `apply` returned (as `WorkflowSnapshot.state`). */
  readonly state: TaskState;
  /** How many of its tasks are in each state (states with none left out). */
  readonly counts: Readonly<Partial<Record<TaskState, number>>>;
}

/** Options of `app.workflows()`. */
export interface WorkflowListOptions {
  /** Workflows returned at most, newest first: 1 to 1 000. Default 50. */
  readonly limit?: number | undefined;
  /** Only workflows older than this cursor: the `next` of the previous page. */
  readonly before?: string | undefined;
}

/** A page of workflows, newest first. */
export interface WorkflowList {
  readonly workflows: readonly WorkflowSummary[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  readonly next: string | null;
  /** Workflows found in Redis (all of them, not only this page's). */
  readonly scanned: number;
}

/** Keys returned per SCAN call, and metas read at once. */
const SCAN_COUNT = 1_000;
const META_BATCH = 200;
/** Distinct task names a summary lists. */
const MAX_TASK_NAMES = 10;

/**
 * Lists the workflows Redis holds, newest first.
 *
 * @param redis - the app's connection
 * @param store - the app's workflow store
 * @param options - page size and cursor
 * @returns one page of summaries
 * @throws InvalidArgumentError for a bad `limit` or `before`
 */
export async function listWorkflows(redis: RedisClient, store: WorkflowStore, options: WorkflowListOptions = {}): Promise<WorkflowList> {
  const { limit = 50, before } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1_000) {
    throw new InvalidArgumentError('limit', `expected a whole number from 1 to 1000, got ${String(limit)}`);
  }
  const cursorMatch = before === undefined ? null : CURSOR.exec(before);
  if (before !== undefined && cursorMatch === null) {
    throw new InvalidArgumentError('before', `expected the "next" of a previous page, such as "1700000000000:<id>", got ${JSON.stringify(before)}`);
  }
  const older = cursorMatch === null ? () => true : (meta: WorkflowMeta) => newer({ createdAt: Number(cursorMatch[1]), id: cursorMatch[2]! }, meta);
  const { pattern, idOf } = workflowKeyScan(store.prefix, 'graph');
  // The newest `limit + 1` metas seen so far, newest first: one more than the page, to know if
  // an older page exists.
  const newest: WorkflowMeta[] = [];
  let scanned = 0;
  for await (const keys of scanKeys(redis, pattern, SCAN_COUNT)) {
    const ids = keys.map(idOf).filter((id) => id !== undefined);
    for (let from = 0; from < ids.length; from += META_BATCH) {
      const metas = await Promise.all(ids.slice(from, from + META_BATCH).map((id) => store.meta(id).catch(() => null)));
      for (const meta of metas) {
        if (meta === null) continue; // expired meanwhile, or not a workflow of this version
        scanned++;
        if (!older(meta)) continue;
        keepNewest(newest, meta, limit + 1);
      }
    }
  }
  const page = newest.slice(0, limit);
  const workflows = await Promise.all(page.map((meta) => summarise(store, meta)));
  const last = page[page.length - 1];
  return { workflows, next: newest.length > limit && last !== undefined ? `${last.createdAt}:${last.id}` : null, scanned };
}

async function summarise(store: WorkflowStore, meta: WorkflowMeta): Promise<WorkflowSummary> {
  const all = Array.from({ length: meta.nodes.length }, (_, i) => i);
  const states = await store.states(meta.id, all);
  const counts: Partial<Record<TaskState, number>> = {};
  for (const state of states) counts[state] = (counts[state] ?? 0) + 1;
  const tasks = new Set<string>();
  for (const node of meta.nodes) {
    if (tasks.size === MAX_TASK_NAMES) break;
    tasks.add(node.task);
  }
  return {
    id: meta.id,
    rootId: meta.rootId,
    createdAt: meta.createdAt,
    task: meta.nodes[0]?.task ?? '',
    tasks: [...tasks],
    size: meta.nodes.length,
    state: aggregate(leavesOf(meta, meta.result).map((i) => states[i]!)),
    counts,
  };
}

/** A page cursor: `<createdAt>:<id>` of the last workflow of the previous page. */
const CURSOR = /^(\d{1,16}):(.+)$/s;

/** Whether `a` sorts before `b`, newest first; equal times are ordered by id, so pages are stable. */
function newer(a: Pick<WorkflowMeta, 'createdAt' | 'id'>, b: Pick<WorkflowMeta, 'createdAt' | 'id'>): boolean {
  return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);
}

/** Inserts `meta` into `list` (newest first), keeping at most `max` entries. */
function keepNewest(list: WorkflowMeta[], meta: WorkflowMeta, max: number): void {
  if (list.length === max && !newer(meta, list[max - 1]!)) return;
  let at = list.length;
  while (at > 0 && newer(meta, list[at - 1]!)) at--;
  list.splice(at, 0, meta);
  if (list.length > max) list.pop();
}
