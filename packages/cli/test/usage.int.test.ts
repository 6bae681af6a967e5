/**
 * What a person sees first: `--version`, `--help` on every command, each bad input answered with
 * one clear line on stderr and a non-zero exit (a stack trace only with `--loglevel debug`), and
 * the `monitor` command serving its page — and refusing a reachable address without auth.
 */
import { describe, expect, it, vi } from 'vitest';
import { celeriac, lines, start, testPrefix, type Finished } from './helpers.js';
import { VERSION } from '../src/version.js';

// Each test runs the binary several times (about a second of start-up each); on two busy cores, more.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 90_000 });

const broken = 'packages/cli/test/fixtures/broken-app.ts';
const noApp = 'packages/cli/test/fixtures/no-app.mjs';

/** Exactly one line on stderr, no stack frame, a non-zero exit. */
function expectOneLine(run: Finished, pattern: RegExp): void {
  expect(run.code, run.stderr).not.toBe(0);
  expect(run.code).not.toBeNull();
  expect(lines(run.stderr), run.stderr).toEqual([expect.stringMatching(pattern)]);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe('--version and --help', () => {
  it('--version prints the version', async () => {
    expect(await celeriac(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it('--help lists the commands; every command has its own --help with the global options', async () => {
    const help = await celeriac(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['worker', 'inspect', 'control', 'status', 'call', 'result', 'events', 'graph', 'purge', 'monitor']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const worker = await celeriac(['worker', '--help']);
    expect(worker.code).toBe(0);
    for (const flag of ['-c, --concurrency', '-n, --hostname', '-Q, --queues', '-E, --task-events', '-P, --pool', '--max-tasks-per-child', '--autoscale', '-A, --app', '-l, --loglevel', '--log-format']) {
      expect(worker.stdout).toContain(flag);
    }
    const registered = await celeriac(['inspect', 'registered', '--help']);
    expect(registered.stdout).toContain('-d, --destination');
    expect(registered.stdout).toContain('-b, --broker');
  });
});

describe.concurrent('bad input: one line on stderr, a non-zero exit, no stack trace', () => {
  it('malformed --args JSON', async () => {
    expectOneLine(await celeriac(['call', 'add', '-a', '[2,']), /^Error: option '-a, --args <json>' argument '\[2,' is invalid\. not valid JSON .*\(see: celeriac call --help\)$/);
  });

  it('--args that is JSON but not an array', async () => {
    expectOneLine(await celeriac(['call', 'add', '-a', '{"x": 1}']), /expected a JSON array/);
  });

  it('an unknown command', async () => {
    expectOneLine(await celeriac(['wrker']), /^Error: unknown command 'wrker' \(Did you mean worker\?\)/);
  });

  it('an unknown option', async () => {
    expectOneLine(await celeriac(['status', '--frobnicate']), /^Error: unknown option '--frobnicate' \(see: celeriac status --help\)$/);
  });

  it('a bad option value', async () => {
    expectOneLine(await celeriac(['-A', 'examples/proj', 'worker', '-c', 'many']), /--concurrency <n>' argument 'many' is invalid\. expected a whole number >= 1/);
    expectOneLine(await celeriac(['-A', 'examples/proj', 'worker', '-P', 'gevent']), /--pool <pool>' argument 'gevent' is invalid/);
    expectOneLine(await celeriac(['status', '-l', 'LOUD']), /--loglevel: unknown level "LOUD"/);
  });

  it('an unreachable Redis, reported once with its address', async () => {
    const status = await celeriac(['-b', 'redis://127.0.0.1:1', 'status']);
    expectOneLine(status, /^Error: cannot use Redis at (redis:\/\/)?127\.0\.0\.1:1\b/);
    const worker = await celeriac(['-A', 'examples/proj', 'worker', '-b', 'redis://127.0.0.1:1'], { timeoutMs: 40_000 });
    expectOneLine(worker, /^Error: cannot use Redis at (redis:\/\/)?127\.0\.0\.1:1\b/);
  });

  it('a broker that is not a Redis URL', async () => {
    expectOneLine(await celeriac(['-b', 'amqp://guest@localhost//', 'status']), /-b amqp:\/\/guest@localhost\/\/: expected a redis:\/\/, rediss:\/\/ or redis\+cluster:\/\/ URL/);
  });

  it('an -A module that is missing, fails to load, or exports no app', async () => {
    expectOneLine(await celeriac(['-A', 'no/such/app.ts', 'status']), /^Error: -A no\/such\/app\.ts: no such module/);
    expectOneLine(await celeriac(['-A', broken, 'status']), /the module failed to load \(TypeError: boom while loading\)/);
    expectOneLine(await celeriac(['-A', noApp, 'status']), /the module exports no Celeriac app \(export it as `app` or as the default export; its exports: answer\)/);
  });

  it('no worker to answer: Celery\'s "No nodes replied", exit 69', async () => {
    const run = await celeriac(['--prefix', testPrefix(), 'inspect', 'ping', '-t', '0.5']);
    expectOneLine(run, /^Error: No nodes replied within time constraint/);
    expect(run.code).toBe(69);
  });

  it('worker without -A', async () => {
    expectOneLine(await celeriac(['worker']), /^Error: this command needs the app: pass -A MODULE/);
  });

  it('--loglevel debug adds the stack trace', async () => {
    const run = await celeriac(['-A', broken, 'status', '--loglevel', 'debug']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/boom while loading/);
    expect(run.stderr).toMatch(/^\s+at /m);
  });
});

describe('celeriac monitor', () => {
  it('serves the monitor page and its API', async () => {
    const monitor = start(['--prefix', testPrefix(), 'monitor', '--port', '0', '--url-prefix', '/flower']);
    try {
      const [, url] = await monitor.waitFor(/on (http:\/\/127\.0\.0\.1:\d+\/flower\/)\n/);
      const page = await fetch(url!);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const health = await fetch(new URL('healthcheck', url));
      expect(await health.text()).toBe('OK');
    } finally {
      await monitor.stop('SIGINT');
    }
  });

  it('asks for credentials given with --basic-auth', async () => {
    const monitor = start(['--prefix', testPrefix(), 'monitor', '--port', '0', '--basic-auth', 'admin:s3cret']);
    try {
      const [, url] = await monitor.waitFor(/on (http:\/\/\S+\/)\n/);
      expect((await fetch(new URL('api/workers', url))).status).toBe(401);
      const authorized = await fetch(new URL('api/workers', url), { headers: { authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` } });
      expect(authorized.status).toBe(200);
    } finally {
      await monitor.stop('SIGINT');
    }
  });

  it('refuses a non-loopback address without --basic-auth or --insecure', async () => {
    expectOneLine(await celeriac(['monitor', '--address', '0.0.0.0', '--port', '0']), /0\.0\.0\.0.*can be reached from other machines.*--basic-auth/);
  });
});
