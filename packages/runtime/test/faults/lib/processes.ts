/** Worker processes the suite can SIGKILL: `worker-process.ts`, started as every killable test worker is. */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killWorkerProcess, startWorkerProcess as start } from '../../worker-process.js';

const fixture = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/** Starts a worker process of the suite and resolves once it takes jobs. */
export function startWorkerProcess(redisUrl: string, prefix: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  return start({ fixture, redisUrl, prefix, env, startTimeoutMs: 30_000 });
}

/** SIGKILLs a worker process and resolves once it is gone. */
export const killProcess = killWorkerProcess;
