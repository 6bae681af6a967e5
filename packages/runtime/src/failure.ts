/**
 * The one converter between errors and the failures stored in Redis. A worker turns whatever a
 * handler threw into a {@link RemoteError} record — never throwing itself, whatever it was given —
 * and any process turns a record back into the typed error `get()` rejects with.
 */
import { inspect } from 'node:util';
import * as v from 'valibot';
import {
  ChordError,
  ExpiredError,
  InvalidJobError,
  NotRegisteredError,
  RemoteTaskError,
  RevokedError,
  TaskError,
} from './errors.js';
import type { CeleriacError } from '@celeriac/canvas';

/** A failure as stored in Redis: enough to rebuild a typed error in any process. */
export interface RemoteError {
  /** Remote error class name, e.g. `TypeError` or `ChordError`. */
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  /** `CeleriacError` code when the failure was one of ours. */
  readonly code?: string;
  /** Task name and id of the task that failed. */
  readonly task: string;
  readonly id: string;
  /** The error's cause, if it had one; for a ChordError the header member's failure. */
  readonly cause?: RemoteError;
}

/** Which task a failure belongs to. */
export interface FailedTask {
  readonly id: string;
  readonly task: string;
}

/** Beyond these sizes a message or stack is cut: a failure record must stay a small write. */
const MAX_MESSAGE = 16_384;
const MAX_STACK = 65_536;
/** Causes kept below an error; deeper ones (or a cause cycle) are dropped. */
const MAX_CAUSES = 4;

/**
 * Captures anything a handler threw — an Error, a string, `null`, a circular object, an error
 * whose `name` is a BigInt or whose `message` getter throws — as a storable record. Never throws:
 * what cannot be read is described instead, so the task's own failure is what gets stored.
 */
export function toRemoteError(thrown: unknown, task: FailedTask, depth = 0): RemoteError {
  const { id, task: name } = task;
  if (!(thrown instanceof Error)) {
    return { name: 'NonErrorThrown', message: clip(`a non-Error value was thrown: ${describe(thrown)}`, MAX_MESSAGE), task: name, id };
  }
  const code = read(() => (thrown as { code?: unknown }).code);
  const stack = read(() => thrown.stack);
  const cause = depth < MAX_CAUSES ? read(() => thrown.cause) : undefined;
  return {
    name: clip(text(read(() => thrown.name)) || 'Error', 200),
    message: clip(text(read(() => thrown.message)), MAX_MESSAGE),
    ...(typeof stack === 'string' ? { stack: clip(stack, MAX_STACK) } : {}),
    ...(typeof code === 'string' && isCeleriacError(thrown) ? { code } : {}),
    task: name,
    id,
    ...(cause instanceof Error ? { cause: toRemoteError(cause, task, depth + 1) } : {}),
  };
}

/** Rebuilds the error a waiter should see from its stored record. */
export function fromRemoteError(remote: RemoteError): CeleriacError {
  if (remote.code === 'CHORD_FAILED' && remote.cause !== undefined) {
    return new ChordError(remote.cause.id, `${remote.cause.name}: ${remote.cause.message}`, fromRemoteError(remote.cause));
  }
  if (remote.code === 'REVOKED') {
    return remote.name === 'ExpiredError' ? new ExpiredError(remote.id, remote.message) : new RevokedError(remote.id, remote.message);
  }
  if (remote.code === 'NOT_REGISTERED') {
    const error = new NotRegisteredError(remote.task);
    error.message = remote.message;
    return error;
  }
  return new TaskError(remote, remoteCause(remote));
}

/** The handler's own error as an Error object, with its causes. */
function remoteCause(remote: RemoteError): Error {
  const cause = remote.cause === undefined ? undefined : remoteCause(remote.cause);
  return new RemoteTaskError(remote.name, remote.message, remote.stack, cause);
}

/** What a chord body (or any join) downstream of a failed task fails with. */
export function chordFailure(failed: FailedTask, remote: RemoteError): RemoteError {
  return {
    name: 'ChordError',
    code: 'CHORD_FAILED',
    message: `Dependency ${failed.id} raised ${remote.name}: ${remote.message}`,
    task: failed.task,
    id: failed.id,
    cause: remote,
  };
}

/** What a revoked task, and everything revoked with it, stores. */
export function revokedFailure(target: FailedTask): RemoteError {
  return toRemoteError(new RevokedError(target.id, `Task was revoked (revoke of ${target.id})`), target);
}

/** The shape of a stored failure (also what a pool child sends its parent). */
export const remoteErrorSchema: v.GenericSchema<RemoteError> = v.object({
  name: v.string(),
  message: v.string(),
  stack: v.exactOptional(v.string()),
  code: v.exactOptional(v.string()),
  task: v.string(),
  id: v.string(),
  cause: v.exactOptional(v.lazy(() => remoteErrorSchema)),
});

/**
 * Reads a stored failure. A record this version cannot read becomes an `InvalidJobError` failure
 * naming the task, rather than a crash in whoever reads it.
 */
export function parseRemoteError(raw: unknown, task: FailedTask): RemoteError {
  const parsed = v.safeParse(remoteErrorSchema, raw);
  if (parsed.success) return parsed.output;
  return toRemoteError(new InvalidJobError(`the stored failure of task ${task.id} is not readable by this version of Celeriac`), task);
}

function isCeleriacError(error: Error): boolean {
  return read(() => Symbol.for('celeriac.error') in error) === true;
}

/** Runs a getter that may throw (a hostile error's `message`, `name`, `stack`). */
function read<T>(get: () => T): T | undefined {
  try {
    return get();
  } catch {
    return undefined;
  }
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return describe(value);
}

/** A readable, bounded description of any value, circular ones included (Node's inspect). */
function describe(value: unknown): string {
  return read(() => inspect(value, { depth: 3, maxArrayLength: 20, maxStringLength: 1_000, breakLength: Infinity })) ?? typeof value;
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max)}… (${value.length - max} more characters)`;
}
