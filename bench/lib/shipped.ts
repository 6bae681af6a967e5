/**
 * The harnesses that time Celeriac in their own process (`bench:burst`, `bench:hop`,
 * `bench:floor`) must load it as npm ships it, each package's `dist/`, as the benchmark's children
 * do (see compiled.ts for why). Their npm scripts run tsx with bench/tsconfig.dist.json, which has
 * no `paths`; this checks that it did.
 */
/**
 * Throws unless `@celeriac/runtime` and `@celeriac/canvas` resolve to their `dist/` in this
 * process: a harness that times Celeriac in its own process must run it as npm ships it. Under
 * tsx with the repository's tsconfig, whose `paths` lead to the TypeScript sources, they would not.
 */
export function requireShippedPackages(script: string): void {
  const sources = ['@celeriac/canvas', '@celeriac/runtime'].filter((name) => !import.meta.resolve(name).includes('/dist/'));
  if (sources.length > 0) {
    throw new Error(`${sources.join(' and ')} resolved to TypeScript sources, not dist/: run \`npm run ${script}\` (it builds, and loads them through bench/tsconfig.dist.json)`);
  }
}
