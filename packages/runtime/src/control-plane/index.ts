/**
 * @module control-plane
 *
 * Observation and control of an app's workers (DESIGN §7), Celery's split: remote **control**
 * (commands to workers) and **inspect** (questions they answer), both thin tables over a
 * **mailbox** (broadcast with replies over pub/sub); **presence** (who is online, from
 * heartbeats); and **task events** (Celery's `-E`: a capped stream with history pages and a live
 * tail). Every message read from Redis is validated before use.
 *
 * @example
 * ```ts
 * const plane = createControlPlane({ redis, prefix: 'celeriac' });
 * // worker side
 * const attached = plane.attachWorker(target, { description, live, taskEvents: true });
 * attached.events?.emit({ type: 'task-started', taskId, name });
 * // caller side (CLI, monitor)
 * await plane.control.workers();
 * await plane.control.inspect({ timeout: 2_000 }).registered(); // { 'w1@host': ['add'] }
 * const { events, next } = await plane.events.history({ limit: 50 });
 * ```
 */
export { createControlPlane } from './control-plane.js';
export type { AttachWorkerOptions, ControlPlane, ControlPlaneOptions, WorkerControl } from './control-plane.js';

export { Mailbox, DEFAULT_TIMEOUT_MS, MAILBOX_VERSION } from './mailbox.js';
export type {
  BroadcastOptions,
  CommandHandler,
  CommandHandlers,
  CommandRequest,
  MailboxBroadcastOptions,
  MailboxOptions,
  MailboxServer,
  RawReply,
} from './mailbox.js';

export { RemoteControl } from './remote-control.js';
export type { RemoteControlOptions, RevokeCommandOptions } from './remote-control.js';
export { Inspect, isCommandFailure } from './inspect.js';
export type { CommandFailure, CommandSender, InspectOptions, Replies } from './inspect.js';

export { controlHandlers } from './control-target.js';
export type { Awaitable, ControlTarget, WorkerCounts } from './control-target.js';
export { COMMAND_NAMES } from './commands.js';
export type {
  CommandArgs,
  CommandName,
  CommandReplies,
  OkReply,
  PoolStats,
  QueriedTask,
  QueryTaskReply,
  QueueInfo,
  RateLimit,
  ResourceUsage,
  ScheduledTaskInfo,
  TaskRequestInfo,
  TimeLimits,
  WorkerStats,
} from './commands.js';

export { Presence, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_RETENTION_MS, ONLINE_WINDOW_BEATS } from './presence.js';
export type { JoinOptions, LiveCounters, PresenceOptions, WorkerDescription, WorkerPresence, WorkerRecord, WorkerStatus } from './presence.js';
export type { SoftwareVersions } from './versions.js';

export { TaskEventReader, TaskEventWriter, TASK_EVENT_TYPES, DEFAULT_MAX_EVENTS } from './task-events.js';
export type {
  EventFields,
  EventPage,
  HistoryOptions,
  StoredTaskEvent,
  TailOptions,
  TaskEvent,
  TaskEventInput,
  TaskEventReaderOptions,
  TaskEventType,
  TaskEventWriterOptions,
  TaskFailedEvent,
  TaskFields,
  TaskReceivedEvent,
  TaskRetriedEvent,
  TaskRevokedEvent,
  TaskStartedEvent,
  TaskSucceededEvent,
  WorkerFields,
  WorkerHeartbeatEvent,
  WorkerOfflineEvent,
  WorkerOnlineEvent,
} from './task-events.js';

export { ControlArgumentError, ControlTimeoutError } from '../errors.js';
