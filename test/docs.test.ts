/**
 * The TypeScript in the Markdown docs compiles under the repository's strict settings, and its
 * `// error` lines fail as they say (test/doc-snippets.ts; docs/packaging.md, "Code in the docs").
 * test/docs.int.test.ts runs the blocks marked `run`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allSnippets, extractSnippets, repoRoot, typeCheckSnippets } from './doc-snippets.js';

describe('code in the docs', { timeout: 30_000 }, () => {
  it("starts the README with a whole program that the tests run (a ```ts run block)", () => {
    const [first] = extractSnippets(readFileSync(join(repoRoot, 'README.md'), 'utf8'), 'README.md');
    expect(first?.mode).toBe('run');
  });

  it('type-checks every ts block of every Markdown file', () => {
    const snippets = allSnippets();
    expect(snippets.filter((s) => s.mode !== 'nocheck').length).toBeGreaterThan(0);
    expect(typeCheckSnippets(snippets).map((p) => p.message)).toEqual([]);
  });
});
