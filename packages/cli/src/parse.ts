/**
 * Parsers for option values, each failing with a message commander prints as one line:
 * `option '-c, --concurrency <n>' argument 'x' is invalid. expected a whole number >= 1`.
 */
import type { AutoscaleOptions, PoolKind } from '@celeriac/runtime';
import { InvalidArgumentError } from 'commander';

/** A whole number >= `min`. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

/** Seconds (a number >= 0, fractions allowed). */
export function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds >= 0, e.g. 1.5');
  return n;
}

/** A comma-separated list of names: `a,b` (repeated options add up). */
export function names(value: string, previous: readonly string[] = []): string[] {
  const list = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (list.length === 0) throw new InvalidArgumentError('expected one or more names separated by commas, e.g. a,b');
  return [...previous, ...list];
}

/** JSON text, checked to be of `kind`. */
export function json(kind: 'array' | 'object'): (value: string) => unknown {
  return (value) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new InvalidArgumentError(`not valid JSON (${(error as Error).message}); quote it for the shell, e.g. '[2, 2]' or '{"x": 1}'`);
    }
    const ok = kind === 'array' ? Array.isArray(parsed) : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    if (!ok) throw new InvalidArgumentError(`expected a JSON ${kind}, e.g. ${kind === 'array' ? "'[2, 2]'" : '\'{"x": 1}\''}`);
    return parsed;
  };
}

/** `-P` values: ours, and Celery's name for the processes pool. */
export function poolKind(value: string): PoolKind {
  if (value === 'async' || value === 'solo' || value === 'threads') return 'async';
  if (value === 'processes' || value === 'prefork') return 'processes';
  throw new InvalidArgumentError('expected "async" (tasks on the event loop) or "processes" (child processes, Celery\'s prefork)');
}

/** `--autoscale MAX,MIN` (Celery's order), or `MAX`. */
export function autoscale(value: string): AutoscaleOptions {
  const match = /^\s*(\d+)\s*(?:,\s*(\d+)\s*)?$/.exec(value);
  const max = Number(match?.[1]);
  const min = match?.[2] === undefined ? 0 : Number(match[2]);
  if (match === null || max < 1 || min > max) throw new InvalidArgumentError('expected MAX,MIN with 1 <= MAX and MIN <= MAX, e.g. 10,3');
  return { max, min };
}
