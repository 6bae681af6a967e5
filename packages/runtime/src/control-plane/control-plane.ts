/**
 * The control plane of one app, assembled: the mailbox, presence, remote control and the
 * task-event reader share the app's command connection, and the mailbox adds one subscriber
 * connection (opened on first use). A worker attaches to it with {@link ControlPlane.attachWorker}:
 * it joins presence, serves the command table, and gets a task-event writer when events are on.
 */
import type { RedisClient } from '../connection.js';
import { controlHandlers, type ControlTarget } from './control-target.js';
import type { Logger } from '../logger.js';
import type { ChannelSubscriber } from '../subscriber.js';
import { Mailbox } from './mailbox.js';
import { Presence, type LiveCounters, type WorkerDescription, type WorkerPresence } from './presence.js';
import { RemoteControl } from './remote-control.js';
import { TaskEventReader, TaskEventWriter } from './task-events.js';

/** Options of {@link createControlPlane}. */
export interface ControlPlaneOptions {
  /** The app's command connection; stays the caller's. Tail connections copy its settings. */
  readonly redis: RedisClient;
  /** The app's subscriber connection; stays the caller's. */
  readonly subscriber: ChannelSubscriber;
  /** The app's key prefix. */
  readonly prefix: string;
  readonly logger?: Logger;
  /** Milliseconds an offline worker stays listed by presence. Default 1 h. */
  readonly presenceRetention?: number;
}

/** Options of {@link ControlPlane.attachWorker}. */
export interface AttachWorkerOptions {
  /** What presence records about the worker (its name comes from the target). */
  readonly description: Omit<WorkerDescription, 'name'>;
  /** The worker's live counters, read at each heartbeat. */
  readonly live: () => LiveCounters;
  /** Milliseconds between heartbeats. Default 2 000 (Celery's). */
  readonly heartbeatInterval?: number;
  /**
   * Task events (Celery's `-E`): off by default. `true`, or the stream's approximate length
   * (default 100 000 events).
   */
  readonly taskEvents?: boolean | { readonly maxLength?: number };
  /** The connection events are written on; default the control plane's. Pass one the worker already uses. */
  readonly eventConnection?: RedisClient;
}

/** A worker's attachment to the control plane. */
export interface WorkerControl {
  /** The event writer when task events are on, else undefined: emit with `events?.emit({...})`. */
  readonly events: TaskEventWriter | undefined;
  /** The worker's presence membership (call `update` after consumers or the pool change). */
  readonly presence: WorkerPresence;
  /** Resolves once the worker is listed by presence and hears commands. */
  readonly ready: Promise<void>;
  /** Leaves presence (with a `worker-offline` event), stops serving commands, and flushes events. */
  close(): Promise<void>;
}

/** An app's control plane; see {@link createControlPlane}. */
export interface ControlPlane {
  readonly mailbox: Mailbox;
  readonly presence: Presence;
  /** Celery's `app.control`. */
  readonly control: RemoteControl;
  /** Task-event history and live tail. */
  readonly events: TaskEventReader;
  /**
   * Attaches a worker: joins presence, serves the command table built from `target`, and creates
   * its task-event writer when events are on.
   */
  attachWorker(target: ControlTarget, options: AttachWorkerOptions): WorkerControl;
}

/**
 * Assembles an app's control plane on its command connection.
 *
 * @param options - connection, prefix, logger
 * @returns the mailbox, presence, remote control and event reader
 *
 * @example
 * ```ts
 * const plane = createControlPlane({ redis: app.redis, prefix: app.prefix });
 * const attached = plane.attachWorker(worker, { description, live: () => worker.counters(), taskEvents: true });
 * await plane.control.inspect().ping(); // { 'w1@host': { ok: 'pong' } }
 * await attached.close();
 * await plane.close();
 * ```
 */
export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const { redis, prefix, logger } = options;
  const common = { redis, prefix, ...(logger === undefined ? {} : { logger }) };
  const mailbox = new Mailbox({ ...common, subscriber: options.subscriber });
  const presence = new Presence({ ...common, ...(options.presenceRetention === undefined ? {} : { retention: options.presenceRetention }) });
  const control = new RemoteControl({ mailbox, presence });
  const events = new TaskEventReader(common);
  return {
    mailbox,
    presence,
    control,
    events,
    attachWorker(target, attach) {
      const { taskEvents = false } = attach;
      const writer =
        taskEvents === false
          ? undefined
          : new TaskEventWriter({
              ...common,
              redis: attach.eventConnection ?? redis,
              worker: target.name,
              ...(typeof taskEvents === 'object' && taskEvents.maxLength !== undefined ? { maxLength: taskEvents.maxLength } : {}),
            });
      const server = mailbox.serve(target.name, controlHandlers(target));
      const membership = presence.join(
        { ...attach.description, name: target.name },
        { live: attach.live, events: writer, ...(attach.heartbeatInterval === undefined ? {} : { interval: attach.heartbeatInterval }) },
      );
      let closing: Promise<void> | undefined;
      const ready = Promise.all([server.ready, membership.ready]).then(() => {});
      ready.catch(() => {}); // rejects only when closed before ready; nobody has to await it
      return {
        events: writer,
        presence: membership,
        ready,
        close: () =>
          (closing ??= (async () => {
            await membership.leave();
            server.close();
            await writer?.flush();
          })()),
      };
    },
  };
}
