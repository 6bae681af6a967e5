/**
 * The app's `include` option (Celery's `include`): modules imported for the tasks they register,
 * after the app module itself — by the `celeriac` CLI's `-A` and by the processes pool's children.
 */
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError } from './errors.js';

/**
 * Where an `include` entry points: a URL as it is; a path (`./tasks.ts`, `/srv/tasks.js`) from the
 * app module's directory; a package name as the app module would import it.
 *
 * @param entry - one entry of `AppOptions.include`
 * @param appModule - the app module's file URL
 * @returns the module's URL (or, for a package no `require` resolution finds, its name)
 */
export function resolveInclude(entry: string | URL, appModule: URL): string {
  if (entry instanceof URL) return entry.href;
  if (/^[a-z][a-z0-9+.-]+:/i.test(entry) && !/^[a-z]:[\\/]/i.test(entry)) return entry; // file:, data:, node:…
  const base = appModule.protocol === 'file:' ? dirname(fileURLToPath(appModule)) : process.cwd();
  if (entry.startsWith('.') || isAbsolute(entry)) return pathToFileURL(resolve(base, entry)).href;
  try {
    return pathToFileURL(createRequire(pathToFileURL(`${base}/`)).resolve(entry)).href;
  } catch {
    return entry; // an ESM-only package: import() finds it from here, or says it cannot
  }
}

/**
 * Imports the modules an app's `include` option names, in order, for the tasks they register.
 *
 * @param app - the app (any object with an `include` list, such as an `App`)
 * @param appModule - the app module's path (from the current directory) or URL
 * @throws InvalidArgumentError naming the module that failed to load, with its error as `cause`
 *
 * @example
 * ```ts
 * await importIncludes(app, new URL('./app.ts', import.meta.url));
 * ```
 */
export async function importIncludes(app: { readonly include?: readonly (string | URL)[] }, appModule: string | URL): Promise<void> {
  const base = appModule instanceof URL ? appModule : /^file:/.test(appModule) ? new URL(appModule) : pathToFileURL(resolve(appModule));
  for (const entry of app.include ?? []) {
    const href = resolveInclude(entry, base);
    try {
      await import(href);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new InvalidArgumentError('include', `cannot import "${String(entry)}" named by the app's include option: ${reason}`);
    }
  }
}
