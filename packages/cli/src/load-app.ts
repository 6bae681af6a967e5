/**
 * `-A, --app MODULE`: finds the module (a `.ts`, `.mts`, `.js` or `.mjs` file, a directory, or a
 * package; Celery's `module:attribute` form picks an export), imports it — TypeScript through
 * tsx, which the `celeriac` binary registers, so no build step — and takes its app: the export
 * `app`, else the default export. Then the modules the app's `include` option names.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importIncludes, type App } from '@celeriac/runtime';
import { CliError, firstLine } from './errors.js';

/** An app loaded from its module. */
export interface LoadedApp {
  readonly app: App;
  /** The module's URL (what the processes pool's children import). */
  readonly module: URL;
}

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const INDEXES = ['index', 'app', 'main'].flatMap((name) => EXTENSIONS.map((ext) => `${name}${ext}`));

/**
 * Finds the module `spec` names, from `cwd`.
 *
 * @throws CliError when nothing is there
 */
export function findAppModule(spec: string, cwd: string = process.cwd()): URL {
  const path = resolve(cwd, spec);
  const candidates = [path, ...EXTENSIONS.map((ext) => `${path}${ext}`)];
  for (const candidate of candidates) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return pathToFileURL(candidate);
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    for (const index of INDEXES) {
      const candidate = resolve(path, index);
      if (existsSync(candidate)) return pathToFileURL(candidate);
    }
  }
  if (!spec.startsWith('.') && !spec.startsWith('/')) {
    try {
      return pathToFileURL(createRequire(pathToFileURL(`${cwd}/`)).resolve(spec));
    } catch {
      // not a package either
    }
  }
  throw new CliError(
    `-A ${spec}: no such module (looked for ${spec} as a file, with ${EXTENSIONS.join('/')}, as a directory and as a package); ` +
      'pass the path of the file that creates the app, e.g. -A ./app.ts',
  );
}

/** Whether `value` is a Celeriac app (of any copy of the runtime). */
function isApp(value: unknown): value is App {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate['task'] === 'function' && typeof candidate['worker'] === 'function' && typeof candidate['configure'] === 'function';
}

/**
 * Imports the app module and its `include` modules.
 *
 * @param spec - what `-A` was given: a path, a package, optionally `:export`
 * @throws CliError when the module cannot be found or loaded, or exports no app
 */
export async function loadApp(spec: string): Promise<LoadedApp> {
  // Celery's `proj.app:app` names the attribute; a Windows drive letter (C:\…) is not one.
  const colon = spec.lastIndexOf(':');
  const named = colon > 1 && /^[A-Za-z_$][\w$]*$/.test(spec.slice(colon + 1)) ? spec.slice(colon + 1) : undefined;
  const moduleSpec = named === undefined ? spec : spec.slice(0, colon);
  const module = findAppModule(moduleSpec);
  let exports: Record<string, unknown>;
  try {
    exports = (await import(module.href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${firstLine(error.message)}` : String(error);
    throw new CliError(`-A ${spec}: the module failed to load (${reason}); fix it, then run the command again`, undefined, { cause: error });
  }
  const names = named === undefined ? ['app', 'default'] : [named];
  const found = names.map((name) => exports[name]).find(isApp);
  if (found === undefined) {
    const exported = Object.keys(exports);
    throw new CliError(
      `-A ${spec}: the module exports no Celeriac app ` +
        `(${named === undefined ? 'export it as `app` or as the default export' : `its export "${named}" is not one`}; ` +
        `its exports: ${exported.length === 0 ? 'none' : exported.join(', ')})`,
    );
  }
  try {
    await importIncludes(found, module);
  } catch (error) {
    throw new CliError(`-A ${spec}: ${error instanceof Error ? firstLine(error.message) : String(error)}`, undefined, { cause: error });
  }
  return { app: found, module };
}
