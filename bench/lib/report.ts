/**
 * Turns trials into the summary table (Markdown, so it can be pasted into the README) and checks
 * the targets of issues 5 and 17, always as ratios measured in the same run and mode.
 */
import type { Mode, SystemName } from './driver.js';
import type { Scenario } from './scenarios.js';
import type { TrialResult } from './trial.js';

export interface SystemSummary {
  readonly runs: number;
  readonly failures: readonly string[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly tasksPerSecond: number;
  /** Median ms per sequential hop (chains only). */
  readonly hopMs: number | null;
  /** Largest peak RSS over the trials, MB. */
  readonly producerRssMb: number;
  readonly workerRssMb: number;
  /** Medians per task executed. */
  readonly redisCommandsPerTask: number;
  readonly redisCpuMicrosPerTask: number;
  readonly workerCpuMicrosPerTask: number;
  readonly producerCpuMicrosPerTask: number;
  /** What the run left in Redis (median), MB. */
  readonly redisMemoryMb: number;
}

export interface Target {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

export interface ScenarioSummary {
  readonly id: string;
  readonly mode: Mode;
  readonly title: string;
  readonly tasks: number;
  readonly systems: Partial<Record<SystemName, SystemSummary>>;
  /** Failed trials per system (a system with only failures has no summary). */
  readonly failures: Partial<Record<SystemName, number>>;
  /** Celeriac median / BullMQ median (time: lower is better). */
  readonly ratio: number | null;
  readonly targets: readonly Target[];
}

const MB = 1024 * 1024;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarizeSystem(scenario: Scenario, trials: readonly TrialResult[], failures: readonly string[]): SystemSummary | undefined {
  if (trials.length === 0) return undefined;
  const times = trials.map((t) => t.ms);
  const medianMs = median(times);
  const perTask = (f: (t: TrialResult) => number): number => median(trials.map(f)) / scenario.tasks;
  return {
    runs: trials.length,
    failures,
    medianMs,
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    tasksPerSecond: scenario.tasks / (medianMs / 1000),
    hopMs: scenario.hops === undefined ? null : medianMs / scenario.hops,
    producerRssMb: Math.max(...trials.map((t) => t.producer.peakRssBytes)) / MB,
    workerRssMb: Math.max(...trials.map((t) => t.worker.peakRssBytes)) / MB,
    redisCommandsPerTask: perTask((t) => t.redis.commands),
    redisCpuMicrosPerTask: perTask((t) => t.redis.cpuMs * 1000),
    workerCpuMicrosPerTask: perTask((t) => t.worker.cpuMicros),
    producerCpuMicrosPerTask: perTask((t) => t.producer.cpuMicros),
    redisMemoryMb: median(trials.map((t) => t.redis.usedMemoryBytes)) / MB,
  };
}

const x = (n: number): string => `${n.toFixed(2)}×`;

/**
 * The targets of issues 5 and 17 for one scenario, given the summaries of the same mode (the 100k
 * group needs the 10k one).
 */
export function targetsFor(
  id: string,
  mode: Mode,
  systems: ScenarioSummary['systems'],
  all: ReadonlyMap<string, ScenarioSummary>,
): Target[] {
  const c = systems.celeriac;
  const b = systems.bullmq;
  if (c === undefined) return [];
  const out: Target[] = [];
  const atMost = (goal: string, ratio: number, limit: number): void => {
    out.push({ goal, measured: x(ratio), met: ratio <= limit });
  };
  if (b !== undefined) {
    const ratio = c.medianMs / b.medianMs;
    if (id === 'chain-100') atMost('hop ≤ 1.0× BullMQ', ratio, 1.0);
    if (id === 'group-1k' || id === 'group-10k') {
      const throughput = b.medianMs / c.medianMs;
      out.push({ goal: 'throughput ≥ 0.87× BullMQ', measured: x(throughput), met: throughput >= 0.87 });
    }
    if (id === 'chord-1k') atMost('time ≤ 1.0× FlowProducer', ratio, 1.0);
    if (id === 'chord-10k') {
      atMost('time ≤ 1.0× FlowProducer', ratio, 1.0);
      const mine = c.producerRssMb + c.workerRssMb;
      const theirs = b.producerRssMb + b.workerRssMb;
      out.push({
        goal: 'peak RSS (producer + worker) below FlowProducer',
        measured: `${mine.toFixed(0)} vs ${theirs.toFixed(0)} MB`,
        met: mine < theirs,
      });
    }
    if (id === 'chains-100x10') atMost('time ≤ 1.2× BullMQ', ratio, 1.2);
    if (id === 'mixed-1k') atMost('time ≤ 1.2× BullMQ', ratio, 1.2);
    if (id === 'lone-1k' || id === 'lone-seq') atMost('delay + get ≤ 1.2× add + waitUntilFinished', ratio, 1.2);
    if (id === 'delay-1k') atMost('delay ≤ 1.1× a bare add', ratio, 1.1);
  }
  // Peak memory is per process: the target is for a producer and a worker apart.
  if (id === 'group-100k' && mode === 'processes') {
    out.push({ goal: 'producer RSS < 250 MB', measured: `${c.producerRssMb.toFixed(0)} MB`, met: c.producerRssMb < 250 });
    out.push({ goal: 'worker RSS < 250 MB', measured: `${c.workerRssMb.toFixed(0)} MB`, met: c.workerRssMb < 250 });
    const tenK = all.get('group-10k')?.systems.celeriac;
    if (tenK !== undefined) {
      const growth = c.medianMs / tenK.medianMs;
      out.push({ goal: 'time 10k → 100k ≈ 10× (≤ 12×)', measured: x(growth), met: growth <= 12 });
    }
  }
  return out;
}

const ms = (n: number): string => (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(0)} ms`);
const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The results table, one row per scenario and system. */
export function markdownTable(summaries: readonly ScenarioSummary[]): string {
  const header = [
    'scenario',
    'system',
    'median',
    'min – max',
    'Celeriac/BullMQ',
    'tasks/s',
    'per hop',
    'producer RSS',
    'worker RSS',
    'producer CPU/task',
    'worker CPU/task',
    'Redis cmds/task',
    'Redis CPU/task',
    'Redis mem after',
  ];
  const rows: string[][] = [];
  for (const summary of summaries) {
    for (const system of ['celeriac', 'bullmq'] as const) {
      const s = summary.systems[system];
      const name = system === 'celeriac' ? 'Celeriac' : 'plain BullMQ';
      const title = system === 'celeriac' ? titleOf(summary) : '';
      const inProcess = summary.mode === 'in-process';
      const failed = summary.failures[system] ?? 0;
      if (s === undefined) {
        if (failed > 0) rows.push([title, name, `failed (${failed} of ${failed})`, ...header.slice(4).map(() => '—')]);
        continue;
      }
      rows.push([
        title,
        failed > 0 ? `${name} (${failed} failed)` : name,
        ms(s.medianMs),
        `${ms(s.minMs)} – ${ms(s.maxMs)}`,
        system === 'celeriac' && summary.ratio !== null ? x(summary.ratio) : '',
        int(s.tasksPerSecond),
        s.hopMs === null ? '' : `${s.hopMs.toFixed(2)} ms`,
        `${s.producerRssMb.toFixed(0)} MB`,
        inProcess ? '(same)' : `${s.workerRssMb.toFixed(0)} MB`,
        `${s.producerCpuMicrosPerTask.toFixed(0)} µs`,
        inProcess ? '(same)' : `${s.workerCpuMicrosPerTask.toFixed(0)} µs`,
        s.redisCommandsPerTask.toFixed(1),
        `${s.redisCpuMicrosPerTask.toFixed(0)} µs`,
        `${s.redisMemoryMb.toFixed(0)} MB`,
      ]);
    }
  }
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** A scenario's title, with its mode when both systems ran in one process. */
export function titleOf(summary: Pick<ScenarioSummary, 'title' | 'mode'>): string {
  return summary.mode === 'in-process' ? `${summary.title}, in one process` : summary.title;
}

/** The targets as a Markdown list. */
export function targetList(summaries: readonly ScenarioSummary[]): string {
  const lines: string[] = [];
  for (const summary of summaries) {
    for (const target of summary.targets) {
      lines.push(`- ${target.met ? '✅' : '❌'} ${titleOf(summary)}: ${target.goal} — measured ${target.measured}`);
    }
  }
  return lines.join('\n');
}
