/**
 * The `celeriac` program (bin/celeriac.js imports it): runs the command line and exits with its
 * code — the one place that calls `process.exit`, so a connection left retrying cannot keep it alive.
 */
import { run } from './run.js';

const code = await run(process.argv.slice(2));
process.exit(code);
