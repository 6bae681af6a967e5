/**
 * The result envelope: how a node's outcome is stored in Redis. The value is embedded as raw JSON
 * text so storing and reading a result costs one JSON pass, and Lua never re-encodes user data
 * (cjson would round large numbers).
 */
import { CanvasError } from '@celeriac/canvas';
import type { RemoteError } from './errors.js';

/** Celery's task states. `PENDING` means unknown or not yet run. */
export type TaskState = 'PENDING' | 'STARTED' | 'RETRY' | 'SUCCESS' | 'FAILURE' | 'REVOKED';

/** States after which a result never changes (Celery's `READY_STATES`). */
export const READY_STATES: ReadonlySet<TaskState> = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/** A decoded envelope. */
export type Envelope =
  | { readonly state: 'SUCCESS'; readonly value: unknown; readonly doneAt: number }
  | { readonly state: 'FAILURE' | 'RETRY' | 'REVOKED'; readonly error: RemoteError; readonly doneAt: number };

/**
 * Encodes a successful result. Throws `CanvasError` when the value is not JSON (a BigInt, a cycle,
 * a function at the top level), so the task fails with a message saying so rather than storing garbage.
 */
export function encodeSuccess(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value === undefined ? null : value);
  } catch (error) {
    throw new CanvasError('result', `the task returned a value that is not JSON (${(error as Error).message}); return plain data`);
  }
  if (json === undefined) throw new CanvasError('result', 'the task returned a value that is not JSON; return plain data');
  return `{"s":"SUCCESS","d":${Date.now()},"v":${json}}`;
}

/** Encodes a failure, retry or revocation. */
export function encodeError(state: 'FAILURE' | 'RETRY' | 'REVOKED', error: RemoteError): string {
  return JSON.stringify({ s: state, d: Date.now(), e: error });
}

/** Decodes an envelope read from Redis. */
export function decodeEnvelope(text: string): Envelope {
  const raw = JSON.parse(text) as { s: TaskState; d: number; v?: unknown; e?: RemoteError };
  if (raw.s === 'SUCCESS') return { state: 'SUCCESS', value: raw.v ?? null, doneAt: raw.d };
  return { state: raw.s as 'FAILURE' | 'RETRY' | 'REVOKED', error: raw.e!, doneAt: raw.d };
}
