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

  it('cuts a problem short instead of copying megabytes of hostile data into it', () => {
    const problem = problemOf('x'.repeat(1_000_000));
    expect(problem).toMatch(/^its data is not a Celeriac task job: .*xxx… \(\d+ more characters\)$/);
    expect(problem!.length).toBeLessThan(600);
    const hostileKey = JSON.parse(`[{"${'k'.repeat(100_000)}": {"__proto__": {}}}]`) as unknown;
    expect(problemOf(wire(hostileKey))!.length).toBeLessThan(600);
  });

  it('takes what apply takes: a constructor holding a string, and a chord body\'s list one level deeper than any result', () => {
    expect(problemOf(wire([{ constructor: 'Point' }]))).toBeUndefined();
    let deep: unknown = 1;
    for (let i = 0; i < 250; i++) deep = [deep];
    expect(problemOf(wire([deep]))).toBeUndefined();
  });
});

describe('readTaskJob: the hand-checked common job and the schema agree', () => {
  const withOptions = (o: unknown): unknown => ({ ...(wire([1, 2]) as object), o });
  const read = (data: unknown) => readTaskJob(data);

  it('reads the common job and every plain option', () => {
    const options = { maxRetries: 3, timeLimit: 1.5, softTimeLimit: 1, ignoreResult: true, expiresAt: 1_700_000_000_000 };
    const job = read(withOptions(options));
    expect(isUnreadable(job)).toBe(false);
    expect(job).toMatchObject({ workflowId: 'wf', index: 0, id: 'wf', task: 'echo', args: [1, 2], options, retries: 0 });
    expect(read(withOptions({ maxRetries: null }))).toMatchObject({ options: { maxRetries: null } });
  });

  it('leaves what it does not check by hand to the schema: a backoff is read, an unknown option dropped', () => {
    const backoff = { type: 'exponential', delay: 1, maxDelay: 60, jitter: true };
    expect(read(withOptions({ backoff }))).toMatchObject({ options: { backoff } });
    const job = read(withOptions({ maxRetries: 1, somethingNew: 'x' }));
    expect(isUnreadable(job) ? job.problem : job.options).toEqual({ maxRetries: 1 });
  });

  it.each([
    ['a negative retry limit', withOptions({ maxRetries: -1 }), /o\.maxRetries/],
    ['a fractional retry count', { ...(wire([]) as object), r: 0.5 }, /^its data is not a Celeriac task job: r:/],
    ['a string index', { ...(wire([]) as object), i: '0' }, /: i:/],
    ['args that are not a list', wire({ 0: 1 }), /args: expected an array/],
    ['kwargs that are a list', wire([], []), /kwargs: expected an object/],
    ['a missing task name', { ...(wire([]) as object), task: undefined }, /task:/],
    ['a boolean time limit', withOptions({ timeLimit: true }), /o\.timeLimit/],
    ['another version', { ...(wire([]) as object), v: 2 }, /v:/],
  ])('refuses %s, naming the field', (_, data, problem) => {
    const job = read(data);
    expect(isUnreadable(job) ? job.problem : 'read').toMatch(problem);
  });
});
