/**
 * The fault suite's knobs and its seeded randomness. Every random choice a scenario makes — the
 * shapes of its workflows and when its faults strike — comes from one seed, printed when a test
 * fails, so that the same workload and fault schedule can be run again. (Task durations and the
 * scheduler still vary from run to run: a replay is the same experiment, not the same trace.)
 *
 * - `CELERIAC_FAULTS_SIZE`: workflows per scenario. `npm run test:faults` runs 200; `npm test`
 *   runs the suite at the default, 30, to stay within a minute or two on 2 cores.
 * - `CELERIAC_FAULTS_SEED`: the seed to replay (printed on failure); random otherwise.
 */
import { onTestFailed } from 'vitest';

/** Workflows each scenario runs. */
export const SIZE = positive(process.env['CELERIAC_FAULTS_SIZE'], 30);

function positive(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`CELERIAC_FAULTS_SIZE must be a positive integer, got ${JSON.stringify(text)}`);
  return value;
}

/** A small seeded PRNG (mulberry32) with the helpers the scenarios need. */
export interface Rng {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

export function rng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
  };
}

/**
 * The seed of this test: `CELERIAC_FAULTS_SEED` or a fresh one. Call it inside a test: if the
 * test fails, the command that replays it is printed.
 */
export function seededForTest(file: string): Rng {
  const given = process.env['CELERIAC_FAULTS_SEED'];
  const seed = given !== undefined && given !== '' ? Number(given) >>> 0 : Math.floor(Math.random() * 4_294_967_296);
  onTestFailed(() => {
    console.error(`\nreplay: CELERIAC_FAULTS_SEED=${seed} CELERIAC_FAULTS_SIZE=${SIZE} npx vitest run --project faults ${file}\n`);
  });
  return rng(seed);
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
