/**
 * Starts a throwaway `redis-server` on a free loopback port, so tests, the demo and the benchmarks
 * never depend on (or disturb) a Redis someone else is running. Nothing is persisted to disk unless
 * asked (`args: ['--appendonly', 'yes']`), and then only in its own temporary directory. The fault
 * tests take it down and bring it back on the same port (`kill`, `start`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** Pid of the server running now (it changes when the server is started again). */
  readonly pid: number;
  /** Takes the server down — SIGKILL by default, as a crash — keeping its data directory. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and directory (an AOF file is replayed). */
  start(): Promise<void>;
  /** Stops the server for good and removes its directory. */
  stop(): Promise<void>;
}

/** Thrown when no `redis-server` binary is on PATH; the message says how to get one. */
export class RedisServerMissingError extends Error {
  constructor() {
    super(
      'redis-server was not found on PATH. Install Redis (Debian/Ubuntu: `sudo apt-get install -y redis-server`, ' +
        'macOS: `brew install redis`) or point REDIS_URL at a running Redis >= 6.2.',
    );
    this.name = 'RedisServerMissingError';
  }
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function waitUntilReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) done();
    };
    const onExit = (code: number | null): void => fail(new Error(`redis-server exited with code ${code}:\n${output}`));
    const onError = (error: NodeJS.ErrnoException): void =>
      fail(error.code === 'ENOENT' ? new RedisServerMissingError() : error);
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    function done(): void {
      cleanup();
      resolve();
    }
    function fail(error: Error): void {
      cleanup();
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** Options of {@link startPrivateRedis}. */
export interface PrivateRedisOptions {
  /** More `redis-server` arguments, e.g. `['--requirepass', 'secret']`. */
  readonly args?: readonly string[];
  /** Serve TLS only, with these PEM files (the URL is then `rediss://`). */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

/** Starts a private redis-server; retries once on a port race with another process. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'celeriac-redis-'));
    const { tls } = options;
    const listen =
      tls === undefined
        ? ['--port', String(port)]
        : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.ca, '--tls-auth-clients', 'no'];
    const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--maxmemory-policy', 'noeviction', '--loglevel', 'notice', ...(options.args ?? [])];
    let child: ChildProcess;
    try {
      child = await launch(args);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      if (error instanceof RedisServerMissingError || attempt >= 2) throw error;
      continue;
    }
    const exited = (server: ChildProcess): Promise<void> =>
      new Promise((resolve) => (server.exitCode !== null || server.signalCode !== null ? resolve() : server.once('exit', () => resolve())));
    const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
      const server = child;
      if (server.exitCode === null && server.signalCode === null) server.kill(signal);
      await exited(server);
    };
    return {
      url: `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}`,
      port,
      get pid() {
        return child.pid ?? -1;
      },
      kill,
      start: async () => {
        await kill();
        child = await launch(args);
      },
      stop: async () => {
        await kill('SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

/** Runs redis-server with `args` until it accepts connections. */
async function launch(args: readonly string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await waitUntilReady(child, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  child.stdout?.resume();
  return child;
}
