/**
 * A producer for the fault suite to SIGKILL inside `apply`: it applies the seeded mixed workflows
 * (`mixed-<k>`, five at a time) and, alongside, big groups (`big-<j>`, `bigGroup(j)`, whose adds
 * leave in slices) one after another, {@link BIG_GROUPS} at most. Prints `ready` first.
 * Env: REDIS_URL, CELERIAC_PREFIX, CELERIAC_FAULTS_SEED, CELERIAC_FAULTS_SIZE.
 */
import { consoleLogger, createApp } from '@celeriac/runtime';
import { rng, SIZE } from './seed.js';
import { bigGroup, BIG_GROUPS, mixedWorkflows } from './workflows.js';

const url = process.env['REDIS_URL'];
const prefix = process.env['CELERIAC_PREFIX'];
const seed = Number(process.env['CELERIAC_FAULTS_SEED']);
if (url === undefined || prefix === undefined || !Number.isFinite(seed)) throw new Error('REDIS_URL, CELERIAC_PREFIX and CELERIAC_FAULTS_SEED are required');

const app = createApp({ redis: url, prefix, logger: consoleLogger('silent') });
await app.queues();
process.stdout.write('ready\n');

const cases = mixedWorkflows(rng(seed), SIZE);
const mixed = async (): Promise<void> => {
  for (let k = 0; k < cases.length; k += 5) {
    await Promise.all(cases.slice(k, k + 5).map(({ canvas }, i) => app.apply(canvas, { taskId: `mixed-${k + i}` })));
  }
};
const big = async (): Promise<void> => {
  for (let j = 0; j < BIG_GROUPS; j++) await app.apply(bigGroup(j).canvas, { taskId: `big-${j}` });
};
await Promise.all([mixed(), big()]);
process.stdout.write('applied everything\n');
