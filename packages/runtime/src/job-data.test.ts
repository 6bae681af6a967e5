import { describe, expect, it } from 'vitest';
import { isUnreadable, readTaskJob } from './job-data.js';

const wire = (args: unknown, kwargs: unknown = {}): unknown => ({
  v: 1, w: 'wf', i: 0, id: 'wf', task: 'echo', args, kwargs, rootId: 'wf', parentId: null, groupId: null, groupIndex: null, o: {}, r: 0,
});
const problemOf = (data: unknown): string | undefined => {
  const read = readTaskJob(data);
  return isUnreadable(read) ? read.problem : undefined;
};

describe('readTaskJob', () => {
  it('refuses job data whose args or kwargs hold a key that could reach a prototype, naming where', () => {
    expect(problemOf(wire(JSON.parse('[1, {"a": [{"__proto__": {"x": 1}}]}]')))).toMatch(/args\[1\]\.a\[0\]\.__proto__, a key that could reach a prototype/);
    expect(problemOf(wire([], JSON.parse('{"opts": {"constructor": {"prototype": {}}}}')))).toMatch(/kwargs\.opts\.constructor/);
  });

  it('takes what apply takes: a constructor holding a string, and a chord body\'s list one level deeper than any result', () => {
    expect(problemOf(wire([{ constructor: 'Point' }]))).toBeUndefined();
    let deep: unknown = 1;
    for (let i = 0; i < 250; i++) deep = [deep];
    expect(problemOf(wire([deep]))).toBeUndefined();
  });
});
