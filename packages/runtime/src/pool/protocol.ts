/**
 * The messages a worker and its pool children exchange over the IPC channel, versioned and
 * validated on both sides: a child is a separate program (it may even run another copy of the
 * runtime), so neither side trusts the shape of what it receives.
 *
 * Messages travel with Node's `advanced` serialization (the structured clone algorithm), not
 * JSON: a task's value reaches the worker as the child produced it — a `Map` stays a `Map`, `NaN`
 * stays `NaN` — so the worker's own result check (`encodeSuccess`) refuses what JSON cannot carry
 * exactly as it does for the async pool. The child checks a value first too, since cloning loses
 * what JSON would also lose but structured clone silently drops (class prototypes, `toJSON`,
 * symbol keys) and cannot carry at all (functions).
 *
 * A run: the worker sends `run`; the child answers `done` with the outcome. While it runs, the
 * child may send `replace` (the handler called `ctx.replace`) and waits for `replaced`; the worker
 * may send `abort` (the handler's `ctx.signal` fires). `stop` asks an idle child to exit.
 */
import * as v from 'valibot';
import { RemoteTaskError } from '../errors.js';
import { remoteErrorSchema, type RemoteError } from '../failure.js';

/** Version of this protocol; every message carries it, and a message of another version is refused. */
export const PROTOCOL_VERSION = 1;

const version = v.literal(PROTOCOL_VERSION);
const seconds = v.pipe(v.number(), v.finite(), v.minValue(0));
const call = v.pipe(v.number(), v.safeInteger(), v.minValue(1));

const parentMessageSchema = v.variant('type', [
  v.object({
    v: version,
    type: v.literal('run'),
    /** The task job in its wire form; the child validates it as a worker validates a job. */
    job: v.unknown(),
    queue: v.string(),
    softTimeLimit: v.exactOptional(seconds),
    ignoreResult: v.exactOptional(v.boolean()),
  }),
  v.object({ v: version, type: v.literal('abort'), reason: remoteErrorSchema }),
  v.object({ v: version, type: v.literal('replaced'), call, error: v.exactOptional(remoteErrorSchema) }),
  v.object({ v: version, type: v.literal('stop') }),
]);

const outcomeSchema = v.variant('kind', [
  v.object({ kind: v.literal('success'), value: v.unknown() }),
  v.object({
    kind: v.literal('failure'),
    error: remoteErrorSchema,
    /** Whether the task's `autoretryFor` matches the error, decided where its class exists. */
    autoretry: v.boolean(),
  }),
  v.object({
    kind: v.literal('retry'),
    countdown: v.exactOptional(seconds),
    maxRetries: v.exactOptional(v.nullable(v.pipe(v.number(), v.safeInteger(), v.minValue(0)))),
    error: v.exactOptional(remoteErrorSchema),
  }),
  v.object({ kind: v.literal('replaced') }),
]);

const childMessageSchema = v.variant('type', [
  v.object({ v: version, type: v.literal('ready'), tasks: v.array(v.string()) }),
  v.object({ v: version, type: v.literal('load-failed'), error: remoteErrorSchema }),
  v.object({ v: version, type: v.literal('replace'), call, canvas: v.unknown() }),
  v.object({ v: version, type: v.literal('done'), outcome: outcomeSchema }),
]);

/** A message from the worker to a child. */
export type ParentMessage = v.InferOutput<typeof parentMessageSchema>;
/** A message from a child to the worker. */
export type ChildMessage = v.InferOutput<typeof childMessageSchema>;
/** A handler's outcome as a child reports it. */
export type WireOutcome = v.InferOutput<typeof outcomeSchema>;

/** The result of reading a message: the message, or why it cannot be read. */
export type Parsed<T> = { readonly ok: true; readonly message: T } | { readonly ok: false; readonly problem: string };

function parse<T>(schema: v.GenericSchema<unknown, T>, raw: unknown): Parsed<T> {
  const parsed = v.safeParse(schema, raw);
  if (parsed.success) return { ok: true, message: parsed.output };
  const version = typeof raw === 'object' && raw !== null ? (raw as { v?: unknown }).v : undefined;
  if (version !== PROTOCOL_VERSION) {
    return { ok: false, problem: `it speaks pool protocol version ${JSON.stringify(version)}, this worker ${PROTOCOL_VERSION}` };
  }
  const issue = parsed.issues[0];
  const path = issue.path?.map((item) => String(item.key)).join('.') ?? '';
  return { ok: false, problem: `${path === '' ? '' : `${path}: `}${issue.message}` };
}

/** Reads a message a child received from its worker. */
export function readParentMessage(raw: unknown): Parsed<ParentMessage> {
  return parse(parentMessageSchema, raw);
}

/** Reads a message the worker received from a child. */
export function readChildMessage(raw: unknown): Parsed<ChildMessage> {
  return parse(childMessageSchema, raw);
}

const marker = Symbol.for('celeriac.error');

/**
 * Rebuilds an error captured in another process, so that capturing it again (`toRemoteError`)
 * gives back the same record: the remote `name`, `message`, `stack`, `code` and causes.
 */
export function rebuildError(remote: RemoteError): RemoteTaskError {
  const error = new RemoteTaskError(remote.name, remote.message, remote.stack, remote.cause === undefined ? undefined : rebuildError(remote.cause));
  // A stack made here would describe the worker, not the handler that threw.
  if (remote.stack === undefined) Object.defineProperty(error, 'stack', { value: undefined, configurable: true, writable: true });
  if (remote.code !== undefined) {
    // Keeps a Celeriac error's code (NOT_REGISTERED, TIME_LIMIT, …), which waiters dispatch on.
    Object.defineProperty(error, 'code', { value: remote.code, enumerable: true });
    Object.defineProperty(error, marker, { value: true });
  }
  return error;
}
