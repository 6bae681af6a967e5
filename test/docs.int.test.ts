/**
 * Runs every ```ts run block of the Markdown docs against the test Redis: each must exit by itself,
 * without error output, and print what its `console.log(…)  // value` comments say.
 */
import { describe, expect, inject, it } from 'vitest';
import { allSnippets, expectedOutput, runSnippet } from './doc-snippets.js';

const programs = allSnippets().filter((s) => s.mode === 'run');

describe('programs in the docs', { timeout: 90_000 }, () => {
  it('exist (the README starts with one)', () => {
    expect(programs.some((s) => s.file === 'README.md')).toBe(true);
  });

  it.each(programs.map((s) => [`${s.file}:${s.line}`, s] as const))('%s runs, prints what it says and exits', async (_, snippet) => {
    const { code, stdout, stderr, timedOut } = await runSnippet(snippet, inject('redisUrl'));
    expect(timedOut, 'did not exit within 60 s: does it close what it opens?').toBe(false);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const expected = expectedOutput(snippet.code);
    if (expected.length > 0) expect(stdout.trimEnd().split('\n')).toEqual(expected);
  });
});
