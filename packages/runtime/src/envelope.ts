/**
 * The result envelope: how a node's outcome is stored in Redis. The value is embedded as raw JSON
 * text so storing and reading a result costs one JSON pass, and Lua never re-encodes user data
 * (cjson would round large numbers).
 */
import { findJsonProblem } from '@celeriac/canvas';
import { EncodeError, InvalidJobError, PayloadTooLargeError } from './errors.js';
import { parseRemoteError, toRemoteError, type FailedTask, type RemoteError } from './failure.js';

/** Celery's task states. `PENDING` means unknown or not yet run. */
export type TaskState = 'PENDING' | 'STARTED' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

/** States after which a result never changes (Celery's `READY_STATES`). */
export const READY_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** A decoded envelope. */
export type Envelope =
  | { readonly state: 'SUCCESS'; readonly value: unknown; readonly doneAt: number }
  | { readonly state: 'FAILURE' | 'RETRY' | 'REVOKED'; readonly error: RemoteError; readonly doneAt: number };

/** Default of the app's `maxPayloadSize`: 16 MiB of JSON per task's arguments, or per result. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;

/**
 * Encodes a successful result; a top-level `undefined` is stored as `null` (Celery's `None`).
 * Throws `EncodeError` naming the path when the value is not JSON that round-trips faithfully
 * (a `Map`, `NaN`, a function inside an object, a cycle…), checked as strictly as arguments are:
 * the task fails saying so, rather than its waiters getting something else than it returned.
 * Throws `PayloadTooLargeError` beyond `maxSize` bytes of JSON.
 */
export function encodeSuccess(value: unknown, maxSize = DEFAULT_MAX_PAYLOAD): string {
  if (value === undefined) return `{"s":"SUCCESS","d":${Date.now()},"v":null}`;
  const problem = findJsonProblem(value, 'result');
  if (problem !== undefined) throw new EncodeError(problem.path, `${problem.message}; return plain JSON data`);
  const json = JSON.stringify(value);
  checkSize(json, maxSize, 'the result');
  return `{"s":"SUCCESS","d":${Date.now()},"v":${json}}`;
}

/** Throws `PayloadTooLargeError` when `json` takes more than `maxSize` bytes (UTF-8). */
export function checkSize(json: string, maxSize: number, what: string): void {
  // Counting bytes costs a pass over the text: only when its length says it could be too large.
  if (json.length * 3 <= maxSize) return;
  const size = Buffer.byteLength(json);
  if (size > maxSize) throw new PayloadTooLargeError(what, size, maxSize);
}

/** Encodes a failure, retry or revocation. */
export function encodeError(state: 'FAILURE' | 'RETRY' | 'REVOKED', error: RemoteError): string {
  return JSON.stringify({ s: state, d: Date.now(), e: error });
}

const UNREADABLE: FailedTask = { id: 'unknown', task: 'unknown' };

/**
 * Decodes an envelope read from Redis. A stored failure this version cannot read is returned as
 * an `InvalidJobError` failure; text that is no envelope at all throws `InvalidJobError`.
 */
export function decodeEnvelope(text: string): Envelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new InvalidJobError('a stored result is not an envelope: the workflow was written by something other than Celeriac');
  }
  const raw = parsed as { s?: unknown; d?: unknown; v?: unknown; e?: unknown };
  const doneAt = typeof raw.d === 'number' ? raw.d : 0;
  if (raw.s === 'SUCCESS') return { state: 'SUCCESS', value: raw.v ?? null, doneAt };
  if (raw.s === 'FAILURE' || raw.s === 'RETRY' || raw.s === 'REVOKED') return { state: raw.s, error: parseRemoteError(raw.e, UNREADABLE), doneAt };
  return {
    state: 'FAILURE',
    error: toRemoteError(new InvalidJobError(`a stored result has the unknown state ${JSON.stringify(raw.s)}`), UNREADABLE),
    doneAt,
  };
}
