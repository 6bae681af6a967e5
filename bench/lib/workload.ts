/**
 * What a benchmark run does, described as data so the orchestrator, the producer and the worker
 * processes agree on it, plus the values a correct run must produce. Both systems (Celeriac and
 * plain BullMQ) run the same workloads with the same trivial task bodies: `add(x, y)` and
 * `sum(list)`, so the numbers measure the engine, not the tasks.
 */

/** One workload, in the shapes of issue 5. */
export type Workload =
  /** `count` independent chains of `steps` sequential steps, all started at once. */
  | { readonly kind: 'chains'; readonly count: number; readonly steps: number }
  /**
   * One group of `size` independent tasks. `taskEvents`: Celeriac's workers record task events
   * (Celery's `-E`, what the monitor reads); BullMQ writes its events stream always.
   */
  | { readonly kind: 'group'; readonly size: number; readonly taskEvents?: boolean }
  /** One chord: a header of `size` tasks, then one body task summing their results. */
  | { readonly kind: 'chord'; readonly size: number }
  /** `count` workflows started at once, cycling through {@link MIXED_SHAPES}. */
  | { readonly kind: 'mixed'; readonly count: number }
  /**
   * `count` lone tasks `add(i, i)` (`task.delay(...)`; plain BullMQ: `queue.add`). With `get`, each
   * one's value is awaited (`res.get()`; plain BullMQ: `job.waitUntilFinished`) and checked;
   * without it, the run ends when every task has been sent. `sequential`: one after another
   * instead of all at once.
   */
  | { readonly kind: 'lone'; readonly count: number; readonly get: boolean; readonly sequential?: boolean };

/** The shapes of the mixed workload, in order: workflow `i` has shape `MIXED_SHAPES[i % 4]`. */
export const MIXED_SHAPES = [
  { shape: 'task', tasks: 1 },
  { shape: 'chain', tasks: 5 },
  { shape: 'group', tasks: 10 },
  { shape: 'chord', tasks: 11 },
] as const;

/** Chain length, group and chord size used by the mixed workload. */
export const MIXED_CHAIN_STEPS = 5;
export const MIXED_GROUP_SIZE = 10;

/** How many task executions a workload causes. */
export function taskCount(workload: Workload): number {
  switch (workload.kind) {
    case 'chains':
      return workload.count * workload.steps;
    case 'group':
      return workload.size;
    case 'chord':
      return workload.size + 1;
    case 'lone':
      return workload.count;
    case 'mixed': {
      let total = 0;
      for (let i = 0; i < workload.count; i++) total += MIXED_SHAPES[i % MIXED_SHAPES.length]!.tasks;
      return total;
    }
  }
}

/**
 * Task executions of every warm-up. Enough for V8 to optimise each system's per-task code path:
 * traced with `--trace-opt`, Celeriac's hop functions (`taskWire`, the tick batcher's `flush`)
 * reach TurboFan after about 2 100 hops, and BullMQ's `moveToActive` (the fetch of a worker idle
 * between hops) only once chains run one at a time; workers are long-lived processes.
 */
const WARMUP_TASKS = 3_000;

/** A warm-up: `workload`, run `times` times in a row. */
export interface Warmup {
  readonly workload: Workload;
  readonly times: number;
}

/**
 * The warm-up run untimed before a workload, so both systems are measured with warm JIT, loaded
 * Lua scripts and open connections: about {@link WARMUP_TASKS} tasks (fewer when the workload itself
 * is smaller) in the workload's own shape. Chains are run as they are timed, `count` at once,
 * again and again: a worker that takes one chain's hops one at a time, idle between them, runs
 * other code (BullMQ's fetch loop) than one kept busy by many chains at once, and chains warmed up
 * all at once left that code to be optimised during the timed chain, in both systems.
 */
export function warmupOf(workload: Workload): Warmup {
  const once = (shape: Workload): Warmup => ({ workload: shape, times: 1 });
  switch (workload.kind) {
    case 'chains': {
      const shape: Workload = { kind: 'chains', count: workload.count, steps: Math.min(workload.steps, 100) };
      return { workload: shape, times: Math.max(1, Math.round(WARMUP_TASKS / taskCount(shape))) };
    }
    case 'group':
      return once({ kind: 'group', size: Math.min(workload.size, WARMUP_TASKS) });
    case 'chord':
      return once({ kind: 'chord', size: Math.min(workload.size, WARMUP_TASKS) });
    case 'lone':
      // Always with `get`, so that the warm-up's tasks have run before the measured run starts.
      return once({ kind: 'lone', count: Math.min(workload.count * 2, WARMUP_TASKS), get: true });
    case 'mixed': {
      const tasksPerWorkflow = taskCount({ kind: 'mixed', count: MIXED_SHAPES.length }) / MIXED_SHAPES.length;
      return once({ kind: 'mixed', count: Math.min(workload.count, Math.round(WARMUP_TASKS / tasksPerWorkflow)) });
    }
  }
}

/** The value a chain of `steps` steps returns: it starts with add(0, 1) and adds 1 per step. */
export const chainValue = (steps: number): number => steps;

/** The value of the member `i` of a group or chord header: add(i, i). */
export const memberValue = (i: number): number => 2 * i;

/** Sum of the members of a group or chord header of `size`. */
export const headerSum = (size: number): number => size * (size - 1);

/** Throws when a group's values are not `[0, 2, 4, ...]`. */
export function checkGroup(values: readonly unknown[], size: number, what: string): void {
  if (values.length !== size) throw new Error(`${what}: expected ${size} values, got ${values.length}`);
  values.forEach((value, i) => {
    if (value !== memberValue(i)) throw new Error(`${what}: member ${i} returned ${String(value)}, expected ${memberValue(i)}`);
  });
}

/** Throws when `actual` is not `expected`. */
export function checkValue(actual: unknown, expected: number, what: string): void {
  if (actual !== expected) throw new Error(`${what}: returned ${JSON.stringify(actual)}, expected ${expected}`);
}
