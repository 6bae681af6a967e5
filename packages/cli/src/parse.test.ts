import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { autoscale, json, names, poolKind, seconds, wholeNumber } from './parse.js';

describe('option parsers', () => {
  it('--autoscale takes Celery\'s MAX,MIN', () => {
    expect(autoscale('10,3')).toEqual({ max: 10, min: 3 });
    expect(autoscale('4')).toEqual({ max: 4, min: 0 });
    expect(() => autoscale('3,10')).toThrow(InvalidArgumentError);
    expect(() => autoscale('many')).toThrow(InvalidArgumentError);
  });

  it('-P takes async or processes, and Celery\'s prefork for processes', () => {
    expect(poolKind('async')).toBe('async');
    expect(poolKind('prefork')).toBe('processes');
    expect(() => poolKind('gevent')).toThrow(InvalidArgumentError);
  });

  it('numbers, seconds, lists and JSON', () => {
    expect(wholeNumber(1)('4')).toBe(4);
    expect(() => wholeNumber(1)('0')).toThrow(/>= 1/);
    expect(() => wholeNumber(0)('1.5')).toThrow(InvalidArgumentError);
    expect(seconds('1.5')).toBe(1.5);
    expect(() => seconds('-1')).toThrow(InvalidArgumentError);
    expect(names('a, b', ['x'])).toEqual(['x', 'a', 'b']);
    expect(json('array')('[2, 2]')).toEqual([2, 2]);
    expect(() => json('array')('{}')).toThrow(/expected a JSON array/);
    expect(() => json('object')('[1,')).toThrow(/not valid JSON/);
  });
});
