/**
 * `GET /metrics` (Prometheus) and `GET /static/:file` (the page's stylesheet, script and icon,
 * from the package itself). `GET /healthcheck` is wired in monitor.ts, ahead of authentication.
 */
import { Hono } from 'hono';
import { ASSETS } from '../assets.generated.js';
import type { MonitorContext, MonitorEnv } from '../context.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../metrics.js';
import { clientError, together } from '../respond.js';

/**
 * The routes.
 *
 * @param context - the monitor
 * @returns a Hono app to mount at the monitor's root
 */
export function systemRoutes(context: MonitorContext): Hono<MonitorEnv> {
  const routes = new Hono<MonitorEnv>();

  routes.get('/metrics', async (c) => {
    await context.feed.start();
    const [queues, workers] = await together(() => context.app.queues(), () => context.app.control.workers());
    c.header('Content-Type', METRICS_CONTENT_TYPE);
    c.header('Cache-Control', 'no-store');
    return c.body(renderMetrics({ tasks: context.tasks, queues, workers }));
  });

  routes.get('/static/:file', (c) => {
    const file = c.req.param('file');
    const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (asset === undefined) throw clientError(404, `No static file '${file}'`);
    c.header('Content-Type', asset.type);
    // Their URLs carry a hash of their contents (ASSET_VERSION), so a copy never goes stale.
    c.header('Cache-Control', c.req.query('v') === undefined ? 'no-cache' : 'public, max-age=31536000, immutable');
    return c.body(asset.body);
  });

  return routes;
}
