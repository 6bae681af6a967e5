/**
 * Tasks in Flower's JSON shape (`GET /api/tasks`, `GET /api/task/info/:id`), so scripts written
 * against Flower read them unchanged: snake_case names, times in epoch seconds and `runtime` in
 * seconds (Celery's units; Celeriac's events count milliseconds). Celeriac's own fields
 * (`workflow_id`, `group_id`, `queue`) are added.
 */
import type { TaskRecord } from './task-table.js';

/** A task as Flower's API returns it. */
export interface FlowerTask {
  readonly uuid: string;
  readonly name: string;
  readonly state: string;
  readonly received: number | null;
  readonly sent: null;
  readonly started: number | null;
  readonly rejected: null;
  readonly succeeded: number | null;
  readonly failed: number | null;
  readonly retried: number | null;
  readonly revoked: number | null;
  readonly args: string | null;
  readonly kwargs: string | null;
  readonly eta: number | null;
  readonly expires: number | null;
  readonly retries: number;
  readonly worker: string | null;
  readonly result: string | null;
  readonly exception: string | null;
  readonly timestamp: number;
  readonly runtime: number | null;
  readonly traceback: string | null;
  readonly root_id: string | null;
  readonly parent_id: string | null;
  readonly children: readonly string[];
  readonly workflow_id: string | null;
  readonly group_id: string | null;
  readonly queue: string | null;
}

const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

/**
 * A task record in Flower's shape.
 *
 * @param record - the monitor's record
 * @returns Flower's fields
 */
export function flowerTask(record: TaskRecord): FlowerTask {
  return {
    uuid: record.id,
    name: record.name,
    state: record.state,
    received: seconds(record.received),
    sent: null,
    started: seconds(record.started),
    rejected: null,
    succeeded: seconds(record.succeeded),
    failed: seconds(record.failed),
    retried: seconds(record.retried),
    revoked: seconds(record.revoked),
    args: record.args,
    kwargs: record.kwargs,
    eta: seconds(record.eta),
    expires: seconds(record.expires),
    retries: record.retries,
    worker: record.worker,
    result: record.result,
    exception: record.exception,
    timestamp: record.timestamp / 1000,
    runtime: seconds(record.runtime),
    traceback: record.traceback,
    root_id: record.rootId,
    parent_id: record.parentId,
    children: record.children,
    workflow_id: record.workflowId,
    group_id: record.groupId,
    queue: record.queue,
  };
}
