/**
 * The `celeriac` commands against two running workers of examples/proj, shared by every test in
 * this file: `status`, `inspect`, `control`, `call`, `result`, `graph`, `events`, `purge`, and
 * the global options before or after the command.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chord, group, signature } from '@celeriac/canvas';
import { consoleLogger, createApp, type App } from '@celeriac/runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, celeriac, eventually, lines, redisUrl, start, startWorker, testPrefix, type Running } from './helpers.js';

// Each test runs the binary several times (about a second of start-up each); on two busy cores, more.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 90_000 });

const prefix = testPrefix();
const host = hostname();
const w1 = `w1@${host}`;
const w2 = `w2@${host.split('.')[0]!}`;
let workers: Running[] = [];
/** The same Redis and prefix, from this process, to set up workflows the CLI then looks at. */
let app: App;

/** `celeriac --prefix <this file's> ...args`. */
const cli = (...args: string[]) => celeriac(['--prefix', prefix, ...args]);

beforeAll(async () => {
  app = createApp({ redis: redisUrl(), prefix, logger: consoleLogger('silent') });
  workers = await Promise.all([startWorker(prefix, ['-n', 'w1@%h', '-c', '4', '-E']), startWorker(prefix, ['-n', 'w2@%n', '-c', '4'])]);
});

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop('SIGTERM')));
  const keys = await app.redis.keys(`${prefix}*`);
  if (keys.length > 0) await app.redis.del(...keys);
  await app.close();
});

describe('celeriac worker', () => {
  it('prints a Celery-like banner with the name, transport, concurrency, queues and tasks', () => {
    const banner = workers[0]!.output();
    expect(banner).toContain(` -------------- ${w1} v`);
    expect(banner).toMatch(/\.> app: +proj/);
    expect(banner).toMatch(/\.> transport: +redis:\/\//);
    expect(banner).toMatch(/\.> concurrency: 4 \(async\)/);
    expect(banner).toMatch(/\.> task events: ON/);
    expect(workers[1]!.output()).toMatch(/\.> task events: OFF/);
    expect(banner).toMatch(/\[queues\]\n +\.> default/);
    expect(banner).toMatch(/\[tasks\]\n {2}\. add\n {2}\. fail\n {2}\. mul\n {2}\. sleep\n {2}\. spin\n {2}\. tsum/);
  });
});

describe('celeriac status and inspect', () => {
  it('status lists both named workers and ends with "2 nodes online."', async () => {
    const { code, stdout } = await cli('status');
    expect(code).toBe(0);
    expect(lines(stdout)).toEqual([`${w1}: OK`, `${w2}: OK`, '2 nodes online.']);
  });

  it('inspect registered --json answers in Celery\'s shape, keyed by worker', async () => {
    const { code, stdout } = await cli('inspect', 'registered', '-t', '5', '--json');
    expect(code).toBe(0);
    const tasks = ['add', 'fail', 'mul', 'sleep', 'spin', 'tsum'];
    expect(JSON.parse(stdout)).toEqual({ [w1]: tasks, [w2]: tasks });
  });

  it('inspect ping prints each worker as Celery does', async () => {
    const { code, stdout, stderr } = await cli('inspect', 'ping', '-t', '5');
    expect(code, stderr).toBe(0);
    expect(stdout).toBe(`->  ${w1}: OK\n        pong\n->  ${w2}: OK\n        pong\n\n2 nodes online.\n`);
  });

  it('-d reaches only the named worker', async () => {
    const pinged = await cli('inspect', 'ping', '-t', '5', '-d', w2, '--json');
    expect(pinged.code, pinged.stderr).toBe(0);
    expect(JSON.parse(pinged.stdout)).toEqual({ [w2]: { ok: 'pong' } });
    const limited = await cli('control', 'rate_limit', '-t', '5', 'mul', '100/s', '--destination', w1, '--json');
    expect(limited.code).toBe(0);
    expect(Object.keys(JSON.parse(limited.stdout) as object)).toEqual([w1]);
  });

  it('global options are accepted before or after the command', async () => {
    const before = await celeriac(['--prefix', prefix, '--json', 'inspect', 'ping', '-t', '5']);
    const after = await celeriac(['inspect', 'ping', '--json', '-t', '5', '--prefix', prefix]);
    expect([before.code, after.code], before.stderr + after.stderr).toEqual([0, 0]);
    expect(JSON.parse(before.stdout)).toEqual(JSON.parse(after.stdout));
    expect(Object.keys(JSON.parse(after.stdout) as object).sort()).toEqual([w1, w2]);
  });

  it('inspect active shows a running task, with its worker pid', async () => {
    const { id } = await app.apply(signature('sleep', [3]));
    const active = await eventually(async () => {
      const { stdout } = await cli('inspect', 'active', '-t', '5', '--json');
      const replies = JSON.parse(stdout) as Record<string, { id: string; name: string; args: unknown[]; workerPid: number }[]>;
      return Object.values(replies).flat().find((task) => task.id === id);
    });
    expect(active).toMatchObject({ name: 'sleep', args: [3] });
    expect(active.workerPid).toBeGreaterThan(0);
    const text = await cli('inspect', 'active', '-t', '5');
    expect(text.stdout).toMatch(/-> {2}w\d@\S+: OK\n/);
  });

  it('inspect stats and active_queues answer per worker', async () => {
    const stats = JSON.parse((await cli('inspect', 'stats', '-t', '5', '--json')).stdout) as Record<string, { pid: number }>;
    expect(stats[w1]!.pid).toBe(workers[0]!.pid);
    const queues = await cli('inspect', 'active_queues', '-t', '5', '-d', w1);
    expect(queues.stdout).toContain('default');
  });
});

describe('celeriac control', () => {
  it('revoke --terminate reaches the running task: the worker answers OK and the result ends REVOKED', async () => {
    const { id } = await app.apply(signature('sleep', [30]));
    await eventually(async () => {
      const replies = JSON.parse((await cli('inspect', 'active', '-t', '5', '--json')).stdout) as Record<string, { id: string }[]>;
      return Object.values(replies).flat().some((task) => task.id === id) ? true : undefined;
    });
    const revoke = await cli('control', 'revoke', id, '--terminate', '-t', '5');
    expect(revoke.code).toBe(0);
    expect(revoke.stdout).toMatch(/-> {2}w\d@\S+: OK\n +tasks .* flagged as revoked \(and terminated if running\)/);
    await eventually(async () => ((await cli('result', id, '--state')).stdout.trim() === 'REVOKED' ? true : undefined));
    const revoked = JSON.parse((await cli('inspect', 'revoked', '-t', '5', '--json')).stdout) as Record<string, string[]>;
    expect(Object.values(revoked).flat()).toContain(id);
  });

  it('add_consumer and cancel_consumer change the named worker\'s queues, and only its', async () => {
    const queues = async (worker: string) =>
      (JSON.parse((await cli('inspect', 'active_queues', '-t', '5', '--json')).stdout) as Record<string, { name: string }[]>)[worker]!.map((q) => q.name);
    expect((await cli('control', 'add_consumer', 'extra', '-d', w1, '-t', '5')).code).toBe(0);
    expect(await queues(w1)).toEqual(['default', 'extra']);
    expect(await queues(w2)).toEqual(['default']);
    const applied = await app.apply(signature('add', [20, 22], {}, { queue: 'extra' }));
    expect(await applied.get({ timeout: 20_000 })).toBe(42);
    expect((await cli('control', 'cancel_consumer', 'extra', '-d', w1, '-t', '5')).code).toBe(0);
    expect(await queues(w1)).toEqual(['default']);
  });

  it('pool_grow and pool_shrink change the concurrency stats report; rate_limit and time_limit answer OK', async () => {
    const concurrency = async () =>
      (JSON.parse((await cli('inspect', 'stats', '-t', '5', '--json', '-d', w2)).stdout) as Record<string, { pool: { maxConcurrency: number } }>)[w2]!.pool.maxConcurrency;
    expect(await concurrency()).toBe(4);
    expect((await cli('control', 'pool_grow', '2', '-d', w2, '-t', '5')).code).toBe(0);
    expect(await concurrency()).toBe(6);
    expect((await cli('control', 'pool_shrink', '2', '-d', w2, '-t', '5')).code).toBe(0);
    expect(await concurrency()).toBe(4);
    const rate = await cli('control', 'rate_limit', 'mul', '100/m', '-d', w2, '-t', '5', '--json');
    expect(Object.keys(JSON.parse(rate.stdout) as object)).toEqual([w2]);
    const limit = await cli('control', 'time_limit', 'mul', '5', '10', '-d', w2, '-t', '5');
    expect(limit.stdout).toMatch(new RegExp(`-> {2}${w2.replace(/[.]/g, '\\.')}: OK`));
  });
});

describe('celeriac call and result', () => {
  it('call prints the task id and result prints its value', async () => {
    const call = await cli('call', 'add', '-a', '[2, 2]');
    expect(call.code).toBe(0);
    const id = call.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const result = await cli('result', id, '--timeout', '10');
    expect(result).toMatchObject({ code: 0, stdout: '4\n' });
    expect((await cli('result', id, '--state')).stdout).toBe('SUCCESS\n');
  });

  it('call passes kwargs and options; result --json has the state and value', async () => {
    const call = await cli('call', 'mul', '--args', '[6, 7]', '--kwargs', '{}', '--countdown', '0', '--priority', '1', '--expires', '60');
    const result = await cli('result', call.stdout.trim(), '--timeout', '10', '--json');
    expect(JSON.parse(result.stdout)).toEqual({ id: call.stdout.trim(), state: 'SUCCESS', result: 42 });
  });

  it('a failed task: one line on stderr, exit 1, and its remote stack with --traceback', async () => {
    const { id } = await app.apply(signature('fail', ['out of range']));
    const plain = await cli('result', id, '--timeout', '10');
    expect(plain.code).toBe(1);
    expect(lines(plain.stderr)).toEqual([`Error: Task fail[${id}] raised RangeError: out of range`]);
    const traced = await cli('result', id, '--timeout', '10', '--traceback');
    expect(traced.stdout).toMatch(/^RangeError: out of range\n\s+at /);
  });

  it('result --timeout gives up with one line when the task is not done', async () => {
    const { id } = await app.apply(signature('sleep', [5], {}, { queue: 'nobody-consumes' }));
    const result = await cli('result', id, '--timeout', '0.5');
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(/not ready within 0\.5 s \(state PENDING\)/)]);
  });

  it('result --tree and graph show a chord with each node\'s state; graph reads a canvas file', async () => {
    const canvas = chord(group(signature('add', [1, 1]), signature('add', [2, 2])), signature('tsum'));
    const res = await app.apply(canvas);
    expect(await res.get({ timeout: 10_000 })).toBe(6);
    const tree = await cli('result', res.id, '--tree');
    expect(tree.code).toBe(0);
    expect(tree.stdout).toMatch(/^workflow \S+: SUCCESS, 3 tasks\n/);
    expect(tree.stdout).toMatch(/group \S+: 2\/2 succeeded/);
    expect(tree.stdout).toMatch(new RegExp(`\\| add\\[${res.id}\\.0\\] SUCCESS 2\n`));
    expect(tree.stdout).toMatch(new RegExp(`tsum\\[${res.id}\\] SUCCESS 6 <- ${res.id.slice(0, 8)}\\.0, ${res.id.slice(0, 8)}\\.1\n`));
    const mermaid = await cli('graph', res.id, '--format', 'mermaid');
    expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
    expect(mermaid.stdout).toContain('tsum<br/>SUCCESS');
    const dot = await cli('graph', res.id, '--format', 'dot');
    expect(dot.stdout).toMatch(/^digraph workflow \{/);
    expect(dot.stdout).toContain('subgraph cluster_0');
    const file = join(mkdtempSync(join(tmpdir(), 'celeriac-graph-')), 'canvas.json');
    writeFileSync(file, JSON.stringify(canvas));
    const fromFile = await celeriac(['graph', file]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toMatch(/^canvas .*canvas\.json: 3 tasks\n/);
    expect(fromFile.stdout).toContain('  group $.h\n  | add[$.h.0]\n  | add[$.h.1]\n    tsum[$.b] <- $.h.0, $.h.1\n');
  });
});

/** util-linux's `script`, which runs a command on a pseudo-terminal, if this machine has it. */
const hasScript = ((): boolean => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('celeriac result on a terminal', () => {
  it.skipIf(!hasScript)('shows a progress bar while a group runs, then the value', async () => {
    const res = await app.apply(group(...[0.5, 1, 1.5, 2].map((s) => signature('sleep', [s]))));
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} --prefix ${prefix} result ${res.id} --timeout 30`;
    const run = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', command, '/dev/null'], { env: { ...process.env, REDIS_URL: redisUrl() }, timeout: 40_000 }, (error, stdout) =>
        error === null ? resolve(stdout) : reject(error),
      );
    });
    expect(run).toMatch(/\d\/4 \| [\d.]+\/s \| ETA/);
    expect(run).toContain('[0.5,1,1.5,2]');
  });
});

describe('celeriac events', () => {
  it('prints the task events of a worker started with -E, as JSON lines with --json', async () => {
    // Only w1 sends events: give it a queue of its own.
    expect((await cli('control', 'add_consumer', '-t', '5', 'events-q', '-d', w1)).code).toBe(0);
    const events = start(['--prefix', prefix, 'events', '--json']);
    try {
      await events.waitFor(/Waiting for events/);
      // The tail starts reading at some point after that line: send until an event shows.
      const line = await eventually(async () => {
        const id = (await cli('call', 'add', '-a', '[20, 22]', '--queue', 'events-q')).stdout.trim();
        await events.waitFor(new RegExp(`task-succeeded.*${id}|${id}.*task-succeeded`), 3_000).catch(() => undefined);
        return lines(events.output()).find((l) => l.includes(id) && l.includes('task-succeeded'));
      }, 25_000);
      expect(JSON.parse(line)).toMatchObject({ type: 'task-succeeded', worker: w1, name: 'add', result: '42' });
      // Text lines, starting with the history.
      const text = start(['--prefix', prefix, 'events', '--history', '5']);
      try {
        await text.waitFor(/ w1@\S+ task-succeeded add\[[0-9a-f-]{36}\] result=42 runtime=\d+\.\d{3}s\n/);
      } finally {
        await text.stop('SIGINT');
      }
    } finally {
      await events.stop('SIGINT');
    }
  });
});

describe('celeriac purge', () => {
  const queue = `purge-${Date.now()}`;

  it('asks first, removes nothing without a yes, then reports how many it removed', async () => {
    for (let i = 0; i < 3; i++) await app.apply(signature('add', [1, 1], {}, { queue }));
    const no = await celeriac(['--prefix', prefix, 'purge', '-Q', queue], { input: 'no\n' });
    expect(no.code).not.toBe(0);
    expect(no.stderr).toContain(`This will remove all tasks from queue: ${queue}`);
    expect(no.stderr).toContain('nothing was removed');
    const yes = await celeriac(['--prefix', prefix, 'purge', '-Q', queue], { input: 'yes\n' });
    expect(yes).toMatchObject({ code: 0, stdout: 'Purged 3 messages from 1 known task queue.\n' });
    for (let i = 0; i < 2; i++) await app.apply(signature('add', [1, 1], {}, { queue }));
    const forced = await cli('purge', '-Q', queue, '-f', '--json');
    expect(JSON.parse(forced.stdout)).toEqual({ purged: 2, queues: [queue] });
  });
});
