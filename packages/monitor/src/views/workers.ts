/**
 * The workers page and one worker's page: presence (online from heartbeats), counters, queues,
 * and the actions (shut down, add or cancel a queue consumer, grow or shrink the pool, set a
 * task's rate limit).
 */
import type { QueueCounts, QueueInfo, ScheduledTaskInfo, TaskRequestInfo, WorkerStats, WorkerStatus } from '@celeriac/runtime';
import { html, type Html } from '../html.js';
import { count, duration, segment, shorten, time } from './format.js';

/** What the workers page shows. */
export interface WorkersView {
  readonly prefix: string;
  readonly readOnly: boolean;
  readonly workers: readonly WorkerStatus[];
  readonly queues: readonly QueueCounts[];
  /** Whether each worker sends task events (by name). */
  readonly events: ReadonlyMap<string, boolean>;
  /** Redis's clock now, as the workers' heartbeats are stamped. */
  readonly now: number;
}

/** Queues with jobs that no online worker consumes. */
export function unconsumedQueues(workers: readonly WorkerStatus[], queues: readonly QueueCounts[]): QueueCounts[] {
  const consumed = new Set(workers.filter((worker) => worker.online).flatMap((worker) => worker.queues));
  return queues.filter((queue) => !consumed.has(queue.name) && queue.waiting + queue.prioritized + queue.delayed > 0);
}

/**
 * The live part of the workers page: totals, warnings and the table.
 *
 * @param view - the data
 * @returns the HTML
 */
export function workersRegion(view: WorkersView): Html {
  const online = view.workers.filter((worker) => worker.online);
  const orphaned = unconsumedQueues(view.workers, view.queues);
  const silent = online.filter((worker) => view.events.get(worker.name) !== true);
  return html`
<div class="stats">
  <div class="stat"><b>${online.length}</b><span>online</span></div>
  <div class="stat"><b>${view.workers.length - online.length}</b><span>offline</span></div>
  <div class="stat"><b>${count(online.reduce((sum, w) => sum + w.active, 0))}</b><span>active tasks</span></div>
  <div class="stat"><b>${count(view.workers.reduce((sum, w) => sum + w.processed, 0))}</b><span>processed</span></div>
  <div class="stat"><b>${count(view.workers.reduce((sum, w) => sum + w.failed, 0))}</b><span>failed</span></div>
</div>
${orphaned.map(
  (queue) =>
    html`<div class="notice"><b>Queue <code>${queue.name}</code> has no consumer:</b> ${count(queue.waiting + queue.prioritized)} waiting${queue.delayed > 0 ? html`, ${count(queue.delayed)} delayed` : ''}, and no online worker consumes it. Start a worker with <code>-Q ${queue.name}</code>${view.readOnly ? '' : ', or add a consumer below'}.</div>`,
)}
${silent.length > 0 ? html`<div class="notice info">${silent.map((w, i) => html`${i > 0 ? ', ' : ''}<code>${w.name}</code>`)} ${silent.length === 1 ? 'sends' : 'send'} no task events, so ${silent.length === 1 ? 'its' : 'their'} tasks are missing from the Tasks page. Start workers with <code>celeriac worker -E</code>, or <code>app.worker({ taskEvents: true })</code>.</div>` : ''}
${view.workers.length === 0 ? html`<div class="card"><p>No worker has announced itself under this app's prefix in the last hour. Start one with <code>celeriac -A app worker -E</code>, or <code>app.worker({ taskEvents: true })</code>.</p></div>` : workersTable(view)}
`;
}

function workersTable(view: WorkersView): Html {
  const { prefix, readOnly } = view;
  return html`<div class="card flush"><table>
<thead><tr><th>Worker</th><th>Status</th><th>Host / pid</th><th>Queues</th><th>Pool</th><th class="num">Active</th><th class="num">Processed</th><th class="num">Failed</th><th>Uptime</th><th>Events</th>${readOnly ? '' : html`<th>Actions</th>`}</tr></thead>
<tbody>
${view.workers.map(
  (worker) => html`<tr data-worker="${worker.name}">
<td><a href="${prefix}/worker/${segment(worker.name)}"><b>${worker.name}</b></a><div class="muted">${worker.versions.celeriac !== '' ? `celeriac ${worker.versions.celeriac}` : ''}</div></td>
<td>${worker.online ? html`<span class="badge online">online</span>` : html`<span class="badge offline">offline</span>`}<div class="muted" title="since the last heartbeat">${duration(worker.heartbeatAge)} ago</div></td>
<td>${worker.hostname}<div class="muted">pid ${worker.pid}</div></td>
<td>${worker.queues.map((queue) => queuePill(prefix, worker, queue, readOnly))}</td>
<td>${worker.pool} × ${worker.concurrency}${
    readOnly || !worker.online
      ? ''
      : html`<div class="actions">
<form class="inline" data-api="/api/worker/pool/grow/${segment(worker.name)}" data-after="refresh:workers-live"><button class="tiny" title="Run one more task at once">+1</button></form>
<form class="inline" data-api="/api/worker/pool/shrink/${segment(worker.name)}" data-after="refresh:workers-live"><button class="tiny" title="Run one task fewer at once">−1</button></form></div>`
  }</td>
<td class="num">${count(worker.active)}</td>
<td class="num">${count(worker.processed)}</td>
<td class="num">${count(worker.failed)}</td>
<td>${duration(view.now - worker.startedAt)}</td>
<td>${view.events.get(worker.name) === true ? html`<span class="pill">on</span>` : html`<span class="pill muted">off</span>`}</td>
${readOnly ? '' : html`<td>${worker.online ? workerActions(worker) : ''}</td>`}
</tr>`,
)}
</tbody></table></div>`;
}

function queuePill(_prefix: string, worker: WorkerStatus, queue: string, readOnly: boolean): Html {
  if (readOnly || !worker.online) return html`<span class="pill">${queue}</span>`;
  return html`<span class="pill">${queue}<form class="inline" data-api="/api/worker/queue/cancel-consumer/${segment(worker.name)}" data-confirm="Stop ${worker.name} consuming ${queue}?" data-after="refresh:workers-live"><input type="hidden" name="queue" value="${queue}"><button class="x" title="Stop consuming ${queue}" aria-label="Stop consuming ${queue}">×</button></form></span>`;
}

function workerActions(worker: WorkerStatus): Html {
  const name = segment(worker.name);
  return html`<div class="actions">
<form class="inline" data-api="/api/worker/queue/add-consumer/${name}" data-after="refresh:workers-live"><input name="queue" placeholder="queue" class="small" required aria-label="queue to consume"><button class="tiny">Consume</button></form>
<form class="inline" data-api="/api/task/rate-limit/${name}" data-after="refresh:workers-live"><select name="taskname" aria-label="task">${worker.tasks.map((task) => html`<option>${task}</option>`)}</select><input name="ratelimit" placeholder="10/s" class="small" required aria-label="rate limit"><button class="tiny">Rate</button></form>
<form class="inline" data-api="/api/worker/shutdown/${name}" data-confirm="Shut down ${worker.name}? It finishes its running tasks, then exits." data-after="refresh:workers-live"><button class="tiny danger">Shut down</button></form>
</div>`;
}

/** What one worker's page shows: presence plus the worker's own answers. */
export interface WorkerView {
  readonly prefix: string;
  readonly readOnly: boolean;
  readonly worker: WorkerStatus;
  readonly now: number;
  readonly eventsOn: boolean;
  /** Null when the worker did not answer. */
  readonly stats: WorkerStats | null;
  readonly active: readonly TaskRequestInfo[] | null;
  readonly reserved: readonly TaskRequestInfo[] | null;
  readonly scheduled: readonly ScheduledTaskInfo[] | null;
  readonly activeQueues: readonly QueueInfo[] | null;
  readonly error: string | null;
}

/**
 * The live part of one worker's page.
 *
 * @param view - the data
 * @returns the HTML
 */
export function workerRegion(view: WorkerView): Html {
  const { worker, prefix } = view;
  return html`
${view.error === null ? '' : html`<div class="notice">${view.error}</div>`}
<div class="grid">
<div class="card"><h2>Presence</h2><dl class="facts">
<dt>Status</dt><dd>${worker.online ? html`<span class="badge online">online</span>` : html`<span class="badge offline">offline</span>`} <span class="muted">last heartbeat ${duration(worker.heartbeatAge)} ago</span></dd>
<dt>Host</dt><dd>${worker.hostname}</dd><dt>Pid</dt><dd>${worker.pid}</dd>
<dt>App</dt><dd>${worker.app}</dd>
<dt>Pool</dt><dd>${worker.pool}, concurrency ${worker.concurrency}</dd>
<dt>Queues</dt><dd>${worker.queues.map((queue) => html`<span class="pill">${queue}</span>`)}</dd>
<dt>Started</dt><dd>${time(worker.startedAt)} <span class="muted">(up ${duration(view.now - worker.startedAt)})</span></dd>
<dt>Task events</dt><dd>${view.eventsOn ? 'on' : html`off <span class="muted">(start it with <code>-E</code> / <code>taskEvents: true</code>)</span>`}</dd>
<dt>Counters</dt><dd>${count(worker.active)} active, ${count(worker.processed)} processed, ${count(worker.failed)} failed</dd>
<dt>Versions</dt><dd>celeriac ${worker.versions.celeriac}, bullmq ${worker.versions.bullmq}, node ${worker.versions.node}, redis ${worker.versions.redis}</dd>
</dl></div>
<div class="card"><h2>Stats</h2>${
    view.stats === null
      ? html`<p class="muted">No answer.</p>`
      : html`<dl class="facts">
<dt>Uptime</dt><dd>${duration(view.stats.uptime * 1000)}</dd>
<dt>Pool</dt><dd>${view.stats.pool.kind}, max ${view.stats.pool.maxConcurrency}${view.stats.pool.processes.length > 0 ? `, children ${view.stats.pool.processes.join(', ')}` : ''}</dd>
<dt>CPU</dt><dd>${view.stats.rusage.utime.toFixed(2)} s user, ${view.stats.rusage.stime.toFixed(2)} s system</dd>
<dt>Max RSS</dt><dd>${count(Math.round(view.stats.rusage.maxrss / 1024))} MiB</dd>
<dt>Finished</dt><dd>${Object.entries(view.stats.total).map(([task, n]) => html`<span class="pill">${task}: ${count(n)}</span>`)}</dd>
<dt>Failed</dt><dd>${Object.entries(view.stats.failed).map(([task, n]) => html`<span class="pill">${task}: ${count(n)}</span>`)}</dd>
</dl>`
  }</div>
</div>
${requestTable(prefix, 'Active', view.active)}
${requestTable(prefix, 'Reserved', view.reserved)}
${requestTable(
  prefix,
  'Scheduled',
  view.scheduled?.map((entry) => entry.request) ?? null,
  new Map((view.scheduled ?? []).map((entry) => [entry.request.id, entry.eta])),
)}
<div class="card"><h2>Registered tasks</h2>${worker.tasks.length === 0 ? html`<p class="muted">None.</p>` : worker.tasks.map((task) => html`<span class="pill">${task}</span>`)}</div>
`;
}

function requestTable(prefix: string, title: string, requests: readonly TaskRequestInfo[] | null, etas?: ReadonlyMap<string, number>): Html {
  if (requests === null) return html`<div class="card"><h2>${title}</h2><p class="muted">No answer.</p></div>`;
  return html`<div class="card flush"><h2>${title} <span class="muted">${requests.length}</span></h2>${
    requests.length === 0
      ? html`<p class="muted" style="padding:0 16px 6px">None.</p>`
      : html`<table><thead><tr><th>Task</th><th>Id</th><th>Args</th><th>Kwargs</th><th>Queue</th><th>${etas === undefined ? 'Started' : 'Due'}</th></tr></thead><tbody>
${requests.map(
  (request) => html`<tr><td>${request.name}</td><td><a class="mono" href="${prefix}/task/${segment(request.id)}">${shorten(request.id, 40)}</a></td>
<td class="cell-text" title="${JSON.stringify(request.args)}">${shorten(JSON.stringify(request.args), 80)}</td><td class="cell-text">${shorten(JSON.stringify(request.kwargs), 60)}</td>
<td>${request.queue}</td><td>${time(etas?.get(request.id) ?? request.started)}</td></tr>`,
)}</tbody></table>`
  }</div>`;
}
