/**
 * The worker's life as an operator sees it, through the real binary: warm shutdown on the first
 * signal (the task in flight finishes, exit 0), cold on the second (exit at once; the task runs on
 * another worker), and `-P processes` surviving a child killed mid-task and stopping a busy loop
 * at its hard time limit.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { consoleLogger, createApp } from '@celeriac/runtime';
import { celeriac, eventually, lines, redisUrl, startWorker, testPrefix, type Running } from './helpers.js';

// Each test runs the binary several times (about a second of start-up each); on two busy cores, more.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 90_000 });

const prefixes: string[] = [];
const running: Running[] = [];

/** A prefix of its own for one test, deleted after the file. */
function prefixForTest(): string {
  const prefix = testPrefix();
  prefixes.push(prefix);
  return prefix;
}

async function worker(prefix: string, args: readonly string[]): Promise<Running> {
  const started = await startWorker(prefix, args);
  running.push(started);
  return started;
}

afterAll(async () => {
  await Promise.all(running.map((process) => process.stop()));
  const app = createApp({ redis: redisUrl(), prefix: 'unused', logger: consoleLogger('silent') });
  for (const prefix of prefixes) {
    const keys = await app.redis.keys(`${prefix}*`);
    if (keys.length > 0) await app.redis.del(...keys);
  }
  await app.close();
});

describe('worker shutdown', () => {
  it('a SIGTERM during a running task lets it finish, then the worker exits 0', async () => {
    const prefix = prefixForTest();
    const w = await worker(prefix, ['-n', 'warm@%h', '-c', '2', '--log-format', 'json']);
    const id = (await celeriac(['--prefix', prefix, 'call', 'sleep', '-a', '[2]'])).stdout.trim();
    await w.waitFor(new RegExp(`Task sleep\\[${id}\\] received`));
    w.child.kill('SIGTERM');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    // --log-format json: every log line is a JSON object (the banner is text, as Celery's).
    const logged = lines(w.output())
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; pid: number });
    const messages = logged.map((entry) => `${entry.level} ${entry.msg}`);
    expect(messages).toContain(`info Task sleep[${id}] received`);
    expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^info Task sleep\\[${id}\\] succeeded in \\d+\\.\\d+s: 2$`)));
    expect(messages).toContainEqual(expect.stringMatching(/^warn worker: Warm shutdown \(SIGTERM\)/));
    expect(logged.every((entry) => entry.pid === w.pid)).toBe(true);
    expect(await celeriac(['--prefix', prefix, 'result', id, '--timeout', '5'])).toMatchObject({ code: 0, stdout: '2\n' });
  });

  it('a second signal exits at once, and the task completes on another worker', async () => {
    const prefix = prefixForTest();
    const first = await worker(prefix, ['-n', 'cold1@%h', '-c', '1']);
    const id = (await celeriac(['--prefix', prefix, 'call', 'sleep', '-a', '[4]'])).stdout.trim();
    await first.waitFor(new RegExp(`Task sleep\\[${id}\\] received`));
    const second = await worker(prefix, ['-n', 'cold2@%h', '-c', '1']);
    first.child.kill('SIGTERM');
    await first.waitFor(/Warm shutdown/);
    first.child.kill('SIGINT');
    const exit = await first.exited;
    expect(exit.code).not.toBe(0);
    expect(first.output()).toMatch(/Cold shutdown \(SIGINT\)/);
    expect(first.output()).not.toMatch(new RegExp(`Task sleep\\[${id}\\] succeeded`));
    await second.waitFor(new RegExp(`Task sleep\\[${id}\\] succeeded in \\d+\\.\\d+s: 4`), 40_000);
    expect(await celeriac(['--prefix', prefix, 'result', id, '--timeout', '10'])).toMatchObject({ code: 0, stdout: '4\n' });
  });
});

describe('worker -P processes', () => {
  it('survives a child killed mid-task (the task runs again) and enforces a hard time limit on a busy loop', async () => {
    const prefix = prefixForTest();
    const w = await worker(prefix, ['-n', 'pool@%h', '-P', 'processes', '-c', '2', '--max-tasks-per-child', '50']);
    expect(w.output()).toMatch(/\.> concurrency: 2 \(processes\)/);

    const id = (await celeriac(['--prefix', prefix, 'call', 'sleep', '-a', '[3]'])).stdout.trim();
    const child = await eventually(async () => {
      const { stdout } = await celeriac(['--prefix', prefix, 'inspect', 'active', '--json', '-t', '5']);
      const tasks = Object.values(JSON.parse(stdout) as Record<string, { id: string; workerPid: number }[]>).flat();
      return tasks.find((task) => task.id === id)?.workerPid;
    });
    expect(child).not.toBe(w.pid);
    process.kill(child, 'SIGKILL');
    expect(await celeriac(['--prefix', prefix, 'result', id, '--timeout', '40'])).toMatchObject({ code: 0, stdout: '3\n' });
    const stats = JSON.parse((await celeriac(['--prefix', prefix, 'inspect', 'stats', '--json', '-t', '5'])).stdout) as Record<string, { pool: { processes: number[] } }>;
    const children = Object.values(stats)[0]!.pool.processes;
    expect(children).toHaveLength(2);
    expect(children).not.toContain(child);

    // spin computes for 6 s without yielding; its hard limit is 2 s: only killing the child stops it.
    const spin = (await celeriac(['--prefix', prefix, 'call', 'spin', '-a', '[6]'])).stdout.trim();
    const result = await celeriac(['--prefix', prefix, 'result', spin, '--timeout', '30']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([expect.stringMatching(new RegExp(`^Error: Task spin\\[${spin}\\] raised TimeLimitExceeded: .*hard time limit of 2 s`))]);
    expect((await celeriac(['--prefix', prefix, 'result', spin, '--state'])).stdout).toBe('FAILURE\n');
  });

  it('--autoscale MAX,MIN shows in the banner', async () => {
    const prefix = prefixForTest();
    const w = await worker(prefix, ['-n', 'auto@%h', '-P', 'processes', '--autoscale', '3,1']);
    expect(w.output()).toMatch(/\.> concurrency: \{min=1, max=3\} \(processes\)/);
    w.child.kill('SIGTERM');
    expect((await w.exited).code).toBe(0);
  });
});
