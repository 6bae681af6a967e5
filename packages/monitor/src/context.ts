/**
 * What every route shares: the app, the settings, the task table and its feed, the layout cache,
 * and the Hono environment (the page's CSRF token is set by the session middleware).
 */
import type { App } from '@celeriac/runtime';
import type { EventFeed } from './event-feed.js';
import type { LayoutCache } from './graph-layout.js';
import type { MonitorSettings } from './options.js';
import type { TaskTable } from './task-table.js';

/** The monitor's shared state. */
export interface MonitorContext {
  readonly app: App;
  readonly settings: MonitorSettings;
  readonly tasks: TaskTable;
  readonly feed: EventFeed;
  readonly layouts: LayoutCache;
  /** Aborts when the monitor closes: live streams end. */
  readonly closing: AbortSignal;
}

/** Hono's environment for the monitor's routes. */
export interface MonitorEnv {
  Variables: {
    /** The CSRF token of the page's session, for pages to embed. */
    csrf: string;
  };
}

/**
 * A path under the monitor's URL prefix.
 *
 * @param context - the monitor
 * @param path - a path starting with `/`
 * @returns the path with the prefix
 */
export function href(context: Pick<MonitorContext, 'settings'>, path: string): string {
  return `${context.settings.prefix}${path}`;
}
