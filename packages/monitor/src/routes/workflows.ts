/**
 * Workflows: `GET /api/workflows` (from the store), `GET /api/workflow/:id` (the snapshot: nodes,
 * edges, groups), `GET /api/workflow/:id/events` (its state changes over SSE), and the pages
 * `/workflows` and `/workflow/:id` (the live graph).
 */
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { MonitorContext, MonitorEnv } from '../context.js';
import { html } from '../html.js';
import { clientError, renderPage, together } from '../respond.js';
import { segment, shorten } from '../views/format.js';
import { workflowsTable } from '../views/tasks.js';
import { workflowDetails, workflowSvg } from '../views/workflow.js';
import { runLiveStream } from './live-stream.js';

/** Milliseconds between `update` events for changes of tasks the graph does not draw. */
const UPDATE_EVERY_MS = 1_000;

function limitOf(c: Context<MonitorEnv>, fallback: number, max: number): number {
  const text = c.req.query('limit');
  if (text === undefined || text === '') return fallback;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw clientError(400, `limit must be a whole number from 1 to ${max}, got '${text}'`);
  return limit;
}

/**
 * The routes.
 *
 * @param context - the monitor
 * @returns a Hono app to mount at the monitor's root
 */
export function workflowRoutes(context: MonitorContext): Hono<MonitorEnv> {
  const routes = new Hono<MonitorEnv>();
  const { app } = context;

  routes.get('/api/workflows', async (c) => {
    const before = c.req.query('before');
    return c.json(await app.workflows({ limit: limitOf(c, 50, 1_000), before: before === '' ? undefined : before }));
  });

  routes.get('/api/workflow/:id', async (c) => c.json(await app.workflow(c.req.param('id'), { limit: limitOf(c, 1_000, 100_000) })));

  routes.get('/api/workflow/:id/events', async (c) => {
    const id = c.req.param('id');
    // Read first, so an unknown id is a 404 rather than an empty stream.
    const snapshot = await app.workflow(id);
    const drawing = await context.layouts.get(snapshot);
    const drawn = new Set(drawing.nodes.filter((node) => node.kind === 'task').map((node) => node.id));
    return streamSSE(c, (stream) =>
      runLiveStream(context, stream, `the events of workflow ${id}`, async ({ signal, end }) => {
        let lastUpdate = 0;
        let pending: ReturnType<typeof setTimeout> | undefined;
        const update = (): void => {
          if (pending !== undefined) return;
          const wait = Math.max(0, lastUpdate + UPDATE_EVERY_MS - Date.now());
          pending = setTimeout(() => {
            pending = undefined;
            lastUpdate = Date.now();
            void stream.writeSSE({ event: 'update', data: '{}' }).catch(end);
          }, wait);
        };
        try {
          for await (const change of app.watch(id, { signal })) {
            if (drawn.has(change.id) || change.id === id) await stream.writeSSE({ event: 'node', data: JSON.stringify(change) });
            else update();
          }
          if (!signal.aborted) await stream.writeSSE({ event: 'done', data: '{}' });
        } finally {
          clearTimeout(pending);
        }
      }),
    );
  });

  routes.get('/workflows', async (c) => {
    const before = c.req.query('before');
    const list = await app.workflows({ limit: 50, before: before === '' ? undefined : before });
    const older = list.next === null ? null : `${context.settings.prefix}/workflows?before=${encodeURIComponent(list.next)}`;
    const body = html`<h1>Workflows</h1><p class="subtitle">Read from the result store (whether or not workers send task events), newest first.</p>${workflowsTable(context.settings.prefix, list, older)}`;
    return renderPage(c, context, { title: 'Workflows', nav: 'workflows', page: 'workflows', body });
  });

  routes.get('/workflow/:id', async (c) => {
    const id = c.req.param('id');
    const [snapshot, workers] = await together(() => app.workflow(id), () => app.control.workers());
    const drawing = await context.layouts.get(snapshot);
    const prefix = context.settings.prefix;
    const details = workflowDetails({ prefix, snapshot, drawing, workers, tasks: context.tasks });
    const finished = ['SUCCESS', 'FAILURE', 'REVOKED'];
    const open = snapshot.nodes.some((node) => !finished.includes(node.state)) || snapshot.truncated;
    const body = html`<h1>Workflow <span class="mono">${shorten(snapshot.id, 60)}</span> <span class="live" id="live-status">connecting…</span></h1>
<p class="subtitle">${id === snapshot.id ? '' : html`Opened from <a class="mono" href="${prefix}/task/${segment(id)}">${shorten(id, 48)}</a>. `}First task <a class="mono" href="${prefix}/task/${segment(snapshot.rootId)}">${shorten(snapshot.rootId, 48)}</a>; result <a class="mono" href="${prefix}/task/${segment(snapshot.result)}">${shorten(snapshot.result, 48)}</a>. Click a task to open it.</p>
${
  context.settings.readOnly || !open
    ? ''
    : html`<div class="actions" style="margin-bottom:14px">
<form class="inline" data-api="/api/task/revoke/${segment(snapshot.id)}" data-confirm="Revoke every unfinished task of this workflow?" data-after="refresh:details"><button class="danger" id="revoke-workflow">Revoke workflow</button></form>
<form class="inline" data-api="/api/task/revoke/${segment(snapshot.id)}" data-confirm="Revoke every unfinished task of this workflow, and abort those running?" data-after="refresh:details"><input type="hidden" name="terminate" value="true"><button class="danger">Revoke and terminate</button></form></div>`
}
<div class="card"><div class="graph-wrap">${workflowSvg(prefix, snapshot, drawing, context.tasks)}</div>
<div class="legend">${['PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'].map((state) => html`<span><span class="badge state-${state}">${state}</span></span>`)}<span>solid edge: passes its result · dashed: runs after · red: on failure</span></div></div>
<div id="details">${details}</div>`;
    return renderPage(c, context, { title: `Workflow ${shorten(snapshot.id, 12)}`, nav: 'workflows', page: 'workflow', body, data: { workflow: id } }, { details });
  });

  return routes;
}
