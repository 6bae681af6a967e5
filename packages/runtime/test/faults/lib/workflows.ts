/**
 * The fault suite's workload: workflows of every shape the canvas has — chains (some of their
 * steps immutable), groups, chords, and each nested in the others — each with the value it must
 * return, so a scenario can check every one after its faults. Two tasks do all the work: `add`
 * (x + y; a partial `add.s(k)` gets its parent's result prepended) and `tsum` (a list's sum).
 */
import { chain, chord, group, immutable, signature, withOptions, type Canvas } from '@celeriac/canvas';
import type { Rng } from './seed.js';

/** A workflow and what it must return. */
export interface Case {
  readonly shape: string;
  readonly canvas: Canvas;
  readonly expected: unknown;
}

const add = (...args: number[]): Canvas => signature('add', args);
const addSi = (x: number, y: number): Canvas => immutable(signature('add', [x, y]));
const tsum = (): Canvas => signature('tsum');
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** A chain of `length` steps, some immutable (they ignore the value so far). */
function chainCase(rng: Rng, length: number): { canvas: Canvas; value: number } {
  const first = [rng.int(0, 50), rng.int(0, 50)] as const;
  let value = first[0] + first[1];
  const steps: Canvas[] = [addSi(...first)];
  for (let i = 1; i < length; i++) {
    if (rng.chance(0.25)) {
      const [x, y] = [rng.int(0, 50), rng.int(0, 50)];
      steps.push(addSi(x, y));
      value = x + y;
    } else {
      const k = rng.int(1, 9);
      steps.push(add(k));
      value += k;
    }
  }
  return { canvas: chain(steps), value };
}

const SHAPES: readonly ((rng: Rng) => Case)[] = [
  (rng) => {
    const { canvas, value } = chainCase(rng, rng.int(2, 8));
    return { shape: 'chain', canvas, expected: value };
  },
  (rng) => {
    const pairs = Array.from({ length: rng.int(2, 10) }, () => [rng.int(0, 99), rng.int(0, 99)] as const);
    return { shape: 'group', canvas: group(pairs.map(([x, y]) => addSi(x, y))), expected: pairs.map(([x, y]) => x + y) };
  },
  (rng) => {
    const pairs = Array.from({ length: rng.int(2, 12) }, () => [rng.int(0, 99), rng.int(0, 99)] as const);
    return { shape: 'chord', canvas: chord(pairs.map(([x, y]) => addSi(x, y)), tsum()), expected: sum(pairs.map(([x, y]) => x + y)) };
  },
  (rng) => {
    // chain → group → join into a chord body → the chain goes on
    const start = rng.int(0, 20);
    const ks = Array.from({ length: rng.int(2, 6) }, () => rng.int(1, 9));
    const canvas = chain(addSi(start, 1), group(ks.map((k) => add(k))), tsum(), add(100));
    return { shape: 'chain-group-chord', canvas, expected: sum(ks.map((k) => start + 1 + k)) + 100 };
  },
  (rng) => {
    const members = Array.from({ length: rng.int(2, 5) }, () => chainCase(rng, rng.int(2, 4)));
    return { shape: 'chord-of-chains', canvas: chord(members.map((m) => m.canvas), tsum()), expected: sum(members.map((m) => m.value)) };
  },
  (rng) => {
    const members = Array.from({ length: rng.int(2, 5) }, () => chainCase(rng, rng.int(2, 4)));
    return { shape: 'group-of-chains', canvas: group(members.map((m) => m.canvas)), expected: members.map((m) => m.value) };
  },
  (rng) => {
    // the chain's value is prepended to every header member's arguments
    const start = rng.int(0, 20);
    const ks = Array.from({ length: rng.int(2, 6) }, () => rng.int(1, 9));
    const canvas = chain(addSi(start, 2), chord(ks.map((k) => add(k)), tsum()), add(1));
    return { shape: 'chain-into-chord', canvas, expected: sum(ks.map((k) => start + 2 + k)) + 1 };
  },
  (rng) => {
    // an immutable chord body ignores what the header returned
    const [x, y] = [rng.int(0, 50), rng.int(0, 50)];
    const header = Array.from({ length: rng.int(2, 6) }, (_, i) => addSi(i, i));
    return { shape: 'chord-immutable-body', canvas: chord(header, addSi(x, y)), expected: x + y };
  },
];

/** `count` workflows of seeded random shapes, every shape present once `count` allows it. */
export function mixedWorkflows(rng: Rng, count: number): Case[] {
  return Array.from({ length: count }, (_, i) => SHAPES[i < SHAPES.length ? i : rng.int(0, SHAPES.length - 1)]!(rng));
}

/** Members of a big group: its adds leave in eight bulk adds of 250, so a producer can die between them. */
export const BIG_GROUP = 2_000;
/** Big groups a producer applies at most (producer-process.ts): the test kills it long before. */
export const BIG_GROUPS = 50;
/** The queue big groups go to, so that a test can watch their adds alone. */
export const BIG_QUEUE = 'big';

/** Big group `j`: {@link BIG_GROUP} immutable `add(j, i)` on {@link BIG_QUEUE}. */
export function bigGroup(j: number): Case {
  const members = Array.from({ length: BIG_GROUP }, (_, i) => addSi(j, i));
  return { shape: 'big-group', canvas: withOptions(group(members), { queue: BIG_QUEUE }), expected: members.map((_, i) => j + i) };
}
