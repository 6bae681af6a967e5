/**
 * Redis access as operators configure it: a password, a least-privilege ACL user (the exact line
 * the README's Security section gives), TLS — and, when something is wrong, a clear error within
 * moments that names the cause and what to do, instead of retries that spin or time out.
 * Each test starts a redis-server of its own, configured for the case.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chain, chord, group, signature, withOptions } from '@celeriac/canvas';
import { ConnectionError, PermissionError, consoleLogger, createApp, type App, type Worker } from '@celeriac/runtime';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../../scripts/private-redis.js';

const T = { timeout: 15_000 };
/** The least-privilege user of the README's Security section, for the prefix `celeriac`. */
const ACL_LINE = ['ACL', 'SETUSER', 'celeriac', 'on', '>s3cret', '~celeriac:*', '&celeriac:*', '+@all', '-@dangerous', '+info'];

const servers: PrivateRedis[] = [];
const apps: App[] = [];

async function server(options: Parameters<typeof startPrivateRedis>[0] = {}): Promise<PrivateRedis> {
  const redis = await startPrivateRedis(options);
  servers.push(redis);
  return redis;
}

function app(redis: string | object, prefix = 'celeriac'): App {
  const created = createApp({ redis: redis as string, prefix, logger: consoleLogger('silent') });
  apps.push(created);
  return created;
}

/** A chain, a group and a chord, with a worker (sweeping outboxes often): what any user runs. */
async function runsWorkflows(target: App): Promise<Worker> {
  const add = target.task('add', (x: number, y: number) => x + y);
  const tsum = target.task('tsum', (nums: number[]) => nums.reduce((a, b) => a + b, 0));
  const worker = target.worker({ concurrency: 2, taskEvents: true, outboxSweepInterval: 300 });
  await worker.waitUntilReady();
  expect(await (await target.apply(chain(add.s(2, 2), add.s(4), add.s(8)))).get(T)).toBe(16);
  expect(await (await target.apply(group(add.s(1, 1), add.s(2, 2)))).get(T)).toEqual([2, 4]);
  expect(await (await target.apply(chord([add.s(1, 1), add.s(2, 2)], tsum.s()))).get(T)).toBe(6);
  expect(await target.control.inspect({ timeout: 2_000 }).registered()).toEqual({ [worker.name]: ['add', 'tsum'] });
  expect((await target.events.history({ limit: 5 })).events.length).toBeGreaterThan(0);
  return worker;
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

describe('authentication and ACL users', () => {
  it('runs workflows with a password (requirepass)', async () => {
    const redis = await server({ args: ['--requirepass', 's3cret'] });
    await runsWorkflows(app(redis.url.replace('redis://', 'redis://:s3cret@')));
  });

  it('runs everything as the least-privilege ACL user the README gives', async () => {
    const redis = await server();
    const admin = new Redis(redis.url);
    await admin.call(...(ACL_LINE as [string, ...string[]]));
    admin.disconnect();
    const target = app(redis.url.replace('redis://', 'redis://celeriac:s3cret@'));
    const worker = await runsWorkflows(target);
    // A task whose job was lost (removed here by an admin) is enqueued by the worker's outbox
    // sweep, whose commands this user may run too.
    const lost = await target.apply(withOptions(signature('add', [20, 22]), { queue: 'elsewhere' }));
    const queue = new Queue('elsewhere', { connection: new Redis(redis.url), prefix: 'celeriac:q' });
    expect(await queue.remove(lost.id)).toBe(1);
    await queue.close();
    await (queue.opts.connection as Redis).quit();
    await worker.addConsumer('elsewhere');
    expect(await lost.get(T)).toBe(42);
  });

  it("keeps a waiting get() when Redis refuses the app's pattern after a reconnect: the wait moves to its workflow's channel", async () => {
    const redis = await server();
    const admin = new Redis(redis.url);
    await admin.call(...(ACL_LINE as [string, ...string[]]));
    const url = redis.url.replace('redis://', 'redis://celeriac:s3cret@');
    // The worker runs in another app, so the outcome reaches the get() by its announcement only.
    const producer = app(url);
    const consumer = app(url);
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const slow = producer.task('slow', (_hold: boolean) => 'done');
    consumer.task('slow', async (hold: boolean) => {
      if (hold) await finished;
      return 'done';
    });
    await consumer.worker({ concurrency: 1 }).waitUntilReady();
    // A first get() leaves the producer's pattern confirmed: the next one rides the app's table of waits.
    expect(await (await slow.delay(false)).get(T)).toBe('done');
    const waiting = (await slow.delay(true)).get(T);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only the workflows' channels from now on: Redis drops the subscribers of the app's pattern,
    // and refuses it when they subscribe again.
    await admin.call('ACL', 'SETUSER', 'celeriac', 'resetchannels', '&celeriac:wf:*');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    finish();
    expect(await waiting).toBe('done');
    admin.disconnect();
  });

  it('fails fast with the credentials as the cause when the password is wrong', async () => {
    const redis = await server({ args: ['--requirepass', 's3cret'] });
    const started = Date.now();
    const error = await app(redis.url.replace('redis://', 'redis://:wrong@')).result('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/refused the credentials \(WRONGPASS/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('stops a worker at once, naming the command to grant, when its user may not run INFO — instead of spinning', async () => {
    const redis = await server();
    const admin = new Redis(redis.url);
    await admin.call('ACL', 'SETUSER', 'limited', 'on', '>s3cret', '~*', '&*', '+@all', '-@dangerous');
    admin.disconnect();
    const limited = app(redis.url.replace('redis://', 'redis://limited:s3cret@'));
    limited.task('add', (x: number, y: number) => x + y);
    const cpu = process.cpuUsage();
    const started = Date.now();
    const worker = limited.worker({ concurrency: 1 });
    const error = await worker.waitUntilReady().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermissionError);
    expect(error).toMatchObject({ grant: '+info' });
    expect((error as Error).message).toMatch(/may not run INFO.*Security section/);
    expect(Date.now() - started).toBeLessThan(3_000);
    await worker.closed;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const used = process.cpuUsage(cpu);
    expect((used.user + used.system) / 1000).toBeLessThan(1_000); // not a busy loop
  });

  it("names the key pattern to grant when the user may not touch the app's keys", async () => {
    const redis = await server();
    const admin = new Redis(redis.url);
    await admin.call('ACL', 'SETUSER', 'other', 'on', '>s3cret', '~other:*', '&*', '+@all', '-@dangerous', '+info');
    admin.disconnect();
    const other = app(redis.url.replace('redis://', 'redis://other:s3cret@'), 'mine');
    other.task('add', (x: number, y: number) => x + y);
    await expect(other.worker().waitUntilReady()).rejects.toMatchObject({ name: 'PermissionError', grant: '~mine:*' });
    await expect(other.apply(chain(other.task('mul', (x: number) => x).s(1)))).rejects.toMatchObject({ name: 'PermissionError', grant: '~mine:*' });
  });
});

describe('TLS', () => {
  let dir: string;
  let files: { cert: string; key: string; ca: string };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'celeriac-tls-'));
    files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), ca: join(dir, 'cert.pem') };
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', files.cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs workflows over rediss:// with the CA given', async () => {
    const redis = await server({ tls: files });
    const { port } = new URL(redis.url);
    await runsWorkflows(app({ host: '127.0.0.1', port: Number(port), tls: { ca: readFileSync(files.ca) } }));
  });

  it('fails within moments, naming the certificate, when the server certificate is not trusted', async () => {
    const redis = await server({ tls: files });
    const started = Date.now();
    const error = await app(redis.url).result('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/TLS certificate is not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT/);
    expect((error as Error).message).toContain(new URL(redis.url).host);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
