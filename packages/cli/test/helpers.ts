/**
 * Runs the real `celeriac` binary (bin/celeriac.js, from the sources) as a subprocess against the
 * test Redis: one-shot commands, and long-running ones (workers, `events`, `monitor`) whose output
 * a test waits on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const BIN = fileURLToPath(new URL('../bin/celeriac.js', import.meta.url));
/** The repository root: commands run there, so `-A examples/proj` finds the example app. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** A prefix of its own for a test file's data. */
export function testPrefix(): string {
  return `test-cli-${randomUUID()}`;
}

export function redisUrl(): string {
  return inject('redisUrl');
}

/** What a finished command printed, and how it ended. */
export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link celeriac}. */
export interface RunOptions {
  /** Text written to the command's stdin (then closed). */
  readonly input?: string;
  /** Milliseconds before the command is killed. Default 30 000. */
  readonly timeoutMs?: number;
  readonly env?: Record<string, string>;
}

function environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redisUrl(), ...extra };
  delete env['NODE_OPTIONS']; // vitest's own loaders are not the CLI's
  delete env['FORCE_COLOR'];
  return env;
}

/** Runs `celeriac ...args` to its end. */
export function celeriac(args: readonly string[], options: RunOptions = {}): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: environment(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A long-running `celeriac` process. */
export interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once the output matches `pattern`; rejects after `timeoutMs` or when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops it (SIGKILL unless told) if it still runs, and waits for its end. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `celeriac ...args` and returns at once. */
export function start(args: readonly string[], options: Omit<RunOptions, 'input' | 'timeoutMs'> = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: environment(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let ended = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      ended = true;
      for (const listener of [...listeners]) listener();
      resolve({ code, signal });
    });
  });
  return {
    child,
    pid: child.pid!,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = text.match(pattern);
          if (match !== null) {
            done();
            resolve(match);
          } else if (ended) {
            done();
            reject(new Error(`the process ended before printing ${String(pattern)}; it printed:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms; the process printed:\n${text}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGKILL') {
      if (!ended) child.kill(signal);
      await exited;
    },
  };
}

/** Starts a worker of examples/proj and waits until it is ready. */
export async function startWorker(prefix: string, args: readonly string[]): Promise<Running> {
  const worker = start(['-A', 'examples/proj', '--prefix', prefix, 'worker', '-l', 'INFO', ...args]);
  await worker.waitFor(/ ready\./, 60_000);
  return worker;
}

/** Lines of text, without empty ones. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** Polls `check` until it returns something defined (every 200 ms, up to `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
