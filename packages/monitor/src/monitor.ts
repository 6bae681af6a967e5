/**
 * `createMonitor(app, options)`: the monitor as a fetch-style handler, `(request) => response`,
 * with no Node import — it mounts in any server that speaks `Request`/`Response` (Node through
 * `startMonitor` or `@hono/node-server`, Bun, Deno, an existing Hono app). Routing and
 * Server-Sent Events are Hono's; everything the monitor shows or does goes through the app's
 * public API (`app.control`, `app.events`, `app.workflow`, `app.watch`, `app.revoke`, …), never
 * to Redis directly.
 *
 * The middleware, in order: security headers (a strict Content-Security-Policy: no inline script),
 * `/healthcheck` (no auth, for load balancers), basic auth, the page session and the refusal of
 * cross-site and read-only posts (see security.ts), then the routes by resource.
 */
import type { App } from '@celeriac/runtime';
import { Hono, type Context, type Next } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import type { MonitorContext, MonitorEnv } from './context.js';
import { EventFeed } from './event-feed.js';
import { LayoutCache } from './graph-layout.js';
import { parseMonitorOptions, type MonitorOptions } from './options.js';
import { clientError, errorResponse } from './respond.js';
import { brokerRoutes } from './routes/broker.js';
import { eventRoutes } from './routes/events.js';
import { systemRoutes } from './routes/system.js';
import { taskRoutes } from './routes/tasks.js';
import { workerRoutes } from './routes/workers.js';
import { workflowRoutes } from './routes/workflows.js';
import { BasicAuth, CSRF_HEADER, CsrfTokens, crossSiteReason, SESSION_COOKIE } from './security.js';
import { TaskTable } from './task-table.js';

/**
 * The monitor: call it with a request to get the response. Mount it in a server, or start it with
 * `startMonitor`.
 */
export interface MonitorHandler {
  (request: Request): Promise<Response>;
  /** The path it serves under (`""` for the root), from `urlPrefix`. */
  readonly urlPrefix: string;
  /**
   * Stops following task events and ends open event streams. The app stays open (it is the
   * caller's); requests made after this still get answers, without live updates.
   */
  close(): Promise<void>;
}

/** Paths that change something: POST only (anything else gets 405). */
const ACTION_PATHS = [
  '/api/task/async-apply/:name',
  '/api/task/revoke/:id',
  '/api/task/retry/:id',
  '/api/task/rate-limit/:name',
  '/api/worker/shutdown/:name',
  '/api/worker/queue/add-consumer/:name',
  '/api/worker/queue/cancel-consumer/:name',
  '/api/worker/pool/grow/:name',
  '/api/worker/pool/shrink/:name',
  '/api/queues/purge',
] as const;

const SESSION_ID = /^[A-Za-z0-9_-]{24}$/;

/**
 * Creates the monitor for an app.
 *
 * @param app - the app to watch and act on (its Redis and prefix); it stays the caller's to close
 * @param options - URL prefix, users, read-only mode, limits
 * @returns the request handler
 * @throws MonitorOptionError for a bad option
 *
 * @example
 * ```ts
 * import { serve } from '@hono/node-server';
 * import { createMonitor } from '@celeriac/monitor';
 *
 * const monitor = createMonitor(app, { urlPrefix: '/flower', basicAuth: 'admin:s3cret' });
 * const server = serve({ fetch: monitor, port: 5555, hostname: '127.0.0.1' });
 * ```
 */
export function createMonitor(app: App, options: MonitorOptions = {}): MonitorHandler {
  const settings = parseMonitorOptions(options);
  const closing = new AbortController();
  const tasks = new TaskTable(settings.maxTasks);
  // The app's events reader is taken on first use: the app connects to Redis only then.
  const feed = new EventFeed(() => app.events, tasks, settings.logger);
  const context: MonitorContext = { app, settings, tasks, feed, layouts: new LayoutCache(), closing: closing.signal };
  const auth = settings.users.length > 0 ? new BasicAuth(settings.users) : null;
  const tokens = new CsrfTokens();
  const cookiePath = settings.prefix === '' ? '/' : settings.prefix;

  // Not strict: `/flower` and `/flower/` are the same page, as are `/tasks` and `/tasks/`.
  const root = new Hono<MonitorEnv>({ strict: false });
  const hono = settings.prefix === '' ? root : root.basePath(settings.prefix);
  root.onError((error, c) => errorResponse(error, c, context));
  root.notFound((c) => errorResponse(clientError(404, `No page at ${new URL(c.req.url).pathname}`), c, context));

  hono.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        // Progress bars set their width inline; no script runs from an attribute.
        styleSrcAttr: ["'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: 'same-origin',
      // Whether the monitor is behind HTTPS is the deployment's business.
      strictTransportSecurity: false,
      crossOriginEmbedderPolicy: false,
    }),
  );
  hono.get('/healthcheck', (c) => c.text('OK'));

  hono.use('*', async (c: Context<MonitorEnv>, next: Next) => {
    if (!closing.signal.aborted) void feed.start();
    if (auth !== null && (await auth.check(c.req.header('authorization') ?? null)) === null) {
      c.header('WWW-Authenticate', 'Basic realm="Celeriac monitor", charset="UTF-8"');
      c.header('Cache-Control', 'no-store');
      return c.json({ error: 'Unauthorized: this monitor needs a user name and password (basic auth)' }, 401);
    }
    const session = getCookie(c, SESSION_COOKIE);
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') {
      let id = session !== undefined && SESSION_ID.test(session) ? session : undefined;
      if (id === undefined && !isApiPath(c, settings.prefix)) {
        id = tokens.newSession();
        setCookie(c, SESSION_COOKIE, id, { path: cookiePath, httpOnly: true, sameSite: 'Strict', secure: new URL(c.req.url).protocol === 'https:' });
      }
      c.set('csrf', id === undefined ? '' : await tokens.tokenFor(id));
      return next();
    }
    const crossSite = crossSiteReason(c.req.raw);
    if (crossSite !== null) return c.json({ error: `Cross-site request refused: ${crossSite}` }, 403);
    if (session !== undefined && !(await tokens.verify(session, c.req.header(CSRF_HEADER) ?? null))) {
      return c.json({ error: 'Refused: this request comes from a page session without its CSRF token; reload the page and try again' }, 403);
    }
    if (settings.readOnly) return c.json({ error: 'The monitor is read-only: it takes no action' }, 403);
    return next();
  });

  hono.route('/', workerRoutes(context));
  hono.route('/', taskRoutes(context));
  hono.route('/', workflowRoutes(context));
  hono.route('/', brokerRoutes(context));
  hono.route('/', eventRoutes(context));
  hono.route('/', systemRoutes(context));
  hono.on(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'], [...ACTION_PATHS], (c) => {
    c.header('Allow', 'POST');
    return c.json({ error: `${c.req.method} is not allowed here: this route changes state and takes POST only` }, 405);
  });

  const handler = async (request: Request): Promise<Response> => root.fetch(request);
  return Object.assign(handler, {
    urlPrefix: settings.prefix,
    async close(): Promise<void> {
      closing.abort();
      await feed.close();
    },
  });
}

function isApiPath(c: Context<MonitorEnv>, prefix: string): boolean {
  const path = new URL(c.req.url).pathname.slice(prefix.length);
  return path.startsWith('/api/') || path === '/metrics' || path.startsWith('/static/');
}
