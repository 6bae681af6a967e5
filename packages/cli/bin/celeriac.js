#!/usr/bin/env node
// The `celeriac` command. It loads TypeScript through tsx (an app given with -A may be a .ts file,
// and so may the modules its `include` option names), then runs the CLI: from its TypeScript
// sources in a checkout of the Celeriac repository (no build step there; `@celeriac/*` packages
// resolve to their sources through the `@celeriac/source` export condition), from `dist/` once
// installed from npm.
import { existsSync, realpathSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { fileURLToPath, URL } from 'node:url';
import { register as registerTsx } from 'tsx/esm/api';

const here = realpathSync(fileURLToPath(import.meta.url));
const sources = new URL('../src/main.ts', import.meta.url);
const fromSource = !here.split(/[\\/]/).includes('node_modules') && existsSync(fileURLToPath(sources));

if (fromSource) {
  const addSourceCondition = [
    'export async function resolve(specifier, context, next) {',
    "  const conditions = context.conditions.includes('@celeriac/source') ? context.conditions : [...context.conditions, '@celeriac/source'];",
    '  return next(specifier, { ...context, conditions });',
    '}',
  ].join('\n');
  registerHooks(`data:text/javascript,${encodeURIComponent(addSourceCondition)}`, import.meta.url);
}
registerTsx();
await import(fromSource ? sources.href : new URL('../dist/main.js', import.meta.url).href);
