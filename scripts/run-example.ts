/**
 * Runs one program from examples/ in its own Node process, straight from the TypeScript sources:
 * `node --import tsx --conditions=@celeriac/source examples/<name>.ts`. The condition selects the
 * `@celeriac/source` entry of each package's `exports` map, so `@celeriac/runtime` resolves
 * through the workspace symlink to packages/runtime/src/index.ts and no build is needed.
 * Used by `npm run demo` (scripts/demo.ts) and by the tests that run the examples against their Redis.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root; examples run with it as their working directory. */
export const repoRoot: string = fileURLToPath(new URL('..', import.meta.url));

/** The example programs, in the order the demo runs them: one idea each, simplest first. */
export const EXAMPLES = ['chain', 'immutable', 'group', 'chord', 'nested', 'errors'] as const;

export interface ExampleResult {
  /** Exit code, or null when the process was ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the run exceeded `timeoutMs` and was killed. */
  readonly timedOut: boolean;
  readonly durationMs: number;
}

export interface RunExampleOptions {
  /** Also copy the child's output to this process's stdout/stderr as it arrives. Default false. */
  readonly echo?: boolean;
  /** Kill the example (SIGKILL) after this long. Default 60 000 ms. */
  readonly timeoutMs?: number;
  /** Extra environment variables; REDIS_URL is always the `redisUrl` argument. */
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting kills the example with SIGTERM (the demo does this on Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** `examples/<name>.ts` relative to the repository root; `name` may carry the `.ts` or not. */
export function exampleFile(name: string): string {
  const base = name.endsWith('.ts') ? name.slice(0, -'.ts'.length) : name;
  if (!/^[\w-]+$/.test(base)) throw new Error(`Not an example name: ${JSON.stringify(name)} (expected e.g. "chain")`);
  return `examples/${base}.ts`;
}

/** Whether examples/<name>.ts exists yet. */
export function exampleExists(name: string): boolean {
  return existsSync(join(repoRoot, exampleFile(name)));
}

/**
 * Runs examples/<name>.ts against the Redis at `redisUrl` and resolves with its exit status and
 * output once it exits. Rejects only if the process cannot be started (e.g. the file is missing).
 *
 * @example
 * ```ts
 * const { code, stdout } = await runExample('chain', inject('redisUrl'));
 * expect(code).toBe(0);
 * ```
 */
export function runExample(name: string, redisUrl: string, options: RunExampleOptions = {}): Promise<ExampleResult> {
  const file = exampleFile(name);
  if (!exampleExists(name)) return Promise.reject(new Error(`${file} does not exist (in ${repoRoot})`));
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = performance.now();

  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', file], {
      cwd: repoRoot,
      env: { ...process.env, ...options.env, REDIS_URL: redisUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal === undefined ? {} : { signal: options.signal, killSignal: 'SIGTERM' as const }),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);

    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (options.echo === true) process.stdout.write(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (options.echo === true) process.stderr.write(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      // An abort is reported here too; the 'close' event that follows carries the real outcome.
      if (error.name === 'AbortError') return;
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, durationMs: Math.round(performance.now() - started) });
    });
  });
}
