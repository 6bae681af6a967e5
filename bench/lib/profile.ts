/**
 * Profile mode: Redis round trips and commands per chain hop, group member and chord join, for
 * Celeriac and plain BullMQ. Each unit is run at two sizes with client-side round-trip counting;
 * (large − small) / (units large − units small) is the marginal cost of one unit. The chord join
 * (what a chord costs once, beyond its header members) is the chord's fixed cost minus the
 * group's: intercept(chord) − intercept(group), where intercept = cost(small) − units × marginal.
 */
import type { Mode, SystemName } from './driver.js';
import type { ProfileUnit } from './scenarios.js';
import type { TrialResult } from './trial.js';

/** One measured quantity per unit. */
export interface UnitCost {
  /** Client round trips: producer + worker (a pipeline or MULTI counts once). */
  readonly roundTrips: number;
  readonly workerRoundTrips: number;
  readonly producerRoundTrips: number;
  /** Commands the clients sent (a Lua script call is one). */
  readonly clientCommands: number;
  /** Commands Redis executed, including those called from Lua scripts. */
  readonly serverCommands: number;
  /** Lua script calls (EVALSHA). */
  readonly scripts: number;
  readonly redisCpuMicros: number;
  readonly workerCpuMicros: number;
  readonly producerCpuMicros: number;
  /** Client commands by name, per unit (rounded to 0.01). */
  readonly clientByName: Record<string, number>;
  /** Server commands by name, per unit (rounded to 0.01). */
  readonly serverByName: Record<string, number>;
}

export interface ProfileEntry {
  readonly unit: ProfileUnit['id'];
  readonly title: string;
  readonly system: SystemName;
  readonly mode: Mode;
  readonly marginal: UnitCost;
  readonly intercept: UnitCost;
}

function measure(trial: TrialResult): UnitCost {
  const rt = (s: TrialResult['worker']): number => s.roundTrips?.roundTrips ?? 0;
  const cmds = (s: TrialResult['worker']): number => s.roundTrips?.commands ?? 0;
  const clientByName: Record<string, number> = {};
  for (const side of [trial.worker, trial.producer]) {
    for (const [name, n] of Object.entries(side.roundTrips?.byName ?? {})) clientByName[name] = (clientByName[name] ?? 0) + n;
  }
  return {
    roundTrips: rt(trial.worker) + rt(trial.producer),
    workerRoundTrips: rt(trial.worker),
    producerRoundTrips: rt(trial.producer),
    clientCommands: cmds(trial.worker) + cmds(trial.producer),
    serverCommands: trial.redis.commands,
    scripts: trial.redis.scripts,
    redisCpuMicros: trial.redis.cpuMs * 1000,
    workerCpuMicros: trial.worker.cpuMicros,
    producerCpuMicros: trial.producer.cpuMicros,
    clientByName,
    serverByName: { ...trial.redis.byName },
  };
}

const round = (n: number): number => Math.round(n * 100) / 100;

function combine(a: UnitCost, b: UnitCost, f: (a: number, b: number) => number): UnitCost {
  const names = (x: Record<string, number>, y: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const name of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const v = round(f(x[name] ?? 0, y[name] ?? 0));
      if (v !== 0) out[name] = v;
    }
    return out;
  };
  return {
    roundTrips: round(f(a.roundTrips, b.roundTrips)),
    workerRoundTrips: round(f(a.workerRoundTrips, b.workerRoundTrips)),
    producerRoundTrips: round(f(a.producerRoundTrips, b.producerRoundTrips)),
    clientCommands: round(f(a.clientCommands, b.clientCommands)),
    serverCommands: round(f(a.serverCommands, b.serverCommands)),
    scripts: round(f(a.scripts, b.scripts)),
    redisCpuMicros: round(f(a.redisCpuMicros, b.redisCpuMicros)),
    workerCpuMicros: round(f(a.workerCpuMicros, b.workerCpuMicros)),
    producerCpuMicros: round(f(a.producerCpuMicros, b.producerCpuMicros)),
    clientByName: names(a.clientByName, b.clientByName),
    serverByName: names(a.serverByName, b.serverByName),
  };
}

/** Marginal cost per unit and the fixed cost, from one small and one large trial. */
export function profileEntry(unit: ProfileUnit, system: SystemName, mode: Mode, small: TrialResult, large: TrialResult): ProfileEntry {
  const s = measure(small);
  const l = measure(large);
  const du = unit.units(unit.large) - unit.units(unit.small);
  const marginal = combine(l, s, (lv, sv) => (lv - sv) / du);
  const intercept = combine(s, marginal, (sv, mv) => sv - mv * unit.units(unit.small));
  return { unit: unit.id, title: mode === 'in-process' ? `${unit.title}, in one process` : unit.title, system, mode, marginal, intercept };
}

/** The chord join: intercept(chord) − intercept(group). */
export function joinCost(entries: readonly ProfileEntry[], system: SystemName, mode: Mode): UnitCost | undefined {
  const chord = entries.find((e) => e.unit === 'chord-member' && e.system === system && e.mode === mode);
  const group = entries.find((e) => e.unit === 'group-member' && e.system === system && e.mode === mode);
  if (chord === undefined || group === undefined) return undefined;
  return combine(chord.intercept, group.intercept, (c, g) => c - g);
}

const top = (byName: Record<string, number>, n = 8): string =>
  Object.entries(byName)
    .filter(([, v]) => Math.abs(v) >= 0.05)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, n)
    .map(([name, v]) => `${name} ${v.toFixed(2)}`)
    .join(', ');

/** The profile as a Markdown table plus per-command breakdowns. */
export function profileMarkdown(entries: readonly ProfileEntry[]): string {
  const header = ['unit', 'system', 'round trips (worker + producer)', 'client cmds', 'Redis cmds (incl. Lua)', 'Lua calls', 'Redis CPU', 'worker CPU', 'producer CPU'];
  const row = (title: string, system: SystemName, c: UnitCost, withCpu = true): string =>
    `| ${[
      title,
      system === 'celeriac' ? 'Celeriac' : 'plain BullMQ',
      `${c.roundTrips.toFixed(2)} (${c.workerRoundTrips.toFixed(2)} + ${c.producerRoundTrips.toFixed(2)})`,
      c.clientCommands.toFixed(2),
      c.serverCommands.toFixed(1),
      c.scripts.toFixed(2),
      withCpu ? `${c.redisCpuMicros.toFixed(0)} µs` : '—',
      withCpu ? `${c.workerCpuMicros.toFixed(0)} µs` : '—',
      withCpu ? `${c.producerCpuMicros.toFixed(0)} µs` : '—',
    ].join(' | ')} |`;
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  const details: string[] = [];
  for (const entry of entries) {
    lines.push(row(`${entry.title} (marginal)`, entry.system, entry.marginal));
    details.push(`- ${entry.title}, ${entry.system}: client [${top(entry.marginal.clientByName)}]; Redis [${top(entry.marginal.serverByName, 12)}]`);
  }
  for (const mode of ['processes', 'in-process'] as const) {
    for (const system of ['celeriac', 'bullmq'] as const) {
      const join = joinCost(entries, system, mode);
      if (join === undefined) continue;
      const title = mode === 'in-process' ? 'chord join (once per chord), in one process' : 'chord join (once per chord)';
      // A fixed cost derived from two intercepts: its counts are exact, its CPU time is noise.
      lines.push(row(title, system, join, false));
      details.push(`- ${title}, ${system}: client [${top(join.clientByName)}]; Redis [${top(join.serverByName, 12)}]`);
    }
  }
  return [...lines, '', ...details].join('\n');
}
