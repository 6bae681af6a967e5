/**
 * @module @celeriac/cli
 *
 * The `celeriac` command: Celery's `worker`, `inspect`, `control`, `status`, `call`, `result`,
 * `events`, `graph`, `purge` and `monitor` for Celeriac apps. Install it and run `npx celeriac
 * --help`; this module also lets a program run the command line itself (importing it has no side
 * effects).
 *
 * @example
 * ```ts
 * import { run } from '@celeriac/cli';
 *
 * const code = await run(['--version']); // prints the version
 * console.log(code); // 0
 * ```
 */
export { run } from './run.js';
export type { RunIo } from './run.js';
export { CliError, UsageError, EXIT } from './errors.js';
export { VERSION } from './version.js';
