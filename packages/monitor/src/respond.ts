/**
 * How the monitor answers: pages (whole, or one live region of them), JSON, and errors. An error
 * the client caused (a bad argument, an unknown id) is answered with its message; anything else
 * with a generic 500, its details going to the logger only — never a stack to the client.
 */
import { CanvasError, CeleriacError } from '@celeriac/canvas';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { href, type MonitorContext, type MonitorEnv } from './context.js';
import { html, type Html } from './html.js';
import { page, type PageParts } from './views/shell.js';

/** The request header a page's script sends to fetch one live region instead of the whole page. */
export const FRAGMENT_HEADER = 'x-fragment';

/**
 * Answers with a page, or with one of its regions when the script asks for it (`X-Fragment`).
 *
 * @param c - the request
 * @param context - the monitor
 * @param parts - the page
 * @param fragments - the page's live regions by element id; each is part of `parts.body`
 * @returns the response
 */
export function renderPage(
  c: Context<MonitorEnv>,
  context: MonitorContext,
  parts: PageParts,
  fragments: Readonly<Record<string, Html>> = {},
): Response {
  const wanted = c.req.header(FRAGMENT_HEADER);
  c.header('Cache-Control', 'no-store');
  if (wanted !== undefined) {
    const fragment = Object.hasOwn(fragments, wanted) ? fragments[wanted] : undefined;
    if (fragment === undefined) return c.text('Unknown fragment', 404);
    return c.html(fragment.text);
  }
  return c.html(page(frameOf(c, context), parts).text);
}

/** The request-wide values a page needs. */
export function frameOf(c: Context<MonitorEnv>, context: MonitorContext): { prefix: string; csrf: string; readOnly: boolean; appName: string } {
  return { prefix: context.settings.prefix, csrf: c.get('csrf') ?? '', readOnly: context.settings.readOnly, appName: context.app.name };
}

/**
 * Runs calls at once and waits for all, like `Promise.all`, but each call starts inside its own
 * async function: one that throws at once (a closed app's getter) rejects the whole, rather than
 * leaving the calls started before it to reject unhandled.
 *
 * @param calls - the calls
 * @returns their results, in order
 */
export function together<const T extends readonly (() => unknown)[]>(...calls: T): Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  return Promise.all(calls.map(async (run) => run())) as Promise<{ -readonly [K in keyof T]: Awaited<ReturnType<T[K]>> }>;
}

/**
 * A client error with a status and a message the client may read.
 *
 * @param status - 400, 403, 404, …
 * @param message - what was wrong and what to do
 * @returns the exception to throw
 */
export function clientError(status: ContentfulStatusCode, message: string): HTTPException {
  return new HTTPException(status, { message });
}

/** The status a runtime error maps to, or null for an unexpected one (500). */
function statusOf(error: unknown): ContentfulStatusCode | null {
  if (error instanceof HTTPException) return error.status as ContentfulStatusCode;
  if (error instanceof CanvasError) return 400;
  if (error instanceof CeleriacError) {
    switch (error.code) {
      case 'RESULT_NOT_FOUND':
        return 404;
      case 'INVALID_ARGUMENT':
      case 'NOT_REGISTERED':
      case 'ENCODE':
        return 400;
      case 'TIMEOUT':
        return 503;
      default:
        return null;
    }
  }
  return null;
}

/**
 * Turns anything thrown by a route into a response: JSON for `/api/…`, a page otherwise.
 *
 * @param error - what was thrown
 * @param c - the request
 * @param context - the monitor
 * @returns the response
 */
export function errorResponse(error: unknown, c: Context<MonitorEnv>, context: MonitorContext): Response {
  const status = statusOf(error);
  let message: string;
  if (status === null) {
    context.settings.logger?.error(`monitor: ${c.req.method} ${new URL(c.req.url).pathname} failed`, error);
    message = 'Internal Server Error: the monitor logged the details.';
  } else if (error instanceof HTTPException) {
    const own = error.getResponse();
    // Responses made by middleware (such as a 401 with WWW-Authenticate) go out as they are.
    if (error.res !== undefined) return own;
    message = error.message;
  } else {
    message = (error as Error).message;
  }
  const code = status ?? 500;
  c.header('Cache-Control', 'no-store');
  const path = new URL(c.req.url).pathname;
  if (path.startsWith(href(context, '/api/')) || path === href(context, '/metrics') || c.req.header('accept')?.includes('application/json') === true) {
    return c.json({ error: message }, code);
  }
  const body = html`<div class="card"><h1>${code === 404 ? 'Not found' : code >= 500 ? 'Something went wrong' : 'Cannot do that'}</h1><p>${message}</p><p><a href="${href(context, '/')}">Back to the workers</a></p></div>`;
  let frame = { prefix: context.settings.prefix, csrf: '', readOnly: context.settings.readOnly, appName: context.app.name };
  try {
    frame = frameOf(c, context);
  } catch {
    // keep the defaults
  }
  return c.html(page(frame, { title: String(code), nav: 'workers', page: 'error', body }).text, code);
}
