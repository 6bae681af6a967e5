/**
 * The tasks page (filters, search, pages) and one task's page (arguments, result or error with
 * its traceback, timings, links through the workflow, and the actions revoke, terminate, retry).
 */
import type { WorkflowList, WorkflowNode, WorkflowSnapshot } from '@celeriac/runtime';
import { html, type Html } from '../html.js';
import { EVENT_TASK_STATES, type TaskPage, type TaskQuery, type TaskRecord } from '../task-table.js';
import { badge, count, duration, segment, shorten, time } from './format.js';
import { workflowState } from './workflow.js';

/** The tasks page's inputs. */
export interface TasksView {
  readonly prefix: string;
  readonly query: TaskQuery;
  readonly page: TaskPage;
  readonly names: readonly string[];
  readonly workers: readonly string[];
  /** No task event was ever read: workers run without them. */
  readonly eventsOff: boolean;
  /** Still reading the history. */
  readonly loading: boolean;
  /** When events are off: the workflows in the store. */
  readonly workflows: WorkflowList | null;
  /** Milliseconds the page's query took. */
  readonly queryMs: number;
}

export const PAGE_SIZES = [20, 50, 100, 500] as const;
const SORTS: readonly [string, string][] = [
  ['', 'newest first'],
  ['received', 'oldest first'],
  ['-runtime', 'slowest first'],
  ['name', 'name'],
  ['state', 'state'],
  ['worker', 'worker'],
];

/**
 * The query string of a tasks page, with some parameters changed.
 *
 * @param query - the current query
 * @param changes - parameters to set
 * @returns `?…`, or an empty string
 */
export function tasksQueryString(query: TaskQuery, changes: Partial<Record<string, string | number | undefined>> = {}): string {
  const params = new URLSearchParams();
  const values: Record<string, string | number | undefined> = {
    state: query.states?.join(','),
    taskname: query.name,
    workername: query.worker,
    search: query.search,
    sort_by: query.sortBy,
    limit: query.limit,
    offset: query.offset,
    ...changes,
  };
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== '' && !(key === 'offset' && value === 0)) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * The filters form.
 *
 * @param view - the page's inputs
 * @returns the HTML
 */
export function tasksFilters(view: TasksView): Html {
  const { query } = view;
  const state = query.states?.[0] ?? '';
  return html`<form class="filters" method="get" action="${view.prefix}/tasks">
<label>State<select name="state" data-autosubmit><option value="">any</option>${EVENT_TASK_STATES.map((s) => html`<option${s === state ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>Task<select name="taskname" data-autosubmit><option value="">any</option>${view.names.map((name) => html`<option${name === query.name ? html` selected` : ''}>${name}</option>`)}</select></label>
<label>Worker<select name="workername" data-autosubmit><option value="">any</option>${view.workers.map((name) => html`<option${name === query.worker ? html` selected` : ''}>${name}</option>`)}</select></label>
<label>Search<input type="search" name="search" value="${query.search ?? ''}" placeholder="id, args, result, error…"></label>
<label>Order<select name="sort_by" data-autosubmit>${SORTS.map(([value, label]) => html`<option value="${value}"${value === (query.sortBy ?? '') ? html` selected` : ''}>${label}</option>`)}</select></label>
<label>Per page<select name="limit" data-autosubmit>${PAGE_SIZES.map((n) => html`<option${n === query.limit ? html` selected` : ''}>${n}</option>`)}</select></label>
<button class="primary">Filter</button>
<label class="live-toggle" style="flex-direction:row;align-items:center;gap:6px"><input type="checkbox" id="live-toggle"${(query.offset ?? 0) === 0 ? html` checked` : ''}> live</label>
</form>`;
}

/**
 * The table of tasks and its pager (the live region).
 *
 * @param view - the page's inputs
 * @returns the HTML
 */
export function tasksRegion(view: TasksView): Html {
  const { prefix, page, query } = view;
  const offset = query.offset ?? 0;
  const limit = query.limit ?? 50;
  const last = Math.min(offset + page.tasks.length, page.total);
  return html`<div class="card flush"><table class="tasks">
<thead><tr><th>Name</th><th>Id</th><th>State</th><th>Args</th><th>Kwargs</th><th>Result</th><th>Received</th><th>Started</th><th class="num">Runtime</th><th>Worker</th></tr></thead>
<tbody>
${page.tasks.map(
  (task) => html`<tr>
<td>${task.name}</td>
<td><a class="mono" href="${prefix}/task/${segment(task.id)}" title="${task.id}">${shorten(task.id, 24)}</a></td>
<td>${badge(task.state)}</td>
<td class="cell-text" title="${task.args ?? ''}">${task.args ?? ''}</td>
<td class="cell-text" title="${task.kwargs ?? ''}">${task.kwargs ?? ''}</td>
<td class="cell-text" title="${task.result ?? task.exception ?? ''}">${task.result ?? task.exception ?? ''}</td>
<td>${time(task.received)}</td>
<td>${time(task.started)}</td>
<td class="num">${task.runtime === null ? '' : duration(task.runtime)}</td>
<td>${task.worker ?? ''}</td>
</tr>`,
)}
${page.tasks.length === 0 ? html`<tr><td colspan="10" class="muted">${view.loading ? 'Reading the task-event history…' : 'No task matches.'}</td></tr>` : ''}
</tbody></table>
<div class="pager">
<span>${page.total === 0 ? 'none' : html`${count(offset + 1)}–${count(last)} of ${count(page.total)}`}</span>
<span class="muted">(${view.queryMs.toFixed(1)} ms)</span>
<span class="spacer"></span>
${offset > 0 ? html`<a href="${prefix}/tasks${tasksQueryString(query, { offset: 0 })}">« first</a> <a rel="prev" href="${prefix}/tasks${tasksQueryString(query, { offset: Math.max(0, offset - limit) })}">‹ newer</a>` : ''}
${last < page.total ? html`<a rel="next" href="${prefix}/tasks${tasksQueryString(query, { offset: offset + limit })}">older ›</a>` : ''}
</div></div>`;
}

/**
 * Why the page is empty when workers send no events, and the workflows the store holds instead.
 *
 * @param view - the page's inputs
 * @returns the HTML
 */
export function eventsOffNotice(view: TasksView): Html {
  return html`<div class="notice"><b>No task events have been recorded.</b> Workers send them only when asked:
start them with <code>celeriac -A app worker -E</code>, or <code>app.worker({ taskEvents: true })</code>.
Meanwhile, the workflows below are read from the result store, with their states.</div>
${view.workflows === null ? '' : workflowsTable(view.prefix, view.workflows, null)}`;
}

/**
 * A table of workflows from the store.
 *
 * @param prefix - the URL prefix
 * @param list - a page of workflows
 * @param olderHref - the link to the next page, if any
 * @returns the HTML
 */
export function workflowsTable(prefix: string, list: WorkflowList, olderHref: string | null): Html {
  return html`<div class="card flush"><table>
<thead><tr><th>Workflow</th><th>Tasks</th><th class="num">Size</th><th>State</th><th>Progress</th><th>Applied</th></tr></thead>
<tbody>
${list.workflows.map((workflow) => {
  const done = workflow.counts.SUCCESS ?? 0;
  const bad = (workflow.counts.FAILURE ?? 0) + (workflow.counts.REVOKED ?? 0);
  return html`<tr>
<td><a class="mono" href="${prefix}/workflow/${segment(workflow.id)}">${shorten(workflow.id, 40)}</a></td>
<td>${workflow.tasks.map((task) => html`<span class="pill">${task}</span>`)}</td>
<td class="num">${count(workflow.size)}</td>
<td>${badge(workflowState(workflow.state, workflow.counts))}</td>
<td><div class="progress" title="${done} succeeded, ${bad} failed or revoked of ${workflow.size}"><i style="width:${((100 * done) / Math.max(1, workflow.size)).toFixed(1)}%"></i></div><span class="muted">${count(done)}/${count(workflow.size)}${bad > 0 ? html`, ${count(bad)} failed` : ''}</span></td>
<td>${time(workflow.createdAt)}</td>
</tr>`;
})}
${list.workflows.length === 0 ? html`<tr><td colspan="6" class="muted">No workflow in the store.</td></tr>` : ''}
</tbody></table>
<div class="pager"><span>${count(list.workflows.length)} shown of ${count(list.scanned)} in Redis</span><span class="spacer"></span>${olderHref === null ? '' : html`<a rel="next" href="${olderHref}">older ›</a>`}</div>
</div>`;
}

/** One task's page inputs: what events and the store know of it. */
export interface TaskView {
  readonly prefix: string;
  readonly readOnly: boolean;
  readonly id: string;
  /** From task events, if any. */
  readonly record: TaskRecord | undefined;
  /** From the store, if its workflow is still there. */
  readonly node: WorkflowNode | undefined;
  readonly workflow: WorkflowSnapshot | undefined;
}

const READY = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/**
 * The main part of a task's page (refreshed live while the task runs).
 *
 * @param view - the task
 * @returns the HTML
 */
export function taskRegion(view: TaskView): Html {
  const { record, node, prefix, workflow } = view;
  const state = node?.state ?? record?.state ?? 'PENDING';
  const error = node?.error;
  const exception = error !== undefined ? `${error.name}: ${error.message}` : record?.exception ?? null;
  const traceback = error?.stack ?? record?.traceback ?? null;
  const result = node?.result ?? record?.result ?? null;
  const pretty = (value: unknown): string => JSON.stringify(value, null, 2);
  const link = (id: string | null | undefined): Html => (id === null || id === undefined ? html`<span class="muted">—</span>` : html`<a class="mono" href="${prefix}/task/${segment(id)}">${id}</a>`);
  return html`
<div class="grid">
<div class="card"><h2>Overview</h2><dl class="facts">
<dt>State</dt><dd><span class="badge state-${state}" data-node="${view.id}" data-state="${state}">${state}</span>${record?.terminated === true ? ' (terminated)' : ''}${record?.expired === true ? ' (expired)' : ''}</dd>
<dt>Task</dt><dd>${node?.task ?? record?.name ?? ''}</dd>
<dt>Worker</dt><dd>${record?.worker === null || record?.worker === undefined ? html`<span class="muted">—</span>` : html`<a href="${prefix}/worker/${segment(record.worker)}">${record.worker}</a>`}</dd>
<dt>Queue</dt><dd>${node?.queue ?? record?.queue ?? ''}</dd>
<dt>Retries</dt><dd>${record?.retries ?? 0}</dd>
<dt>Received</dt><dd>${time(record?.received)}</dd>
<dt>Started</dt><dd>${time(record?.started)}</dd>
<dt>${state === 'FAILURE' ? 'Failed' : state === 'REVOKED' ? 'Revoked' : 'Succeeded'}</dt><dd>${time(record?.succeeded ?? record?.failed ?? record?.revoked ?? node?.doneAt)}</dd>
<dt>Runtime</dt><dd>${record?.runtime === null || record?.runtime === undefined ? '—' : duration(record.runtime)}</dd>
${record?.eta === null || record?.eta === undefined ? '' : html`<dt>ETA</dt><dd>${time(record.eta)}</dd>`}
${record?.expires === null || record?.expires === undefined ? '' : html`<dt>Expires</dt><dd>${time(record.expires)}</dd>`}
</dl></div>
<div class="card"><h2>Links</h2><dl class="facts">
<dt>Workflow</dt><dd>${workflow === undefined && record?.workflowId == null ? html`<span class="muted">—</span>` : html`<a class="mono" href="${prefix}/workflow/${segment(workflow?.id ?? record?.workflowId ?? '')}">${workflow?.id ?? record?.workflowId}</a>${workflow === undefined ? '' : html` ${badge(workflow.state)} <span class="muted">${count(workflow.size)} tasks</span>`}`}</dd>
<dt>Root</dt><dd>${link(workflow?.rootId ?? record?.rootId)}</dd>
<dt>Parent</dt><dd>${link(node?.parent ?? record?.parentId)}</dd>
<dt>Children</dt><dd>${(node?.children ?? record?.children ?? []).length === 0 ? html`<span class="muted">—</span>` : (node?.children ?? record?.children ?? []).map((child) => html`<div>${link(child)}</div>`)}</dd>
<dt>Group</dt><dd>${node?.group === null || node?.group === undefined ? html`<span class="muted">—</span>` : html`<span class="mono">${node.group.id}</span> <span class="muted">member ${node.group.index + 1}</span>`}</dd>
${node !== undefined && node.waitingOn.length > 0 ? html`<dt>Waiting on</dt><dd>${node.waitingOn.map((id) => html`<div>${link(id)}</div>`)}</dd>` : ''}
</dl></div>
</div>
<div class="grid">
<div class="card"><h2>Arguments</h2>
<pre class="value" id="task-args">${node !== undefined ? pretty(node.args) : record?.args ?? ''}</pre>
<h2 style="margin-top:12px">Keyword arguments</h2>
<pre class="value" id="task-kwargs">${node !== undefined ? pretty(node.kwargs) : record?.kwargs ?? ''}</pre>
${node === undefined ? '' : html`<h2 style="margin-top:12px">Options</h2><pre class="value">${pretty(node.options)}</pre>`}
</div>
<div class="card">${
    exception !== null && (state === 'FAILURE' || state === 'RETRY' || state === 'REVOKED')
      ? html`<h2>Error</h2><pre class="value" id="task-exception">${exception}</pre>
${traceback === null ? '' : html`<div class="block-head" style="margin-top:12px"><h2 style="margin:0">Traceback</h2><button type="button" class="tiny" data-copy="#task-traceback">Copy</button></div><pre class="block" id="task-traceback">${traceback}</pre>`}`
      : html`<h2>Result</h2>${
          result === null
            ? html`<p class="muted">${READY.has(state) ? 'No result was kept.' : 'Not finished yet.'}</p>`
            : html`<pre class="value" id="task-result">${result}</pre><p class="muted">Cut to 1 024 characters; the whole value: <a href="${prefix}/api/task/result/${segment(view.id)}">/api/task/result</a></p>`
        }`
  }</div>
</div>
${view.readOnly ? '' : taskActions(view.id, state, node?.role)}`;
}

function taskActions(id: string, state: string, role: WorkflowNode['role'] | undefined): Html {
  const ready = READY.has(state);
  return html`<div class="card"><h2>Actions</h2><div class="actions">
${ready ? '' : html`<form class="inline" data-api="/api/task/revoke/${segment(id)}" data-confirm="Revoke ${id}? It will not run, nor anything after it." data-after="refresh:task-main"><button class="danger" id="revoke">Revoke</button></form>`}
${ready ? '' : html`<form class="inline" data-api="/api/task/revoke/${segment(id)}" data-confirm="Revoke ${id} and abort it if it is running?" data-after="refresh:task-main"><input type="hidden" name="terminate" value="true"><button class="danger" id="terminate">Revoke and terminate</button></form>`}
${(state === 'FAILURE' || state === 'REVOKED') && role !== undefined ? html`<form class="inline" data-api="/api/task/retry/${segment(id)}" data-confirm="Run ${id} again, as a new task with the same arguments?" data-after="go:task-id"><button class="primary" id="retry">Retry</button></form>` : ''}
${ready && state === 'SUCCESS' ? html`<span class="muted">This task has finished; nothing to do.</span>` : ''}
</div></div>`;
}
