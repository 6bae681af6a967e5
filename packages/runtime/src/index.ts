/**
 * @module @celeriac/runtime
 *
 * Runs `@celeriac/canvas` workflows on BullMQ over Redis: register tasks, start workers, apply
 * canvases, and read results — with `.parent` links — from any process.
 *
 * @example
 * ```ts
 * import { chain } from '@celeriac/canvas';
 * import { createApp } from '@celeriac/runtime';
 *
 * const app = createApp({ redis: process.env.REDIS_URL });
 * const add = app.task('add', (x: number, y: number) => x + y);
 * const worker = app.worker({ concurrency: 10, name: 'worker1@%h' });
 * const res = await app.apply(chain(add.s(2, 2), add.s(4), add.s(8)));
 * console.log(await res.get({ timeout: 10_000 })); // 16
 * await worker.close();
 * await app.close();
 * ```
 */
export { App, createApp } from './app.js';
export type { AppOptions, AppApplyOptions, ResultFor, ResultSubscription } from './app.js';
export type { ClusterDescription, RedisClient, RedisInput } from './connection.js';
export { AsyncResult, GroupResult } from './result.js';
export type { QueueCounts } from './queues.js';
export type { WorkflowSummary, WorkflowList, WorkflowListOptions } from './workflow-list.js';
export type { WorkflowSnapshot, WorkflowNode, WorkflowEdge, WorkflowGroup, SnapshotOptions, NodeChange } from './snapshot.js';
export type { AnyResult, GetOptions } from './result.js';
export type { TaskState } from './envelope.js';
export { READY_STATES } from './envelope.js';
export { Worker, expandNodeName } from './worker.js';
export type { WorkerOptions, WorkerCounts } from './worker.js';
export type { PoolKind, AutoscaleOptions } from './pool/options.js';
export { isPoolChild } from './pool/role.js';
export { importIncludes } from './include.js';
export { consoleLogger } from './logger.js';
export type { Logger, LogLevel } from './logger.js';
export type {
  AppTask,
  ApplyOptions,
  CallOptions,
  ErrorMatcher,
  RetryOptions,
  TaskContext,
  TaskDefinitionOptions,
} from './task.js';
export type { RevokeOptions } from './control.js';
export { RemoteControl, Inspect, TaskEventReader, isCommandFailure, TASK_EVENT_TYPES } from './control-plane/index.js';
export type {
  BroadcastOptions,
  CommandFailure,
  InspectOptions,
  OkReply,
  QueriedTask,
  QueueInfo,
  Replies,
  ScheduledTaskInfo,
  TaskRequestInfo,
  WorkerStats,
  WorkerStatus,
  WorkerRecord,
  HistoryOptions,
  TailOptions,
  EventPage,
  StoredTaskEvent,
  TaskEvent,
  TaskEventType,
} from './control-plane/index.js';
export type { RemoteError } from './failure.js';
export {
  InvalidArgumentError,
  InvalidTaskOptionError,
  TaskError,
  RemoteTaskError,
  NotRegisteredError,
  ChordError,
  TimeoutError,
  InvalidJobError,
  EncodeError,
  ClosedError,
  ResultNotFoundError,
  RevokedError,
  ExpiredError,
  TimeLimitExceeded,
  SoftTimeLimitExceeded,
  MaxRetriesExceededError,
  WorkerLostError,
  PoolStartError,
  ControlArgumentError,
  ControlTimeoutError,
  ConnectionError,
  PermissionError,
  PayloadTooLargeError,
} from './errors.js';
export type { RuntimeErrorCode } from './errors.js';
export { CeleriacError, CanvasError } from '@celeriac/canvas';
