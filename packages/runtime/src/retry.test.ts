import { describe, expect, it } from 'vitest';
import { InvalidTaskOptionError } from './errors.js';
import { rateInterval } from './task.js';
import { backoffDelay } from './processor.js';

describe('backoffDelay', () => {
  it('waits nothing without a backoff', () => {
    expect(backoffDelay(undefined, 3)).toBe(0);
  });

  it('waits the same delay every time with a fixed backoff', () => {
    expect([0, 1, 2].map((r) => backoffDelay({ type: 'fixed', delay: 2 }, r))).toEqual([2000, 2000, 2000]);
  });

  it('doubles an exponential backoff per retry (Celery: 1, 2, 4, 8 s)', () => {
    expect([0, 1, 2, 3].map((r) => backoffDelay({ type: 'exponential', delay: 1 }, r))).toEqual([1000, 2000, 4000, 8000]);
  });

  it('caps an exponential backoff at maxDelay, 600 s by default', () => {
    expect(backoffDelay({ type: 'exponential', delay: 1, maxDelay: 5 }, 10)).toBe(5000);
    expect(backoffDelay({ type: 'exponential', delay: 1 }, 20)).toBe(600_000);
  });

  it('draws a jittered delay uniformly below the computed one', () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay({ type: 'exponential', delay: 1, jitter: true }, 3));
    expect(Math.max(...delays)).toBeLessThanOrEqual(8000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(new Set(delays).size).toBeGreaterThan(150);
  });
});

describe('rateInterval', () => {
  it('turns Celery rate limits into milliseconds between starts', () => {
    expect(rateInterval('10/s', 't')).toBe(100);
    expect(rateInterval('100/m', 't')).toBe(600);
    expect(rateInterval('2/h', 't')).toBe(1_800_000);
    expect(rateInterval(4, 't')).toBe(250);
  });

  it('rejects a malformed rate limit naming the option and the task', () => {
    expect(() => rateInterval('fast', 'resize')).toThrow(InvalidTaskOptionError);
    expect(() => rateInterval('0/s', 'resize')).toThrow(/options\.rateLimit.*resize/);
  });
});
