/**
 * How a pool child is started: which program it runs and with which Node flags, so that it can
 * load the app module — TypeScript included — without a build step.
 *
 * A child inherits the worker's Node flags (as `child_process.fork` does by default), so a loader
 * the worker runs under (`node --import tsx`, the `tsx` command) is the children's too. When the
 * children need TypeScript and the worker has no TypeScript loader (it runs compiled JavaScript,
 * or under a test runner that transforms files itself), tsx's loader is added: tsx is what this
 * repository and the `celeriac` CLI load TypeScript with. When the runtime itself runs from its
 * sources (its `.ts` files), children resolve `@celeriac/*` packages through the
 * `@celeriac/source` export condition, as the worker did.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../errors.js';

/** The program a child runs: `child.ts` beside this file when the runtime runs from its sources, `child.js` once built. */
export function childEntry(self: string = import.meta.url): URL {
  return new URL(`./child${/\.[cm]?ts$/.test(new URL(self).pathname) ? '.ts' : '.js'}`, self);
}

const TYPESCRIPT = /\.[cm]?tsx?$/;
/** Node flags or their values that already give a process TypeScript. */
const TS_LOADER = /(^|[=/\\])tsx([/\\.]|$)|ts-node|^--experimental-(strip|transform)-types$/;
const SOURCE_CONDITION = '@celeriac/source';

/**
 * The Node flags a child starts with: the worker's own, less the debugger's (children would all
 * claim its port), plus a TypeScript loader and the source condition where needed (see the module
 * comment). Throws `InvalidArgumentError` when TypeScript is needed and tsx cannot be found.
 */
export function childExecArgv(appModule: URL, entry: URL, parent: readonly string[] = process.execArgv): string[] {
  const argv: string[] = [];
  for (let i = 0; i < parent.length; i++) {
    const arg = parent[i]!;
    if (/^--(inspect|debug)/.test(arg)) {
      if (arg === '--inspect-port' || arg === '--debug-port') i++; // its value follows
      continue;
    }
    argv.push(arg);
  }
  const fromSource = TYPESCRIPT.test(entry.pathname);
  if ((fromSource || TYPESCRIPT.test(appModule.pathname)) && !argv.some((arg) => TS_LOADER.test(arg))) {
    argv.push('--import', tsxLoader(appModule, fromSource));
  }
  if (fromSource && !argv.some((arg) => arg === SOURCE_CONDITION || arg.endsWith(`=${SOURCE_CONDITION}`))) {
    argv.push(`--conditions=${SOURCE_CONDITION}`);
  }
  return argv;
}

/** tsx's loader, found from the app module (the user's project) first, then from this package. */
function tsxLoader(appModule: URL, fromSource: boolean): string {
  for (const from of [appModule, new URL(import.meta.url)]) {
    try {
      return pathToFileURL(createRequire(from).resolve('tsx')).href;
    } catch {
      // not installed there
    }
  }
  throw new InvalidArgumentError(
    'appModule',
    fromSource
      ? 'pool children run the runtime from its TypeScript sources and need tsx to load them; install it (npm install --save-dev tsx)'
      : `${appModule.pathname} is TypeScript: pool children load it with tsx, which is not installed. ` +
          'Install it (npm install --save-dev tsx), or point appModule at the compiled .js file',
  );
}
