/**
 * No import cycles in any package's sources, type-only imports included: the lint rule
 * (import-x/no-cycle) ignores `import type`, but a type that two modules import from each other
 * is a shared contract without a home of its own, which is what this test refuses.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../packages/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) && !/\.test(-d)?\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** Relative imports of a file, resolved to source paths (`./x.js` → `./x.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/g)].map((m) => m[1]!);
  return specifiers.map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
}

/** Every cycle's files, found by depth-first search over the import graph. */
function cycles(files: readonly string[]): string[][] {
  const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => files.includes(target))]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push(stack.slice(stack.indexOf(next)));
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (state.get(file) === undefined) visit(file);
  return found;
}

describe('import graph', () => {
  for (const pkg of readdirSync(packages)) {
    it(`has no import cycle in packages/${pkg}/src, type-only imports included`, () => {
      const files = sources(join(packages, pkg, 'src'));
      expect(files.length).toBeGreaterThan(0);
      expect(cycles(files).map((cycle) => cycle.map((file) => file.slice(packages.length)).join(' → '))).toEqual([]);
    });
  }

  it('finds a cycle made of a type-only import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
      writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.js';\nexport const b = 1;\nexport type B = A;\n");
      writeFileSync(join(dir, 'c.ts'), "import { a } from './a.js';\nexport const c = a;\n");
      expect(cycles(sources(dir)).map((cycle) => cycle.map((file) => file.slice(dir.length + 1)))).toEqual([['a.ts', 'b.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
