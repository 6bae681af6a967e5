/**
 * The benchmark's children run as users run the two systems: plain Node, each package as npm
 * ships it. BullMQ comes compiled in node_modules; Celeriac's packages are imported from their
 * `dist/` (built by `npm run build`, which `npm run bench` runs first).
 *
 * The children used to run under tsx, Celeriac from its TypeScript source. tsx compiles with
 * esbuild's `keepNames`, which wraps every function expression in a `__name(fn, "…")` call, an
 * `Object.defineProperty` each time a closure is made — a cost only Celeriac paid (tsx leaves
 * node_modules alone) and that no user pays.
 *
 * So the children's own files (bench/lib) are compiled here, file by file, to `bench/.build/`:
 * not bundled, so a child imports only the system it runs (its memory is that system's own), and
 * inside the repository, so their bare imports resolve to its node_modules.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const LIB = fileURLToPath(new URL('./', import.meta.url));
const OUT = fileURLToPath(new URL('../.build/lib/', import.meta.url));
const PACKAGES = fileURLToPath(new URL('../../packages/', import.meta.url));

/** Compiles bench/lib to JavaScript; returns the path of the compiled child entry point. */
export async function compileChildren(): Promise<string> {
  const missing = ['canvas', 'runtime'].filter((name) => !existsSync(`${PACKAGES}${name}/dist/index.js`));
  if (missing.length > 0) {
    throw new Error(`@celeriac/${missing.join(', @celeriac/')} has no dist/: run \`npm run build\` first (\`npm run bench\` does)`);
  }
  rmSync(OUT, { recursive: true, force: true });
  await build({
    entryPoints: readdirSync(LIB)
      .filter((file) => file.endsWith('.ts'))
      .map((file) => `${LIB}${file}`),
    outdir: OUT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    bundle: false,
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return `${OUT}child.js`;
}
