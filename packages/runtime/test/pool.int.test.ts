/**
 * The processes pool (Celery's prefork): handlers run in child processes that load
 * fixtures/pool/app.ts, while the test's own app (with the same tasks) is the worker's. Children
 * are real processes: the tests kill them, time them out and count them through /proc.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { signature } from '@celeriac/canvas';
import {
  EncodeError,
  InvalidArgumentError,
  isCommandFailure,
  PoolStartError,
  RevokedError,
  TaskError,
  type App,
  type Replies,
  type Worker,
} from '@celeriac/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { FAST_RECOVERY, redisUrl, testApp } from './helpers.js';
import { registerPoolTasks, runsKey } from './fixtures/pool/tasks.js';

const T = { timeout: 15_000 };
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/pool/${name}`, import.meta.url));
const appModule = fixture('app.ts');

/** An app with the pool tasks, whose children load fixtures/pool/app.ts on the same Redis and prefix. */
function poolApp(): App {
  const app = testApp();
  registerPoolTasks(app);
  // Children inherit the environment; the app module reads its Redis and prefix from it.
  process.env['REDIS_URL'] = redisUrl();
  process.env['CELERIAC_PREFIX'] = app.prefix;
  return app;
}

const call = (task: string, ...args: unknown[]) => signature(task, args as never[]);

/** Pids of this process's live child processes running the pool's child program (Linux /proc). */
function poolChildren(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) !== process.pid || state === 'Z') continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('pool/child')) found.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** Whether a process runs (a zombie, exited but not yet reaped, does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The one reply of a broadcast to a single worker. */
function only<TReply>(replies: Replies<TReply>): TReply {
  const values = Object.values(replies);
  expect(values).toHaveLength(1);
  const reply = values[0]!;
  if (isCommandFailure(reply)) throw new Error(`worker replied with a failure: ${reply.error}`);
  return reply;
}

async function started(app: App, id: string, run = 1): Promise<void> {
  await expect.poll(async () => Number(await app.redis.hget(runsKey(app), id)), { timeout: 10_000 }).toBeGreaterThanOrEqual(run);
}

const workers: Worker[] = [];
/** Starts a worker and waits until its children are ready; closed after the test. */
async function startWorker(app: App, options: Parameters<App['worker']>[0]): Promise<Worker> {
  const worker = app.worker(options);
  workers.push(worker);
  await worker.waitUntilReady();
  return worker;
}

const environment = { REDIS_URL: process.env['REDIS_URL'], CELERIAC_PREFIX: process.env['CELERIAC_PREFIX'] };

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.close({ force: true })));
  expect(poolChildren()).toEqual([]);
  for (const [name, value] of Object.entries(environment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('processes pool', () => {
  it('runs handlers in its children: values, errors with their remote name and stack, results JSON cannot carry, retry, replace and autoretryFor', async () => {
    const app = poolApp();
    const worker = await startWorker(app, { pool: 'processes', appModule, concurrency: 2 });
    expect(worker.pool).toBe('processes');
    expect(worker.processes).toHaveLength(2);
    expect(new Set(poolChildren())).toEqual(new Set(worker.processes));

    expect(await (await app.apply(call('add', 2, 3))).get(T)).toBe(5);
    const pid = (await (await app.apply(call('pid'))).get(T)) as number;
    expect(pid).not.toBe(process.pid);
    expect(worker.processes).toContain(pid);

    const failure = await (await app.apply(call('fail', 'boom'))).get(T).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TaskError);
    expect(failure).toMatchObject({ remoteName: 'CustomError', message: expect.stringContaining('CustomError: boom') as unknown });
    // The stack is the child's: it names the fixture's handler, not the worker's code.
    expect((failure as TaskError).remoteStack).toMatch(/fixtures[/\\]pool[/\\]tasks\.ts/);
    expect(((failure as TaskError).cause as Error).name).toBe('CustomError');

    // What JSON cannot carry fails as in the async pool, though the child's value crossed a process boundary.
    const map = await (await app.apply(call('map'))).get(T).catch((error: unknown) => error);
    expect(map).toMatchObject({ remoteName: 'EncodeError', message: expect.stringContaining('a Map') as unknown });
    const instance = await (await app.apply(call('instance'))).get(T).catch((error: unknown) => error);
    expect(instance).toMatchObject({ remoteName: 'EncodeError' });
    expect(EncodeError.name).toBe('EncodeError');

    expect(await (await app.apply(call('retrying', 2))).get(T)).toBe(2);
    expect(await (await app.apply(call('replacing', 41))).get(T)).toBe(42);
    // autoretryFor matches the error's class where it exists: in the child.
    expect(await (await app.apply(call('flaky'))).get(T)).toBe(1);
    await expect((await app.apply(call('unmatched'))).get(T)).rejects.toMatchObject({ remoteName: 'CustomError' });
    // A soft time limit aborts ctx.signal in the child.
    expect(await (await app.apply(signature('soft', [], {}, { softTimeLimit: 0.2 }))).get(T)).toBe('SoftTimeLimitExceeded');
  });

  it('kills a child stuck in a synchronous loop at the hard time limit: FAILURE with TimeLimitExceeded in about the limit, and the pool goes on', async () => {
    const app = poolApp();
    const worker = await startWorker(app, { pool: 'processes', appModule, concurrency: 1 });
    const [before] = worker.processes;
    const res = await app.apply(signature('spin', [6_000], {}, { timeLimit: 2 }));
    const sent = Date.now();
    const error = await res.get(T).catch((e: unknown) => e);
    const elapsed = Date.now() - sent;
    expect(error).toMatchObject({ remoteName: 'TimeLimitExceeded' });
    expect(await res.state()).toBe('FAILURE');
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    expect(elapsed).toBeLessThan(5_000); // the 6 s loop did not run to its end
    await expect.poll(() => alive(before!), { timeout: 2_000 }).toBe(false);
    // A new child took its place and runs the next task.
    const next = (await (await app.apply(call('pid'))).get(T)) as number;
    expect(next).not.toBe(before);
    expect(worker.processes).toEqual([next]);
  });

  it('replaces a child killed from outside mid-task, and runs its task again to completion', async () => {
    const app = poolApp();
    const worker = await startWorker(app, { pool: 'processes', appModule, concurrency: 1 });
    const res = await app.apply(call('hold', 5_000));
    await started(app, res.id);
    // inspect active reports the child running the task.
    const [active] = only(await app.control.inspect({ timeout: 5_000 }).active());
    expect(active).toMatchObject({ id: res.id, name: 'hold' });
    const victim = active!.workerPid!;
    expect(worker.processes).toEqual([victim]);

    process.kill(victim, 'SIGKILL');
    const value = (await res.get(T)) as { pid: number; run: number };
    expect(value.run).toBe(2); // redelivered and run again, not failed
    expect(value.pid).not.toBe(victim);
    expect(await res.state()).toBe('SUCCESS');
    expect(worker.processes).toEqual([value.pid]);
  });

  it('terminates only the child running a task revoked with terminate; the task ends REVOKED and a new child takes its place', async () => {
    const app = poolApp();
    const worker = await startWorker(app, { pool: 'processes', appModule, concurrency: 2 });
    const doomed = await app.apply(call('hold', 20_000));
    const spared = await app.apply(call('hold', 2_500));
    await started(app, doomed.id);
    await started(app, spared.id);
    const active = only(await app.control.inspect({ timeout: 5_000 }).active());
    const pidOf = (id: string): number => active.find((task) => task.id === id)!.workerPid!;
    const [doomedPid, sparedPid] = [pidOf(doomed.id), pidOf(spared.id)];
    expect(doomedPid).not.toBe(sparedPid);

    await app.revoke(doomed.id, { terminate: true });
    await expect(doomed.get(T)).rejects.toBeInstanceOf(RevokedError);
    expect(await doomed.state()).toBe('REVOKED');
    await expect.poll(() => alive(doomedPid), { timeout: 5_000 }).toBe(false);
    expect(alive(sparedPid)).toBe(true);
    expect(await spared.get(T)).toEqual({ pid: sparedPid, run: 1 });
    await expect.poll(() => worker.processes.length, { timeout: 10_000 }).toBe(2);
    expect(worker.processes).not.toContain(doomedPid);
    expect(Number(await app.redis.hget(runsKey(app), doomed.id))).toBe(1); // not run again
  });

  it('replaces a child after maxTasksPerChild tasks', async () => {
    const app = poolApp();
    await startWorker(app, { pool: 'processes', appModule, concurrency: 1, maxTasksPerChild: 2 });
    const pids: number[] = [];
    for (let i = 0; i < 4; i++) pids.push((await (await app.apply(call('pid'))).get(T)) as number);
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).toBe(pids[3]);
    expect(pids[2]).not.toBe(pids[0]);
    expect(alive(pids[0]!)).toBe(false);
  });

  it('autoscales: grows towards max while tasks wait for a child, and shrinks back to min once children are idle', async () => {
    const app = poolApp();
    const worker = await startWorker(app, { pool: 'processes', appModule, autoscale: { max: 3, min: 1, keepalive: 500 } });
    expect(worker.concurrency).toBe(3);
    expect(worker.processes).toHaveLength(1);
    // Three tasks that each wait until all three run at once: only a pool grown to three children can finish them.
    const results = await Promise.all([1, 2, 3].map(() => app.apply(call('gather', 3))));
    const values = (await Promise.all(results.map((result) => result.get({ timeout: 40_000 })))) as { pid: number; together: boolean }[];
    expect(values.map((value) => value.together)).toEqual([true, true, true]);
    expect(new Set(values.map((value) => value.pid)).size).toBe(3);
    expect(worker.processes).toHaveLength(3);
    await expect.poll(() => worker.processes.length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => poolChildren().length, { timeout: 5_000 }).toBe(1);
  });

  it('grows and shrinks by control commands, and reports its children in stats', async () => {
    const app = poolApp();
    const worker = await startWorker(app, { pool: 'processes', appModule, concurrency: 1 });
    only(await app.control.poolGrow(1, { timeout: 5_000 }));
    expect(worker.concurrency).toBe(2);
    await expect.poll(() => worker.processes.length, { timeout: 10_000 }).toBe(2);
    const stats = only(await app.control.inspect({ timeout: 5_000 }).stats());
    expect(stats.pool).toEqual({ kind: 'processes', maxConcurrency: 2, processes: worker.processes });
    const [first, second] = worker.processes;
    only(await app.control.poolShrink(1, { timeout: 5_000 }));
    await expect.poll(() => worker.processes.length, { timeout: 5_000 }).toBe(1);
    await expect.poll(() => [first, second].filter((pid) => alive(pid!)).length, { timeout: 5_000 }).toBe(1);
    expect(await (await app.apply(call('add', 1, 1))).get(T)).toBe(2);
  });

  it('kills its children at once on a forced close and hands their jobs back: nothing lost, no child left', async () => {
    const app = poolApp();
    const worker = await startWorker(app, { pool: 'processes', appModule, concurrency: 2 });
    const pids = worker.processes;
    const results = await Promise.all([1, 2].map(() => app.apply(call('hold', 20_000))));
    for (const result of results) await started(app, result.id);
    const closing = Date.now();
    await worker.close({ force: true });
    expect(Date.now() - closing).toBeLessThan(5_000);
    expect(pids.filter(alive)).toEqual([]);
    expect(poolChildren()).toEqual([]);
    // Another worker (the async pool, with the same tasks) runs both again at once.
    app.worker({ concurrency: 2 });
    const values = (await Promise.all(results.map((result) => result.get({ timeout: 5_000 })))) as { run: number }[];
    expect(values.map((value) => value.run)).toEqual([2, 2]);
  });

  it('lets running handlers finish on a graceful close, then stops every child', async () => {
    const app = poolApp();
    const worker = await startWorker(app, { pool: 'processes', appModule, concurrency: 2 });
    const pids = worker.processes;
    const res = await app.apply(call('hold', 1_000));
    await started(app, res.id);
    await worker.close();
    expect(await res.state()).toBe('SUCCESS');
    expect(await res.get(T)).toMatchObject({ run: 1 });
    expect(pids.filter(alive)).toEqual([]);
    expect(poolChildren()).toEqual([]);
  });

  it('leaves no child behind when its worker process is killed, and the job it ran is not lost', async () => {
    const app = poolApp();
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const worker = spawn(process.execPath, ['--import', 'tsx', '--conditions=@celeriac/source', fixture('worker-process.ts')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const pids = await new Promise<number[]>((resolve, reject) => {
        let out = '';
        worker.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(JSON.parse(out) as number[]);
        });
        worker.once('exit', (code) => reject(new Error(`worker process exited early with code ${String(code)}`)));
      });
      expect(pids).toHaveLength(2);
      const res = await app.apply(call('hold', 20_000));
      await started(app, res.id);
      worker.kill('SIGKILL');
      // Each child hears its channel close and exits, the busy one too.
      await expect.poll(() => pids.filter(alive), { timeout: 5_000 }).toEqual([]);
      app.worker({ ...FAST_RECOVERY, concurrency: 1 });
      expect(await res.get(T)).toMatchObject({ run: 2 });
    } finally {
      worker.kill('SIGKILL');
    }
  });

  it('loads a plain JavaScript app module that exports its app as the default export', async () => {
    const app = testApp();
    app.task('add', (x: number, y: number) => x + y);
    process.env['REDIS_URL'] = redisUrl();
    process.env['CELERIAC_PREFIX'] = app.prefix;
    await startWorker(app, { pool: 'processes', appModule: pathToFileURL(fixture('default-app.mjs')), concurrency: 1 });
    expect(await (await app.apply(call('add', 20, 22))).get(T)).toBe(42);
  });

  describe('refuses to start, clearly and at once, with an app module that cannot serve', () => {
    const refused = async (module: string, message: RegExp, concurrency = 1): Promise<void> => {
      const app = poolApp();
      const worker = app.worker({ pool: 'processes', appModule: module, concurrency });
      const started = Date.now();
      const error = await worker.waitUntilReady().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PoolStartError);
      expect((error as PoolStartError).message).toContain(module);
      expect((error as PoolStartError).message).toMatch(message);
      await worker.closed;
      // Bounded: the worker gives up on the first failure instead of starting children again and again.
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(poolChildren()).toEqual([]);
    };

    it('a module that does not compile', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'celeriac-pool-'));
      try {
        const broken = join(dir, 'broken.mts');
        await writeFile(broken, 'export const app = ;\n');
        // Two children: the first failure stops the other one while it still loads.
        await refused(broken, /could not load the app module .*(Transform failed|SyntaxError|Unexpected)/s, 2);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('a module that exports no app', () => refused(fixture('no-app.ts'), /exports no Celeriac app: .*its exports: default, tasks/));

    it('a module that starts a worker when loaded', () => refused(fixture('starts-worker.ts'), /must not start a worker/));
  });

  it('stops children that are still loading when the worker closes before it is ready', async () => {
    const app = poolApp();
    const worker = app.worker({ pool: 'processes', appModule, concurrency: 2 });
    const pids = worker.processes;
    expect(pids).toHaveLength(2);
    await worker.close();
    expect(pids.filter(alive)).toEqual([]);
    expect(poolChildren()).toEqual([]);
    await expect(worker.waitUntilReady()).rejects.toThrow(/closed before its pool children were ready/);
  });

  it('checks its options when the worker is created', () => {
    const app = testApp();
    expect(() => app.worker({ pool: 'processes' })).toThrow(InvalidArgumentError);
    expect(() => app.worker({ pool: 'processes' })).toThrow(/appModule: the processes pool needs the module/);
    expect(() => app.worker({ pool: 'processes', appModule: fixture('missing.ts') })).toThrow(/appModule: no file at .*missing\.ts/);
    expect(() => app.worker({ pool: 'threads' as never })).toThrow(/pool: expected "async" or "processes", got "threads"/);
    expect(() => app.worker({ maxTasksPerChild: 10 })).toThrow(/maxTasksPerChild: only the processes pool/);
    expect(() => app.worker({ pool: 'processes', appModule, concurrency: 0 })).toThrow(/concurrency: expected a whole number >= 1/);
    expect(() => app.worker({ pool: 'processes', appModule, autoscale: { max: 2, min: 3 } })).toThrow(/autoscale.min/);
    expect(() => app.worker({ pool: 'processes', appModule, autoscale: { max: 4 }, concurrency: 2 })).toThrow(/not both/);
    expect(poolChildren()).toEqual([]);
  });
});
