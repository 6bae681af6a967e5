/**
 * The broker: Flower's `GET /api/queues/length`, Celeriac's `POST /api/queues/purge?queue=…`, and
 * the `/broker` page (counts by state, live; consumers; a confirmed purge).
 */
import type { QueueCounts, WorkerStatus } from '@celeriac/runtime';
import { Hono } from 'hono';
import type { MonitorContext, MonitorEnv } from '../context.js';
import { html, type Html } from '../html.js';
import { clientError, renderPage, together } from '../respond.js';
import { count } from '../views/format.js';

function brokerRegion(prefix: string, readOnly: boolean, queues: readonly QueueCounts[], workers: readonly WorkerStatus[]): Html {
  const consumers = (queue: string): WorkerStatus[] => workers.filter((worker) => worker.online && worker.queues.includes(queue));
  return html`<div class="card flush"><table>
<thead><tr><th>Queue</th><th class="num">Waiting</th><th class="num">Prioritized</th><th class="num">Delayed</th><th class="num">Active</th><th class="num">Failed</th><th class="num">Completed</th><th>Consumers</th>${readOnly ? '' : html`<th></th>`}</tr></thead>
<tbody>
${queues.map((queue) => {
  const who = consumers(queue.name);
  const pending = queue.waiting + queue.prioritized + queue.delayed;
  return html`<tr data-queue="${queue.name}"><td><b>${queue.name}</b></td>
<td class="num" data-count="waiting">${count(queue.waiting)}</td><td class="num">${count(queue.prioritized)}</td><td class="num">${count(queue.delayed)}</td>
<td class="num">${count(queue.active)}</td><td class="num">${count(queue.failed)}</td><td class="num">${count(queue.completed)}</td>
<td>${who.length === 0 ? html`<span class="${pending > 0 ? 'badge state-FAILURE' : 'muted'}">no consumer</span>` : who.map((worker) => html`<a class="pill" href="${prefix}/worker/${encodeURIComponent(worker.name)}">${worker.name}</a>`)}</td>
${readOnly ? '' : html`<td><form class="inline" data-api="/api/queues/purge" data-confirm="Purge queue ${queue.name}? Its ${pending} tasks that have not started are removed and revoked; running tasks are left alone." data-after="refresh:broker-live"><input type="hidden" name="queue" value="${queue.name}"><button class="tiny danger"${pending === 0 ? html` disabled` : ''}>Purge</button></form></td>`}
</tr>`;
})}
${queues.length === 0 ? html`<tr><td colspan="9" class="muted">No queue has received a job under this app's prefix.</td></tr>` : ''}
</tbody></table></div>`;
}

/**
 * The routes.
 *
 * @param context - the monitor
 * @returns a Hono app to mount at the monitor's root
 */
export function brokerRoutes(context: MonitorContext): Hono<MonitorEnv> {
  const routes = new Hono<MonitorEnv>();
  const { app } = context;

  routes.get('/api/queues/length', async (c) => {
    const queues = await app.queues();
    // Flower's `messages` is what waits in the broker: ready (waiting, prioritized) and delayed jobs.
    return c.json({ active_queues: queues.map((queue) => ({ ...queue, messages: queue.waiting + queue.prioritized + queue.delayed })) });
  });

  routes.post('/api/queues/purge', async (c) => {
    const queues = c.req.queries('queue') ?? [];
    if (queues.length === 0 || queues.some((queue) => queue === '')) throw clientError(400, "Name the queues to purge: ?queue=name (repeat it for several)");
    const known = new Set((await app.queues()).map((queue) => queue.name));
    const unknown = queues.filter((queue) => !known.has(queue));
    if (unknown.length > 0) throw clientError(404, `Unknown queue '${unknown[0]}'`);
    const purged = await app.purge(queues);
    return c.json({ message: `Purged ${purged} task${purged === 1 ? '' : 's'} from ${queues.join(', ')}`, purged });
  });

  routes.get('/broker', async (c) => {
    const [queues, workers] = await together(() => app.queues(), () => app.control.workers());
    const region = brokerRegion(context.settings.prefix, context.settings.readOnly, queues, workers);
    const body = html`<h1>Broker <span class="live" id="live-status">live</span></h1>
<p class="subtitle">The app's queues in Redis, by job state; updated every two seconds.</p>
<div id="broker-live" data-live="2000">${region}</div>`;
    return renderPage(c, context, { title: 'Broker', nav: 'broker', page: 'broker', body }, { 'broker-live': region });
  });

  return routes;
}
