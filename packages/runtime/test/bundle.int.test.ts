/**
 * A user's app, bundled with esbuild into a single file, runs anywhere: the Lua scripts travel
 * inside the JavaScript (src/lua-scripts.generated.ts), so nothing is read from the package's
 * directory at run time. The bundle runs from a temporary directory outside the repository, where
 * no node_modules and no `.lua` file can rescue it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { redisUrl, testApp } from './helpers.js';

const app = fileURLToPath(new URL('./fixtures/bundle-app.ts', import.meta.url));

/**
 * ioredis and BullMQ are CommonJS and require() Node's built-ins, so an ESM bundle needs a
 * `require`. The import is renamed because esbuild hoists the bundled modules' own imports of
 * `createRequire` to the same top-level scope.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);";
const outDir = mkdtempSync(join(tmpdir(), 'celeriac-bundle-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function run(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { cwd: outDir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('an esbuild bundle of an app', () => {
  it('is one file that applies a chain against Redis and gets its result', async () => {
    const outfile = join(outDir, 'app.mjs');
    const result = await build({
      entryPoints: [app],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // The workspace packages' sources, as in the tests; scripts/check-packages.ts bundles the
      // published tarballs' dist/ the same way.
      conditions: ['@celeriac/source'],
      banner: { js: ESM_REQUIRE_BANNER },
      metafile: true,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.endsWith('packages/runtime/src/lua-scripts.generated.ts'))).toBe(true);
    expect(readdirSync(outDir)).toEqual(['app.mjs']);

    const prefix = `test-${randomUUID()}`;
    const reader = testApp({ prefix }); // also deletes the prefix's keys after the test
    const { code, stdout, stderr } = await run(outfile, [redisUrl(), prefix]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { id, value } = JSON.parse(stdout) as { id: string; value: unknown };
    expect(value).toBe(16);

    const res = await reader.result(id);
    expect([await res.get(), await res.parent?.get(), await res.parent?.parent?.get()]).toEqual([16, 8, 4]);
  });
});
