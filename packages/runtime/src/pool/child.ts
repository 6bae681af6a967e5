/**
 * The program a pool child runs (Celery's prefork child): it imports the app module named on its
 * command line, reports the tasks it found, then runs one handler at a time for its worker and
 * reports each outcome. The worker does everything else — taking jobs from Redis, admitting them,
 * recording outcomes — so a child never talks to the queues.
 *
 * A handler runs here as it would in the worker (`runInline`: the same context, soft time limit,
 * retry and replace), except for the hard time limit, which the worker enforces by killing this
 * process: only that stops a handler that never yields.
 */
import { parseCanvas, type Canvas } from '@celeriac/canvas';
import { publicNames } from '../admit.js';
import { encodeSuccess } from '../envelope.js';
import { InvalidJobError, NotRegisteredError } from '../errors.js';
import { importIncludes } from '../include.js';
import { runInline, TaskAbort, type Outcome } from '../execute.js';
import { toRemoteError, type FailedTask } from '../failure.js';
import { isUnreadable, readTaskJob, type JobOptions } from '../job-data.js';
import { autoretryMatches, type RegisteredTask } from '../task.js';
import { PROTOCOL_VERSION, readParentMessage, rebuildError, type ChildMessage, type ParentMessage, type WireOutcome } from './protocol.js';
import { markPoolChild } from './role.js';

type RunMessage = Extract<ParentMessage, { type: 'run' }>;

/** The handler running now, and its `ctx.replace` calls waiting for the worker's answer. */
interface Current {
  readonly abort: TaskAbort;
  readonly calls: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
}

/** Exit code of a child that cannot go on (an unreadable message from its worker). */
const EX_PROTOCOL = 76;

const UNKNOWN_TASK: FailedTask = { id: 'unknown', task: 'unknown' };

function send(message: ChildMessage, then?: () => void): void {
  process.send!(message, undefined, {}, then);
}

function fatal(message: string, code: number): never {
  process.stderr.write(`[celeriac] pool child ${process.pid}: ${message}\n`);
  process.exit(code);
}

if (process.send === undefined) fatal('this program runs inside a Celeriac worker with pool: "processes"; it has no worker to serve', 2);

markPoolChild();
// The worker decides when its children stop: Ctrl-C reaches the whole process group, and a warm
// shutdown must let this child finish its task (Celery's children ignore SIGINT too).
process.on('SIGINT', () => {});
// The worker is gone: nobody is left to report to, and its jobs return to their queues.
process.on('disconnect', () => process.exit(0));

const appModule = process.argv[2] ?? '';
let registry: ReadonlyMap<string, RegisteredTask>;
try {
  registry = await loadRegistry(appModule);
} catch (error) {
  send({ v: PROTOCOL_VERSION, type: 'load-failed', error: toRemoteError(error, { id: '', task: appModule }) }, () => process.exit(1));
  await new Promise(() => {}); // exits once the message is sent
  throw error; // unreachable: tells the compiler `registry` is set below
}

let current: Current | undefined;
let stopping = false;
let calls = 0;

process.on('message', (raw: unknown) => {
  const read = readParentMessage(raw);
  if (!read.ok) fatal(`a message from the worker cannot be read: ${read.problem}`, EX_PROTOCOL);
  const message = read.message;
  switch (message.type) {
    case 'run':
      if (current !== undefined) fatal('the worker sent a task while another one runs here', EX_PROTOCOL);
      void run(message);
      return;
    case 'abort':
      current?.abort.abort(rebuildError(message.reason));
      return;
    case 'replaced': {
      const waiter = current?.calls.get(message.call);
      current?.calls.delete(message.call);
      if (message.error === undefined) waiter?.resolve();
      else waiter?.reject(rebuildError(message.error));
      return;
    }
    case 'stop':
      stopping = true;
      if (current === undefined) process.exit(0);
      return;
  }
});
send({ v: PROTOCOL_VERSION, type: 'ready', tasks: [...registry.keys()] });

/** Imports the app module and finds its app's registry: the export `app`, or the default export. */
async function loadRegistry(href: string): Promise<ReadonlyMap<string, RegisteredTask>> {
  if (href === '') throw new Error('no app module was named on the command line');
  const exports = (await import(href)) as Record<string, unknown>;
  for (const name of ['app', 'default']) {
    const registry = registryOf(exports[name]);
    if (registry === undefined) continue;
    // The app's `include` modules register more tasks into the same (live) registry.
    await importIncludes(exports[name] as { include?: readonly (string | URL)[] }, href);
    return registry;
  }
  const names = Object.keys(exports);
  throw new Error(
    `it exports no Celeriac app: export the app as \`app\` or as the default export (its exports: ${names.length === 0 ? 'none' : names.join(', ')})`,
  );
}

/** The task registry of a Celeriac app (of any copy of the runtime), or undefined for anything else. */
function registryOf(candidate: unknown): ReadonlyMap<string, RegisteredTask> | undefined {
  if (typeof candidate !== 'object' || candidate === null || !('internals' in candidate)) return undefined;
  const internals: unknown = (candidate as { internals: unknown }).internals;
  const registry = typeof internals === 'object' && internals !== null ? (internals as { registry?: unknown }).registry : undefined;
  return registry instanceof Map ? (registry as ReadonlyMap<string, RegisteredTask>) : undefined;
}

async function run(message: RunMessage): Promise<void> {
  const state: Current = { abort: new TaskAbort(), calls: new Map() };
  current = state;
  let outcome: WireOutcome;
  try {
    outcome = await execute(message, state);
  } catch (error) {
    outcome = { kind: 'failure', error: toRemoteError(error, UNKNOWN_TASK), autoretry: false };
  }
  current = undefined;
  report(outcome, message.ignoreResult === true);
}

async function execute(message: RunMessage, state: Current): Promise<WireOutcome> {
  const job = readTaskJob(message.job);
  if (isUnreadable(job)) {
    return { kind: 'failure', error: toRemoteError(new InvalidJobError(`the worker sent a job this child cannot read: ${job.problem}`), UNKNOWN_TASK), autoretry: false };
  }
  const task = registry.get(job.task);
  if (task === undefined) {
    // The worker's app knows the task (it admitted the job), the app module's does not.
    const error = new NotRegisteredError(job.task, publicNames(registry));
    error.message += ` (pool child ${process.pid} loaded ${appModule}: is that the module that defines the worker's app?)`;
    return { kind: 'failure', error: toRemoteError(error, job), autoretry: false };
  }
  const options: JobOptions = {
    ...(message.softTimeLimit === undefined ? {} : { softTimeLimit: message.softTimeLimit }),
    ...(message.ignoreResult === undefined ? {} : { ignoreResult: message.ignoreResult }),
  };
  const outcome = await runInline({
    task,
    job,
    queue: message.queue,
    options,
    abort: state.abort,
    replace: (canvas: Canvas) => replace(state, canvas),
  });
  return toWire(outcome, task, job, message.ignoreResult === true);
}

/** Asks the worker to apply the replacement (it holds the Redis side) and waits for its answer. */
function replace(state: Current, canvas: Canvas): Promise<void> {
  // Checked here, so a canvas that is not one fails in the handler exactly as in the worker.
  const parsed = parseCanvas(canvas);
  const call = ++calls;
  return new Promise<void>((resolve, reject) => {
    state.calls.set(call, { resolve, reject });
    send({ v: PROTOCOL_VERSION, type: 'replace', call, canvas: parsed });
  });
}

function toWire(outcome: Outcome, task: RegisteredTask, job: FailedTask, ignoreResult: boolean): WireOutcome {
  switch (outcome.kind) {
    case 'success':
      if (!ignoreResult) {
        // Structured clone would turn a class instance into a plain object, and drop toJSON and
        // symbol keys, where the worker would refuse them: check as the worker does, here.
        try {
          encodeSuccess(outcome.value, Number.POSITIVE_INFINITY); // the worker checks the size, against its app's limit
        } catch (error) {
          return { kind: 'failure', error: toRemoteError(error, job), autoretry: false };
        }
      }
      return { kind: 'success', value: outcome.value };
    case 'failure':
      return { kind: 'failure', error: toRemoteError(outcome.error, job), autoretry: autoretryMatches(task, outcome.error) };
    case 'retry': {
      const { countdown, maxRetries, error } = outcome.request;
      return {
        kind: 'retry',
        ...(countdown === undefined ? {} : { countdown }),
        ...(maxRetries === undefined ? {} : { maxRetries }),
        ...(error === undefined ? {} : { error: toRemoteError(error, job) }),
      };
    }
    case 'replaced':
      return { kind: 'replaced' };
  }
}

function report(outcome: WireOutcome, ignoreResult: boolean): void {
  const then = (): void => {
    if (stopping) process.exit(0);
  };
  try {
    send({ v: PROTOCOL_VERSION, type: 'done', outcome }, then);
  } catch (error) {
    // Only a value can fail to clone (a function inside it), and only when its result is ignored:
    // otherwise the check above refused it.
    const fallback: WireOutcome = ignoreResult ? { kind: 'success', value: null } : { kind: 'failure', error: toRemoteError(error, UNKNOWN_TASK), autoretry: false };
    send({ v: PROTOCOL_VERSION, type: 'done', outcome: fallback }, then);
  }
}
