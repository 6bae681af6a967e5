/**
 * The scenarios of issue 5, with how many A/B rounds each gets in the quick and the full run.
 * Each round runs Celeriac and plain BullMQ once, in alternating order.
 */
import { taskCount, type Workload } from './workload.js';

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly workload: Workload;
  /** Task executions per run. */
  readonly tasks: number;
  /** Set for chains: time is also reported per sequential hop. */
  readonly hops?: number;
  readonly rounds: { readonly quick: number; readonly full: number };
  /** Bound on one measured run. */
  readonly timeoutMs: number;
}

function scenario(spec: Omit<Scenario, 'tasks'>): Scenario {
  return { ...spec, tasks: taskCount(spec.workload) };
}

export const SCENARIOS: readonly Scenario[] = [
  scenario({
    id: 'chain-100',
    title: 'chain of 100 steps',
    workload: { kind: 'chains', count: 1, steps: 100 },
    hops: 100,
    rounds: { quick: 3, full: 9 },
    timeoutMs: 60_000,
  }),
  scenario({ id: 'group-1k', title: 'group of 1 000', workload: { kind: 'group', size: 1_000 }, rounds: { quick: 3, full: 9 }, timeoutMs: 60_000 }),
  scenario({
    id: 'group-1k-events',
    title: 'group of 1 000, task events on (-E)',
    workload: { kind: 'group', size: 1_000, taskEvents: true },
    rounds: { quick: 3, full: 9 },
    timeoutMs: 60_000,
  }),
  scenario({ id: 'group-10k', title: 'group of 10 000', workload: { kind: 'group', size: 10_000 }, rounds: { quick: 2, full: 5 }, timeoutMs: 120_000 }),
  scenario({ id: 'chord-1k', title: 'chord of 1 000 → sum', workload: { kind: 'chord', size: 1_000 }, rounds: { quick: 3, full: 9 }, timeoutMs: 60_000 }),
  scenario({ id: 'chord-10k', title: 'chord of 10 000 → sum', workload: { kind: 'chord', size: 10_000 }, rounds: { quick: 2, full: 5 }, timeoutMs: 120_000 }),
  scenario({
    id: 'chains-100x10',
    title: '100 chains × 10 steps at once',
    workload: { kind: 'chains', count: 100, steps: 10 },
    rounds: { quick: 3, full: 9 },
    timeoutMs: 60_000,
  }),
  scenario({ id: 'mixed-1k', title: '1 000 workflows of mixed shape', workload: { kind: 'mixed', count: 1_000 }, rounds: { quick: 2, full: 5 }, timeoutMs: 120_000 }),
  scenario({
    id: 'lone-1k',
    title: '1 000 lone tasks, delay + get',
    workload: { kind: 'lone', count: 1_000, get: true },
    rounds: { quick: 3, full: 9 },
    timeoutMs: 60_000,
  }),
  scenario({
    id: 'lone-seq',
    title: '200 lone tasks one after another, delay + get',
    workload: { kind: 'lone', count: 200, get: true, sequential: true },
    rounds: { quick: 3, full: 7 },
    timeoutMs: 60_000,
  }),
  scenario({
    id: 'delay-1k',
    title: '1 000 lone delays (no get)',
    workload: { kind: 'lone', count: 1_000, get: false },
    rounds: { quick: 3, full: 9 },
    timeoutMs: 60_000,
  }),
  scenario({ id: 'group-100k', title: 'group of 100 000 (memory)', workload: { kind: 'group', size: 100_000 }, rounds: { quick: 1, full: 3 }, timeoutMs: 300_000 }),
];

/**
 * Profile mode: each unit is measured at two sizes; the difference divided by the difference in
 * units is the marginal cost of one unit (fixed costs such as connecting and applying cancel out).
 */
export interface ProfileUnit {
  readonly id: 'chain-hop' | 'group-member' | 'chord-member' | 'mixed-workflow' | 'lone-task' | 'lone-delay';
  readonly title: string;
  readonly small: Workload;
  readonly large: Workload;
  /** Units in each size. */
  readonly units: (workload: Workload) => number;
}

const size = (workload: Workload): number => ('size' in workload ? workload.size : 0);
const count = (workload: Workload): number => (workload.kind === 'lone' ? workload.count : 0);

export const PROFILE_UNITS: readonly ProfileUnit[] = [
  {
    id: 'chain-hop',
    title: 'chain hop',
    small: { kind: 'chains', count: 1, steps: 100 },
    large: { kind: 'chains', count: 1, steps: 300 },
    units: (workload) => (workload.kind === 'chains' ? workload.steps : 0),
  },
  { id: 'group-member', title: 'group member', small: { kind: 'group', size: 1_000 }, large: { kind: 'group', size: 3_000 }, units: size },
  { id: 'chord-member', title: 'chord header member', small: { kind: 'chord', size: 1_000 }, large: { kind: 'chord', size: 3_000 }, units: size },
  {
    id: 'mixed-workflow',
    title: 'mixed workflow (6.75 tasks)',
    small: { kind: 'mixed', count: 200 },
    large: { kind: 'mixed', count: 600 },
    units: (workload) => (workload.kind === 'mixed' ? workload.count : 0),
  },
  {
    id: 'lone-task',
    title: 'lone task, delay + get',
    small: { kind: 'lone', count: 200, get: true, sequential: true },
    large: { kind: 'lone', count: 600, get: true, sequential: true },
    units: count,
  },
  {
    id: 'lone-delay',
    title: 'lone delay (no get)',
    small: { kind: 'lone', count: 200, get: false, sequential: true },
    large: { kind: 'lone', count: 600, get: false, sequential: true },
    units: count,
  },
];
