/**
 * What every scenario checks once its faults are over: each workflow returned the value it must,
 * every node ended SUCCESS, every successor was released exactly once (the Lua scripts count each
 * release in the workflow's `:released` hash), and how often each task ran (the tasks' ledger).
 * Problems are collected, not thrown one by one, so a failure shows all of them at once.
 */
import type { AnyResult, App } from '@celeriac/runtime';
import type { Redis } from 'ioredis';
import type { Case } from './workflows.js';
import { ledgerKey } from './tasks.js';

/** How one waiter ended. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Waits on every result with a bound, so that a hung waiter is a reported problem, not a hung test. */
export async function waitAll(results: readonly AnyResult[], timeout: number): Promise<Outcome[]> {
  return Promise.all(
    results.map((res) =>
      res.get({ timeout }).then(
        (value): Outcome => ({ ok: true, value }),
        (error: unknown): Outcome => ({ ok: false, error }),
      ),
    ),
  );
}

export interface Verdict {
  readonly problems: string[];
  /** Releases counted (successors across all workflows). */
  readonly releases: number;
  /** Task executions in all, and tasks that ran more than once (at least once allows re-runs). */
  readonly executions: number;
  readonly reruns: number;
  readonly nodes: number;
}

const describeError = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export async function verify(app: App, ledger: Redis, cases: readonly Case[], results: readonly AnyResult[], outcomes: readonly Outcome[]): Promise<Verdict> {
  const problems: string[] = [];
  let releases = 0;
  let nodes = 0;
  const runs = new Map<string, number>();
  for (const field of await ledger.hkeys(ledgerKey(app.prefix))) {
    const id = field.slice(0, field.indexOf(' '));
    runs.set(id, (runs.get(id) ?? 0) + 1);
  }
  for (const [i, { shape, expected }] of cases.entries()) {
    const res = results[i]!;
    const outcome = outcomes[i]!;
    const where = `workflow ${i} (${shape}, ${res.id})`;
    if (!outcome.ok) problems.push(`${where}: get() rejected: ${describeError(outcome.error)}`);
    else if (JSON.stringify(outcome.value) !== JSON.stringify(expected)) {
      problems.push(`${where}: returned ${JSON.stringify(outcome.value)}, expected ${JSON.stringify(expected)}`);
    }
    const snapshot = await app.workflow(res.id);
    const released = await app.internals.store.releaseCounts(res.id);
    const successors = new Set(snapshot.edges.filter((edge) => edge.carries !== 'failure').map((edge) => edge.to));
    for (const node of snapshot.nodes) {
      nodes++;
      if (node.state !== 'SUCCESS') problems.push(`${where}: node ${node.index} (${node.task}) ended ${node.state}`);
      const count = released[String(node.index)] ?? 0;
      if (successors.has(node.id)) {
        releases += count;
        if (count !== 1) problems.push(`${where}: node ${node.index} (${node.task}) released ${count} times`);
      } else if (count !== 0) problems.push(`${where}: entry node ${node.index} released ${count} times`);
      if (!runs.has(node.id)) problems.push(`${where}: node ${node.index} (${node.task}) never ran`);
    }
  }
  const counts = [...runs.values()];
  return {
    problems,
    releases,
    nodes,
    executions: counts.reduce((a, b) => a + b, 0),
    reruns: counts.filter((count) => count > 1).length,
  };
}
