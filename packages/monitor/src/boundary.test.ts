/**
 * Pins the monitor's boundaries (DESIGN §7) by reading its files, so they hold even where ESLint is
 * not run: it talks to Redis only through @celeriac/runtime's public API (no ioredis, no BullMQ, no
 * runtime internals), and only server.ts imports Node built-ins — the handler mounts anywhere.
 * Test files may use node:fs; that is why this one may.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = fileURLToPath(new URL('.', import.meta.url));
const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(name))
  .sort();

/** Module specifiers a file imports (static and dynamic), from code lines only. */
function importsOf(file: string): string[] {
  const code = readFileSync(join(srcDir, file), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*(\*|\/\/|\/\*)/.test(line))
    .join('\n');
  return [...code.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)].map((match) => match[1]!);
}

describe('monitor boundaries', () => {
  it('finds the sources it checks', () => {
    expect(files).toEqual(expect.arrayContaining(['monitor.ts', 'server.ts', 'routes/tasks.ts']));
  });

  it('never imports a Redis client, BullMQ or runtime internals', () => {
    const offending = files.flatMap((file) => importsOf(file).filter((spec) => /^(ioredis|bullmq)(\/|$)|^@celeriac\/\w+\/|(\.\.\/)+(runtime|canvas|cli)\//.test(spec)).map((spec) => `${file}: ${spec}`));
    expect(offending).toEqual([]);
  });

  it('imports Node built-ins only in server.ts', () => {
    const offending = files
      .filter((file) => file !== 'server.ts')
      .flatMap((file) => importsOf(file).filter((spec) => spec.startsWith('node:') || ['http', 'https', 'net', 'fs', 'os', 'crypto', 'path', 'stream'].includes(spec)).map((spec) => `${file}: ${spec}`));
    expect(offending).toEqual([]);
    expect(importsOf('server.ts')).toEqual(expect.arrayContaining(['node:http', '@hono/node-server']));
  });
});
