/** Runs every example program against the test Redis and checks what it prints. */
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runExample } from '../scripts/run-example.js';

/** stderr without the worker's own log of the task failures an example causes on purpose. */
function unexpected(stderr: string): string {
  return stderr.replace(/^\[celeriac\] Task \S+ raised .*\n(?:\s+at .*\n)*/gm, '');
}

const run = async (name: string): Promise<string> => {
  const result = await runExample(name, inject('redisUrl'), { timeoutMs: 60_000 });
  expect(unexpected(result.stderr)).not.toMatch(/Error:/);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
};

describe('examples', { timeout: 90_000 }, () => {
  it('chain.ts prints 16, 8, 4', async () => {
    const out = await run('chain');
    expect(out).toMatch(/res\.get\(\)\s+= 16/);
    expect(out).toMatch(/res\.parent\.get\(\)\s+= 8/);
    expect(out).toMatch(/res\.parent\.parent\.get\(\) = 4/);
  });

  it('immutable.ts prints 16, 8, 4, also through a rebuilt result', async () => {
    const out = await run('immutable');
    expect(out).toMatch(/res\.get\(\)\s+= 16/);
    expect(out).toMatch(/res\.parent\.get\(\)\s+= 8/);
    expect(out).toMatch(/res\.parent\.parent\.get\(\) = 4/);
    expect(out).toMatch(/app\.result\(id\)\.parent\.parent\.get\(\) = 4/);
  });

  it('group.ts prints the members in order and the chunks', async () => {
    const out = await run('group');
    expect(out).toContain('[0,2,4,6,8,10,12,14,16,18]');
    expect(out).toMatch(/completedCount\(\) = 10/);
    expect(out).toContain('[[0,2,4,6],[8,10,12,14],[16,18]]');
  });

  it('chord.ts prints the sum and the ordered header', async () => {
    const out = await run('chord');
    expect(out).toMatch(/res\.get\(\)\s+= 90/);
    expect(out).toContain('[0,2,4,6,8,10,12,14,16,18]');
  });

  it('nested.ts prints the joined value and a Mermaid graph', async () => {
    const out = await run('nested');
    expect(out).toMatch(/res\.get\(\)\s+= 62/);
    expect(out).toContain('[5,12,14]');
    expect(out).toContain('flowchart');
  });

  it('errors.ts shows each failure reaching its waiter', async () => {
    const out = await run('errors');
    expect(out).toContain('TaskError from fail: RangeError');
    expect(out).toMatch(/res\.parent\.parent\.get\(\) = 3/);
    expect(out).toContain('ChordError: Dependency');
    expect(out).toContain('NotRegisteredError');
  });
});
