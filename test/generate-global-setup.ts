/**
 * Vitest global setup for every project: regenerates the code that packages generate from other
 * files (the runtime's embedded Lua scripts, packages/runtime/scripts/embed-lua.ts; the monitor's page
 * assets, packages/monitor/scripts/embed-assets.ts), so no test
 * ever runs against a stale generated module. It writes only when the text changes.
 */
import { embedAssets } from '../packages/monitor/scripts/embed-assets.js';
import { embedLua } from '../packages/runtime/scripts/embed-lua.js';

export default function setup(): void {
  embedLua();
  embedAssets();
}
