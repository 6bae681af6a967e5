/**
 * Worker processes for the tests that kill them: a fixture module (e.g. fixtures/crash-worker.ts)
 * started with tsx from the sources, ready once it prints "ready", and SIGKILLed on demand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Where and how to start a worker process. */
export interface WorkerProcessOptions {
  /** The fixture module the process runs. */
  readonly fixture: string;
  /** `REDIS_URL` of the process (a redis+cluster:// URL for a cluster). */
  readonly redisUrl: string;
  /** `CELERIAC_PREFIX` of the process. */
  readonly prefix: string;
  readonly env?: Record<string, string>;
  /** Milliseconds to wait for "ready". Default 20 000. */
  readonly startTimeoutMs?: number;
}

/** Starts the fixture and resolves once it printed "ready"; rejects if it exits or stays silent first. */
export function startWorkerProcess(options: WorkerProcessOptions): Promise<ChildProcess> {
  const { fixture, redisUrl, prefix, env = {}, startTimeoutMs = 20_000 } = options;
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', fixture], {
    cwd: root,
    env: { ...process.env, REDIS_URL: redisUrl, CELERIAC_PREFIX: prefix, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker process ${fixture} did not start in ${startTimeoutMs} ms`));
    }, startTimeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process ${fixture} exited early with code ${code}`));
    });
  });
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** SIGKILLs the process (if it still runs) and waits for its exit. */
export function killWorkerProcess(child: ChildProcess): Promise<void> {
  const done = exited(child);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  return done;
}
