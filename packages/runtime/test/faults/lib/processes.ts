/** Worker processes the suite can SIGKILL: started from `worker-process.ts` through tsx. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const program = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Starts a worker process and resolves once it takes jobs. */
export function startWorkerProcess(redisUrl: string, prefix: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', program], {
    cwd: root,
    env: { ...process.env, REDIS_URL: redisUrl, CELERIAC_PREFIX: prefix, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('worker process did not start in 30 s'));
    }, 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited before it was ready (${code ?? signal})`));
    });
  });
}

/** SIGKILLs a worker process and resolves once it is gone. */
export function killProcess(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
