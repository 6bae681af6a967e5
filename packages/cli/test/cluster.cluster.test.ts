/**
 * The `celeriac` binary on a Redis Cluster, given only by `-b redis+cluster://…` (README "Scaling
 * out"): a worker serves, `call` + `result` return the value, `status` and `inspect` reach the worker.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startPrivateCluster, type PrivateCluster } from '../../../scripts/private-cluster.js';
import { celeriac, lines, startWorker, testPrefix, type Running } from './helpers.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 90_000 });

const prefix = testPrefix();
let cluster: PrivateCluster;
let broker: string;
let worker: Running | undefined;

beforeAll(async () => {
  cluster = await startPrivateCluster();
  broker = `redis+cluster://${cluster.seeds.map(({ host, port }) => `${host}:${port}`).join(',')}`;
  worker = await startWorker(prefix, ['-b', broker, '-n', 'wc@%h', '-c', '4']);
});

afterAll(async () => {
  await worker?.stop('SIGTERM');
  await cluster?.stop();
});

const cli = (...args: string[]) => celeriac(['-b', broker, '--prefix', prefix, ...args]);

it('shows the cluster as the worker transport, without a password', () => {
  expect(worker!.output()).toMatch(/\.> transport: +redis\+cluster:\/\/127\.0\.0\.1:\d+/);
});

it('call + result run a task on the cluster', async () => {
  const called = await cli('call', 'add', '-a', '[2, 2]');
  expect(called.stderr).toBe('');
  const id = called.stdout.trim();
  const result = await cli('result', id, '--timeout', '30');
  expect(result.code).toBe(0);
  expect(result.stdout.trim()).toBe('4');
});

it('status and inspect registered reach the worker through the cluster', async () => {
  const status = await cli('status');
  expect(status.code).toBe(0);
  expect(lines(status.stdout).at(-1)).toBe('1 node online.');
  const registered = await cli('inspect', 'registered', '--json');
  expect(registered.code).toBe(0);
  const byWorker = JSON.parse(registered.stdout) as Record<string, string[]>;
  expect(Object.values(byWorker)).toEqual([expect.arrayContaining(['add', 'mul', 'tsum'])]);
});
