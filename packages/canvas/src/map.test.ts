import { describe, expect, it } from 'vitest';
import { CanvasError } from './errors.js';
import { chunks, map, starmap } from './map.js';
import { defineTask } from './signature.js';
import type { Json, Signature } from './types.js';

const add = defineTask<[x: number, y: number], number>('add');
const tsum = defineTask<[nums: number[]], number>('tsum');

const inner = (task: string) =>
  ({ kind: 'signature', task, args: [], kwargs: {}, options: {}, immutable: false }) satisfies Signature;
const applied = (task: 'celery.map' | 'celery.starmap', name: string, it: Json[]) =>
  ({
    kind: 'signature',
    task,
    args: [],
    kwargs: { task: inner(name), it },
    options: {},
    immutable: true,
  }) satisfies Signature;

describe('map', () => {
  it('builds one immutable celery.map signature holding the task and the items', () => {
    expect(map(tsum, [[1, 2], [3, 4]])).toStrictEqual(applied('celery.map', 'tsum', [[1, 2], [3, 4]]));
  });

  it('accepts a task name', () => {
    expect(map('tasks.tsum', [[1]])).toStrictEqual(applied('celery.map', 'tasks.tsum', [[1]]));
  });

  it('rejects items that are not JSON, and an empty task name', () => {
    expect(() => map('t', [undefined as unknown as Json])).toThrow(/items\[0\]: expected JSON, got undefined/);
    expect(() => map('t', 'abc' as unknown as Json[])).toThrow(/items: expected an array/);
    expect(() => map('', [1])).toThrow(CanvasError);
  });
});

describe('starmap', () => {
  it('builds one immutable celery.starmap signature holding the task and the argument lists', () => {
    expect(starmap(add, [[1, 1], [2, 2]])).toStrictEqual(applied('celery.starmap', 'add', [[1, 1], [2, 2]]));
  });

  it('accepts a task name', () => {
    expect(starmap('add', [[1, 1]])).toStrictEqual(applied('celery.starmap', 'add', [[1, 1]]));
  });

  it('rejects an element that is not an argument list', () => {
    const build = () => starmap('add', [[1, 1], 5 as unknown as Json[]]);
    expect(build).toThrow(CanvasError);
    expect(build).toThrow(/argLists\[1\]: expected an array, got a number/);
  });
});

describe('chunks', () => {
  it('splits the argument lists into a group of starmaps over consecutive parts of at most n', () => {
    const lists: [number, number][] = [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [6, 6], [7, 7]];
    expect(chunks(add, lists, 3)).toStrictEqual({
      kind: 'group',
      tasks: [
        applied('celery.starmap', 'add', [[1, 1], [2, 2], [3, 3]]),
        applied('celery.starmap', 'add', [[4, 4], [5, 5], [6, 6]]),
        applied('celery.starmap', 'add', [[7, 7]]),
      ],
      options: {},
    });
  });

  it('makes one part per call when n is 1, and one part when n covers everything', () => {
    expect(chunks('add', [[1, 1], [2, 2]], 1).tasks).toHaveLength(2);
    expect(chunks('add', [[1, 1], [2, 2]], 10).tasks).toStrictEqual([applied('celery.starmap', 'add', [[1, 1], [2, 2]])]);
  });

  it('builds an empty group from no argument lists', () => {
    expect(chunks(add, [], 5)).toStrictEqual({ kind: 'group', tasks: [], options: {} });
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number])(
    'rejects the part size %s with a CanvasError',
    (n) => {
      const build = () => chunks(add, [[1, 1]], n);
      expect(build).toThrow(CanvasError);
      expect(build).toThrow(/n: chunks\(\) expected a positive integer part size/);
    },
  );
});
