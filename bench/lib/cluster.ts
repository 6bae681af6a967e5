/**
 * `npm run bench -- --cluster`: Celeriac's main scenarios on one private redis-server and on a
 * private Redis Cluster of three masters (scripts/private-cluster.ts), alternating rounds, so the
 * two layouts are compared on the same machine in the same run. Plain BullMQ is not run here: on a
 * cluster it needs a hash tag per queue, which is Celeriac's business, not the baseline's.
 */
import { Redis } from 'ioredis';
import type { PrivateCluster } from '../../scripts/private-cluster.js';
import { median, summarizeSystem, type SystemSummary } from './report.js';
import type { Scenario } from './scenarios.js';
import { runTrial, type Admin, type TrialResult } from './trial.js';

/** The scenarios measured on both layouts unless `--only` names others. */
export const CLUSTER_SCENARIOS = ['chain-100', 'group-1k', 'group-10k', 'chord-1k', 'chains-100x10', 'mixed-1k'];

/** What `INFO` and `FLUSHALL` mean for a whole cluster: every master's counters, summed. */
export function clusterAdmin(cluster: PrivateCluster): Admin & { close(): void } {
  const clients = new Map<number, Redis>();
  const masters = async (): Promise<Redis[]> =>
    (await cluster.masters()).map(({ port }) => {
      let client = clients.get(port);
      if (client === undefined) clients.set(port, (client = new Redis(port, '127.0.0.1')));
      return client;
    });
  return {
    async flushall() {
      await Promise.all((await masters()).map((client) => client.flushall()));
      return 'OK';
    },
    async info(section: string) {
      const sums = new Map<string, number>();
      for (const text of await Promise.all((await masters()).map((client) => client.info(section)))) {
        for (const line of text.split(/\r?\n/)) {
          const colon = line.indexOf(':');
          if (colon <= 0 || line.startsWith('#')) continue;
          const key = line.slice(0, colon);
          const value = line.slice(colon + 1);
          const calls = /(?:^|,)calls=(\d+)/.exec(value);
          const number = key.startsWith('cmdstat_') ? Number(calls?.[1] ?? 0) : Number(value);
          if (Number.isFinite(number)) sums.set(key, (sums.get(key) ?? 0) + number);
        }
      }
      return [...sums].map(([key, value]) => (key.startsWith('cmdstat_') ? `${key}:calls=${value}` : `${key}:${value}`)).join('\n');
    },
    close() {
      for (const client of clients.values()) client.disconnect();
    },
  };
}

/** One scenario on both layouts. */
export interface LayoutComparison {
  readonly id: string;
  readonly title: string;
  readonly tasks: number;
  readonly single?: SystemSummary;
  readonly cluster?: SystemSummary;
  readonly failures: readonly string[];
}

interface Layout {
  readonly name: 'single' | 'cluster';
  readonly url: string;
  readonly admin: Admin;
}

/** Runs each scenario `rounds` times on each layout, alternating which goes first. */
export async function compareLayouts(
  scenarios: readonly Scenario[],
  layouts: readonly [Layout, Layout],
  rounds: (scenario: Scenario) => number,
  log: (line: string) => void,
): Promise<LayoutComparison[]> {
  const out: LayoutComparison[] = [];
  for (const scenario of scenarios) {
    log(`${scenario.title} (${scenario.tasks.toLocaleString('en-US')} tasks, ${rounds(scenario)} rounds per layout)`);
    const trials: Record<Layout['name'], TrialResult[]> = { single: [], cluster: [] };
    const failures: string[] = [];
    for (let round = 0; round < rounds(scenario); round++) {
      for (const layout of round % 2 === 0 ? layouts : [...layouts].reverse()) {
        try {
          const result = await runTrial({
            system: 'celeriac',
            workload: scenario.workload,
            redisUrl: layout.url,
            admin: layout.admin,
            timeoutMs: scenario.timeoutMs,
            countRoundTrips: false,
            mode: 'processes',
          });
          trials[layout.name].push(result);
          log(`  round ${round + 1} ${layout.name}: ${result.ms.toFixed(1)} ms`);
        } catch (error) {
          const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
          failures.push(`${layout.name} round ${round + 1}: ${message}`);
          log(`  round ${round + 1} ${layout.name}: FAILED ${message}`);
        }
      }
    }
    const single = summarizeSystem(scenario, trials.single, []);
    const cluster = summarizeSystem(scenario, trials.cluster, []);
    out.push({
      id: scenario.id,
      title: scenario.title,
      tasks: scenario.tasks,
      ...(single === undefined ? {} : { single }),
      ...(cluster === undefined ? {} : { cluster }),
      failures,
    });
  }
  return out;
}

/** The comparison as a Markdown table. */
export function layoutTable(rows: readonly LayoutComparison[]): string {
  const ms = (s: SystemSummary | undefined): string => (s === undefined ? 'failed' : `${s.medianMs.toFixed(0)} ms`);
  const rate = (s: SystemSummary | undefined): string => (s === undefined ? '–' : s.tasksPerSecond.toFixed(0));
  const lines = [
    '| scenario | one Redis | 3-master cluster | cluster / one | tasks/s one | tasks/s cluster | Redis commands per task one / cluster | Redis CPU µs per task one / cluster (all masters) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const row of rows) {
    const ratio = row.single !== undefined && row.cluster !== undefined ? (row.cluster.medianMs / row.single.medianMs).toFixed(2) : '–';
    const pair = (f: (s: SystemSummary) => number): string =>
      `${row.single === undefined ? '–' : f(row.single).toFixed(1)} / ${row.cluster === undefined ? '–' : f(row.cluster).toFixed(1)}`;
    lines.push(
      `| ${row.title} | ${ms(row.single)} | ${ms(row.cluster)} | ${ratio} | ${rate(row.single)} | ${rate(row.cluster)} | ${pair((s) => s.redisCommandsPerTask)} | ${pair((s) => s.redisCpuMicrosPerTask)} |`,
    );
  }
  return lines.join('\n');
}

export { median };
