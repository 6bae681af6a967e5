import { fileURLToPath, pathToFileURL } from 'node:url';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { DEFAULT_KEEPALIVE_MS, poolConfigOf } from './options.js';

const here = fileURLToPath(import.meta.url);

describe('poolConfigOf', () => {
  it('is the async pool by default, and checks nothing the async pool does not use', () => {
    expect(poolConfigOf({}, 4)).toEqual({ kind: 'async' });
    expect(poolConfigOf({ pool: 'async', appModule: 'whatever.ts' }, 4)).toEqual({ kind: 'async' });
  });

  it('refuses options only the processes pool has, rather than ignoring them', () => {
    expect(() => poolConfigOf({ maxTasksPerChild: 5 }, 4)).toThrow(/maxTasksPerChild: only the processes pool/);
    expect(() => poolConfigOf({ autoscale: { max: 2 } }, 4)).toThrow(/autoscale: only the processes pool autoscales/);
  });

  it('refuses an unknown pool by name', () => {
    expect(() => poolConfigOf({ pool: 'prefork' as never }, 4)).toThrow(new InvalidArgumentError('pool', 'expected "async" or "processes", got "prefork"'));
  });

  it('takes the app module as an absolute path, a relative path or a file URL, and requires it to exist', () => {
    const url = pathToFileURL(here);
    for (const given of [here, relative(process.cwd(), here), url, url.href]) {
      expect(poolConfigOf({ pool: 'processes', appModule: given }, 3)).toEqual({ kind: 'processes', appModule: url, size: { fixed: 3 }, maxTasksPerChild: undefined });
    }
    expect(() => poolConfigOf({ pool: 'processes' }, 3)).toThrow(/appModule: the processes pool needs the module its children import/);
    expect(() => poolConfigOf({ pool: 'processes', appModule: '' }, 3)).toThrow(/appModule: expected a path or a file URL, got an empty string/);
    expect(() => poolConfigOf({ pool: 'processes', appModule: 'https://example.com/app.js' }, 3)).toThrow(/no file at/);
    expect(() => poolConfigOf({ pool: 'processes', appModule: new URL('https://example.com/app.js') }, 3)).toThrow(/expected a path or a file: URL/);
    expect(() => poolConfigOf({ pool: 'processes', appModule: 'nowhere/app.ts' }, 3)).toThrow(/appModule: no file at .*nowhere[/\\]app\.ts \(resolved from "nowhere\/app\.ts" against /);
  });

  it('sizes a fixed pool by concurrency, and checks maxTasksPerChild', () => {
    expect(poolConfigOf({ pool: 'processes', appModule: here, concurrency: 2, maxTasksPerChild: 100 }, 8)).toMatchObject({ size: { fixed: 2 }, maxTasksPerChild: 100 });
    for (const bad of [0, -1, 1.5, Number.NaN, '3' as never]) {
      expect(() => poolConfigOf({ pool: 'processes', appModule: here, maxTasksPerChild: bad }, 2)).toThrow(/maxTasksPerChild: expected a whole number >= 1/);
    }
  });

  it('reads autoscale bounds with Celery\'s defaults, and refuses bad ones', () => {
    expect(poolConfigOf({ pool: 'processes', appModule: here, autoscale: { max: 4 } }, 8)).toMatchObject({ size: { max: 4, min: 0, keepalive: DEFAULT_KEEPALIVE_MS } });
    expect(poolConfigOf({ pool: 'processes', appModule: here, autoscale: { max: 4, min: 4, keepalive: 10 } }, 8)).toMatchObject({ size: { max: 4, min: 4, keepalive: 10 } });
    const refused: [unknown, RegExp][] = [
      [null, /autoscale: expected \{ max, min\?, keepalive\? \}/],
      [{ max: 0 }, /autoscale\.max: expected a whole number >= 1, got 0/],
      [{ max: 2, min: 3 }, /autoscale\.min: expected a whole number from 0 to max \(2\), got 3/],
      [{ max: 2, min: -1 }, /autoscale\.min/],
      [{ max: 2, keepalive: 0 }, /autoscale\.keepalive: expected milliseconds > 0/],
      [{ max: 2, keepalive: Infinity }, /autoscale\.keepalive/],
    ];
    for (const [autoscale, message] of refused) {
      expect(() => poolConfigOf({ pool: 'processes', appModule: here, autoscale: autoscale as never }, 2)).toThrow(message);
    }
    expect(() => poolConfigOf({ pool: 'processes', appModule: here, autoscale: { max: 4 }, concurrency: 2 }, 2)).toThrow(/concurrency: give concurrency .* or autoscale .*, not both/);
  });
});
