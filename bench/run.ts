/**
 * `npm run bench`: every scenario of issues 5 and 17 through Celeriac and through hand-written
 * plain BullMQ, on one private redis-server, alternating A/B over several rounds, with producer
 * and worker in separate processes and then in one process.
 *
 *   npm run bench                      full run, both modes (about 25 minutes on 2 cores)
 *   npm run bench -- --quick           fewer rounds
 *   npm run bench -- --in-process      producer and worker in one process only (--processes: apart only)
 *   npm run bench -- --only chain-100,group-1k --rounds 5
 *   npm run bench -- --profile         Redis round trips per chain hop, group member, chord join, lone task
 *   npm run bench -- --only lone-1k --cpu-prof    V8 CPU profiles of each child's measured run, in bench/results/cpu/
 *   npm run bench -- --only lone-1k --heap-prof   V8 allocation samples of the same (both flags: both)
 *   npm run bench -- --cluster         Celeriac on one Redis beside a private 3-master Redis Cluster
 *
 * Each trial flushes the private Redis, starts a fresh worker process and a fresh producer process
 * (so peak RSS is per role) or one process for both, runs a small warm-up, then the measured workload. Results go to stdout
 * as Markdown and to bench/results/latest.json (or --out). The benchmark never touches a Redis it
 * did not start, and it is not part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startPrivateCluster } from '../scripts/private-cluster.js';
import { startPrivateRedis } from '../scripts/private-redis.js';
import { CLUSTER_SCENARIOS, clusterAdmin, compareLayouts, layoutTable } from './lib/cluster.js';
import { MODES, SYSTEMS, type Mode, type SystemName } from './lib/driver.js';
import { profileEntry, profileMarkdown, type ProfileEntry } from './lib/profile.js';
import { markdownTable, summarizeSystem, targetList, targetsFor, type ScenarioSummary } from './lib/report.js';
import { PROFILE_UNITS, SCENARIOS, type Scenario } from './lib/scenarios.js';
import { runTrial, type TrialResult } from './lib/trial.js';
import type { TrialProfiles } from './lib/protocol.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
    'in-process': { type: 'boolean', default: false },
    processes: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'heap-prof': { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log('usage: npm run bench -- [--quick] [--profile | --cluster] [--in-process | --processes] [--only id,id] [--rounds n] [--cpu-prof] [--heap-prof] [--out file.json]');
  console.log(`scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  console.log(`profile units (--profile --only): ${PROFILE_UNITS.map((u) => u.id).join(', ')}`);
  process.exit(0);
}

const only = flags.only?.split(',').map((id) => id.trim()).filter(Boolean);
const known: readonly string[] = flags.profile ? PROFILE_UNITS.map((u) => u.id) : SCENARIOS.map((s) => s.id);
const unknown = only?.filter((id) => !known.includes(id)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown ${flags.profile ? 'profile unit' : 'scenario'}(s): ${unknown.join(', ')}; known: ${known.join(', ')}`);
  process.exit(2);
}
const roundsOverride = flags.rounds === undefined ? undefined : Number(flags.rounds);
if (roundsOverride !== undefined && !(Number.isInteger(roundsOverride) && roundsOverride > 0)) {
  console.error(`--rounds must be a positive whole number, got ${flags.rounds}`);
  process.exit(2);
}
/** The modes to run: both unless one is asked for. */
const modes: readonly Mode[] = flags['in-process'] && !flags.processes ? ['in-process'] : flags.processes && !flags['in-process'] ? ['processes'] : MODES;
const profiles: TrialProfiles | undefined =
  flags['cpu-prof'] || flags['heap-prof']
    ? { dir: fileURLToPath(new URL('./results/cpu/', import.meta.url)), cpu: flags['cpu-prof'], heap: flags['heap-prof'] }
    : undefined;
const outFile = flags.out ?? fileURLToPath(new URL(flags.profile ? './results/profile.json' : flags.cluster ? './results/cluster.json' : './results/latest.json', import.meta.url));

function machine(redisVersion: string): Record<string, string | number> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGb: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    redis: redisVersion,
    bullmq: bullmqVersion(),
    platform: `${process.platform} ${process.arch}`,
    commit: commit(),
  };
}

/** The commit measured, and whether the runtime had uncommitted changes. */
function commit(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'packages/runtime', 'packages/canvas') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted runtime/canvas changes' : ''}`;
  } catch {
    return 'unknown';
  }
}

function bullmqVersion(): string {
  try {
    return execFileSync(process.execPath, ['-p', "require('bullmq/package.json').version"], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const log = (line: string): void => console.error(line);

async function trialOrError(
  run: () => Promise<TrialResult>,
  label: string,
): Promise<{ result?: TrialResult; error?: string }> {
  try {
    const result = await run();
    log(`  ${label}: ${result.ms.toFixed(1)} ms  (producer ${(result.producer.peakRssBytes / 2 ** 20).toFixed(0)} MB, worker ${(result.worker.peakRssBytes / 2 ** 20).toFixed(0)} MB)`);
    return { result };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  ${label}: FAILED ${message.split('\n')[0]}`);
    return { error: message };
  }
}

interface BenchmarkRun {
  readonly summaries: ScenarioSummary[];
  readonly failed: string[];
  readonly raw: unknown[];
}

async function benchmark(url: string, admin: Redis): Promise<BenchmarkRun> {
  const scenarios = SCENARIOS.filter((s) => only === undefined || only.includes(s.id));
  const summaries: ScenarioSummary[] = [];
  const failed: string[] = [];
  const raw: unknown[] = [];
  for (const mode of modes) {
    const ofMode = new Map<string, ScenarioSummary>();
    for (const scenario of scenarios) {
      const rounds = roundsOverride ?? (flags.quick ? scenario.rounds.quick : scenario.rounds.full);
      const where = mode === 'in-process' ? 'in one process' : 'producer and worker apart';
      log(`${scenario.title}, ${where} (${scenario.tasks.toLocaleString('en-US')} tasks, ${rounds} round${rounds > 1 ? 's' : ''})`);
      const trials: Record<SystemName, TrialResult[]> = { celeriac: [], bullmq: [] };
      const failures: Record<SystemName, string[]> = { celeriac: [], bullmq: [] };
      for (let round = 0; round < rounds; round++) {
        // A/B then B/A: neither system always runs on the warmer (or noisier) half of a round.
        const order = round % 2 === 0 ? SYSTEMS : [...SYSTEMS].reverse();
        for (const system of order) {
          const outcome = await trialOrError(
            () =>
              runTrial({ system, workload: scenario.workload, redisUrl: url, admin, timeoutMs: scenario.timeoutMs, countRoundTrips: false, mode, profiles }),
            `round ${round + 1} ${system}`,
          );
          if (outcome.result !== undefined) trials[system].push(outcome.result);
          if (outcome.error !== undefined) {
            failures[system].push(outcome.error);
            failed.push(`${scenario.id} (${mode}) round ${round + 1} ${system}: ${outcome.error.split('\n')[0]}`);
          }
          raw.push({ scenario: scenario.id, mode, round: round + 1, system, ...outcome });
        }
      }
      const summary = summarize(scenario, mode, trials, failures, ofMode);
      ofMode.set(scenario.id, summary);
      summaries.push(summary);
    }
  }
  await admin.flushall();
  return { summaries, failed, raw };
}

function summarize(
  scenario: Scenario,
  mode: Mode,
  trials: Record<SystemName, TrialResult[]>,
  failures: Record<SystemName, string[]>,
  all: ReadonlyMap<string, ScenarioSummary>,
): ScenarioSummary {
  const systems: ScenarioSummary['systems'] = {};
  for (const system of SYSTEMS) {
    const summary = summarizeSystem(scenario, trials[system], failures[system]);
    if (summary !== undefined) systems[system] = summary;
  }
  const c = systems.celeriac;
  const b = systems.bullmq;
  return {
    id: scenario.id,
    mode,
    title: scenario.title,
    tasks: scenario.tasks,
    systems,
    failures: Object.fromEntries(SYSTEMS.filter((system) => failures[system].length > 0).map((system) => [system, failures[system].length])),
    ratio: c !== undefined && b !== undefined ? c.medianMs / b.medianMs : null,
    targets:
      c === undefined && failures.celeriac.length > 0
        ? [{ goal: 'Celeriac completes the scenario', measured: `failed: ${failures.celeriac[0]!.split('\n')[0]}`, met: false }]
        : targetsFor(scenario.id, mode, systems, all),
  };
}

async function profile(url: string, admin: Redis): Promise<ProfileEntry[]> {
  const entries: ProfileEntry[] = [];
  const units = PROFILE_UNITS.filter((unit) => only === undefined || only.includes(unit.id));
  for (const mode of modes) {
    for (const unit of units) {
      for (const system of SYSTEMS) {
        log(`profile ${unit.title} (${mode}): ${system}`);
        const run = (workload: typeof unit.small): Promise<TrialResult> =>
          runTrial({ system, workload, redisUrl: url, admin, timeoutMs: 120_000, countRoundTrips: true, mode, profiles });
        const small = await run(unit.small);
        const large = await run(unit.large);
        entries.push(profileEntry(unit, system, mode, small, large));
      }
    }
  }
  await admin.flushall();
  return entries;
}

async function main(): Promise<void> {
  const redis = await startPrivateRedis();
  const stopRedis = (): void => {
    void redis.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopRedis);
  process.once('SIGTERM', stopRedis);
  const admin = new Redis(redis.url);
  try {
    const serverInfo = await admin.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(serverInfo)?.[1] ?? 'unknown';
    const env = machine(redisVersion);
    log(`machine: ${JSON.stringify(env)}`);
    log(`private redis-server ${redisVersion} at ${redis.url} (pid ${redis.pid})`);
    const startedAt = new Date().toISOString();
    mkdirSync(dirname(outFile), { recursive: true });
    if (flags.cluster) {
      const cluster = await startPrivateCluster({ masters: 3 });
      const admin3 = clusterAdmin(cluster);
      try {
        log(`private cluster of 3 masters at ${cluster.urls.join(', ')}`);
        const scenarios = SCENARIOS.filter((s) => (only === undefined ? CLUSTER_SCENARIOS.includes(s.id) : only.includes(s.id)));
        const clusterUrl = `redis+cluster://${cluster.seeds.map(({ host, port }) => `${host}:${port}`).join(',')}`;
        const rows = await compareLayouts(
          scenarios,
          [
            { name: 'single', url: redis.url, admin },
            { name: 'cluster', url: clusterUrl, admin: admin3 },
          ],
          (scenario) => roundsOverride ?? (flags.quick ? scenario.rounds.quick : scenario.rounds.full),
          log,
        );
        console.log(`\nCeleriac on one Redis vs a 3-master Redis Cluster — ${flags.quick ? 'quick' : 'full'} run, ${startedAt}`);
        console.log(`machine: ${env['cpus']} × ${env['cpuModel']}, Node ${env['node']}, Redis ${redisVersion}; commit ${env['commit']}\n`);
        console.log(layoutTable(rows));
        const failures = rows.flatMap((row) => row.failures.map((failure) => `${row.id} ${failure}`));
        if (failures.length > 0) console.log(`\nFailed trials:\n${failures.map((f) => `- ${f}`).join('\n')}`);
        writeFileSync(outFile, `${JSON.stringify({ startedAt, machine: env, layouts: rows }, null, 2)}\n`);
      } finally {
        admin3.close();
        await cluster.stop();
      }
    } else if (flags.profile) {
      const entries = await profile(redis.url, admin);
      console.log(profileMarkdown(entries));
      writeFileSync(outFile, `${JSON.stringify({ startedAt, machine: env, profile: entries }, null, 2)}\n`);
    } else {
      const { summaries, failed, raw } = await benchmark(redis.url, admin);
      console.log(`\nCeleriac vs plain BullMQ — ${flags.quick ? 'quick' : 'full'} run, ${startedAt}`);
      console.log(
        `machine: ${env['cpus']} × ${env['cpuModel']}, ${env['memoryGb']} GB RAM, Node ${env['node']}, Redis ${redisVersion}, ` +
          `BullMQ ${env['bullmq']}; commit ${env['commit']}\n`,
      );
      console.log(markdownTable(summaries));
      const targets = targetList(summaries);
      if (targets !== '') console.log(`\nTargets (issues 5 and 17):\n${targets}`);
      if (failed.length > 0) console.log(`\nFailed trials:\n${failed.map((f) => `- ${f}`).join('\n')}`);
      const mode = flags.quick ? 'quick' : 'full';
      writeFileSync(outFile, `${JSON.stringify({ startedAt, mode, machine: env, summaries, trials: raw }, null, 2)}\n`);
    }
    log(`wrote ${outFile}`);
  } finally {
    await admin.quit().catch(() => admin.disconnect());
    await redis.stop();
  }
}

await main();
