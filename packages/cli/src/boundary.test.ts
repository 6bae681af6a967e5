/**
 * Pins the CLI's boundaries (DESIGN §7) by reading its files, so they hold even where ESLint is not
 * run: it reaches Redis only through the public APIs of @celeriac/runtime and @celeriac/monitor (no
 * ioredis, no BullMQ, no internals), and building the command line (`--help`, `--version`) loads
 * none of the commands: program.ts imports their modules' types only, and the modules when they run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(name))
  .sort();

/** Module specifiers a file imports at load time (`import type` left out), and those it imports dynamically. */
function importsOf(file: string): { readonly eager: string[]; readonly lazy: string[] } {
  const code = readFileSync(join(srcDir, file), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
    .join('\n');
  return {
    eager: [...code.matchAll(/^import\s+(?!type\s)(?:[^'"]*?\bfrom\s+)?['"]([^'"]+)['"]/gm)].map((match) => match[1]!),
    lazy: [...code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]/g)].map((match) => match[1]!),
  };
}

describe('cli boundaries', () => {
  it('finds the sources it checks', () => {
    expect(files).toEqual(expect.arrayContaining(['program.ts', 'run.ts', 'commands/worker.ts']));
  });

  it('never imports a Redis client, BullMQ or package internals', () => {
    const offending = files.flatMap((file) => {
      const { eager, lazy } = importsOf(file);
      return [...eager, ...lazy].filter((spec) => /^(ioredis|bullmq)(\/|$)|^@celeriac\/\w+\/|(\.\.\/)+(runtime|canvas|monitor)\//.test(spec)).map((spec) => `${file}: ${spec}`);
    });
    expect(offending).toEqual([]);
  });

  it('builds the command line without loading the commands or the runtime', () => {
    const loaded = new Set<string>();
    const visit = (file: string): void => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const spec of importsOf(file).eager) {
        if (spec.startsWith('.')) visit(join(file, '..', spec).replace(/\.js$/, '.ts'));
      }
    };
    visit('run.ts');
    expect([...loaded].filter((file) => file.startsWith('commands/') || file === 'session.ts')).toEqual([]);
    const packages = [...loaded].flatMap((file) => importsOf(file).eager.filter((spec) => !spec.startsWith('.')));
    expect(packages.filter((spec) => /^@celeriac\/(runtime|monitor)$/.test(spec))).toEqual([]);
    expect(importsOf('program.ts').lazy.filter((spec) => spec.startsWith('./commands/'))).toHaveLength(10);
  });
});
