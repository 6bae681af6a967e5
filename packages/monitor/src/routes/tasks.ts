/**
 * Tasks: Flower's `GET /api/tasks`, `GET /api/task/info/:id`, `GET /api/task/result/:id`,
 * `GET /api/task/types`, `POST /api/task/async-apply/:name`, `POST /api/task/revoke/:id`, and
 * Celeriac's `POST /api/task/retry/:id`; the pages `/tasks` and `/task/:id`.
 */
import { signature, type Json, type Kwargs } from '@celeriac/canvas';
import { ResultNotFoundError, type WorkflowNode, type WorkflowSnapshot } from '@celeriac/runtime';
import { Hono, type Context } from 'hono';
import type { MonitorContext, MonitorEnv } from '../context.js';
import { flowerTask } from '../flower-format.js';
import { html } from '../html.js';
import { clientError, renderPage } from '../respond.js';
import { SORT_KEYS, type TaskQuery } from '../task-table.js';
import { segment, shorten } from '../views/format.js';
import { eventsOffNotice, PAGE_SIZES, taskRegion, tasksFilters, tasksRegion, type TasksView } from '../views/tasks.js';

/** Tasks `GET /api/tasks` answers without a `limit` (Flower answers them all; 100 000 would be tens of MB). */
const DEFAULT_API_LIMIT = 100;
/** Largest page `GET /api/tasks` serves. */
const MAX_LIMIT = 10_000;
/** Largest workflow read whole to find a task past the snapshot's first nodes. */
const MAX_FULL_SNAPSHOT = 10_000;
/** Milliseconds the tasks page waits for the task-event history before it is drawn without it. */
const HISTORY_WAIT_MS = 300;
/** Longest `/api/task/result` wait, in seconds. */
const MAX_RESULT_TIMEOUT = 60;

/** Reads Flower's task query parameters, checking each. */
function taskQuery(c: Context<MonitorEnv>, defaultLimit: number | undefined): TaskQuery {
  const number = (name: string, min: number, max: number): number | undefined => {
    const text = c.req.query(name);
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) throw clientError(400, `${name} must be a number from ${min} to ${max}, got '${text}'`);
    return value;
  };
  const whole = (name: string, min: number, max: number): number | undefined => {
    const value = number(name, min, max);
    if (value !== undefined && !Number.isInteger(value)) throw clientError(400, `${name} must be a whole number, got '${c.req.query(name)}'`);
    return value;
  };
  const sortBy = c.req.query('sort_by');
  if (sortBy !== undefined && sortBy !== '' && !SORT_KEYS.includes(sortBy.replace(/^-/, '') as (typeof SORT_KEYS)[number])) {
    throw clientError(400, `sort_by must be one of ${SORT_KEYS.join(', ')} (with "-" for descending), got '${sortBy}'`);
  }
  const state = c.req.query('state');
  const from = number('received_start', 0, 1e11);
  const to = number('received_end', 0, 1e11);
  const limit = whole('limit', 1, MAX_LIMIT) ?? defaultLimit;
  return {
    ...(state === undefined || state === '' ? {} : { states: state.split(',').map((s) => s.trim()).filter((s) => s !== '') }),
    name: c.req.query('taskname'),
    worker: c.req.query('workername'),
    workflowId: c.req.query('workflow'),
    search: c.req.query('search'),
    sortBy,
    offset: whole('offset', 0, Number.MAX_SAFE_INTEGER) ?? 0,
    ...(limit === undefined ? {} : { limit }),
    // Flower's received_start/received_end are epoch seconds.
    ...(from === undefined ? {} : { receivedFrom: from * 1000 }),
    ...(to === undefined ? {} : { receivedTo: to * 1000 }),
  };
}

/** A task's node and its workflow from the store, if the store still has them. */
export async function findNode(context: MonitorContext, id: string): Promise<{ workflow: WorkflowSnapshot; node: WorkflowNode | undefined } | undefined> {
  let workflow: WorkflowSnapshot;
  try {
    workflow = await context.app.workflow(id);
  } catch (error) {
    if (error instanceof ResultNotFoundError) return undefined;
    throw error;
  }
  let node = workflow.nodes.find((n) => n.id === id);
  if (node === undefined && workflow.truncated && workflow.size <= MAX_FULL_SNAPSHOT) {
    workflow = await context.app.workflow(id, { limit: workflow.size });
    node = workflow.nodes.find((n) => n.id === id);
  }
  return { workflow, node };
}

/** JSON body of async-apply: `{ args, kwargs, options }`, each optional. */
async function applyBody(c: Context<MonitorEnv>): Promise<{ args: Json[]; kwargs: Kwargs; options: Record<string, unknown> }> {
  const text = await c.req.text();
  if (text.length > 1_000_000) throw clientError(413, 'The body is over 1 MB');
  if (text.trim() === '') return { args: [], kwargs: {}, options: {} };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw clientError(400, 'The body is not JSON: send {"args": [...], "kwargs": {...}, "options": {...}}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw clientError(400, 'The body must be a JSON object: {"args": [...], "kwargs": {...}, "options": {...}}');
  const { args = [], kwargs = {}, options = {} } = body as Record<string, unknown>;
  if (!Array.isArray(args)) throw clientError(400, '"args" must be a JSON array');
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(kwargs)) throw clientError(400, '"kwargs" must be a JSON object');
  if (!isObject(options)) throw clientError(400, '"options" must be a JSON object');
  return { args: args as Json[], kwargs: kwargs as Kwargs, options };
}

/** Task names any known worker registers, and those of this process's app. */
async function knownTaskNames(context: MonitorContext): Promise<Set<string>> {
  const workers = await context.app.control.workers();
  return new Set([...context.app.registered, ...workers.flatMap((worker) => worker.tasks), ...context.tasks.taskNames]);
}

/**
 * The routes.
 *
 * @param context - the monitor
 * @returns a Hono app to mount at the monitor's root
 */
export function taskRoutes(context: MonitorContext): Hono<MonitorEnv> {
  const routes = new Hono<MonitorEnv>();
  const { app, tasks } = context;

  routes.get('/api/tasks', async (c) => {
    await context.feed.start();
    const page = tasks.query(taskQuery(c, DEFAULT_API_LIMIT));
    // Flower answers an object keyed by task id, in page order.
    return c.json(Object.fromEntries(page.tasks.map((record) => [record.id, flowerTask(record)])));
  });

  routes.get('/api/task/types', async (c) => {
    await context.feed.start();
    return c.json({ 'task-types': [...(await knownTaskNames(context))].sort() });
  });

  routes.get('/api/task/info/:id', async (c) => {
    await context.feed.start();
    const id = c.req.param('id');
    const record = tasks.get(id);
    if (record !== undefined) return c.json(flowerTask(record));
    // No event named it: what the store knows, in the same shape.
    const found = await findNode(context, id);
    if (found?.node === undefined) throw clientError(404, `Unknown task '${id}'`);
    const { node, workflow } = found;
    return c.json({
      uuid: node.id,
      name: node.task,
      state: node.state,
      args: JSON.stringify(node.args),
      kwargs: JSON.stringify(node.kwargs),
      result: node.result ?? null,
      exception: node.error === undefined ? null : `${node.error.name}: ${node.error.message}`,
      traceback: node.error?.stack ?? null,
      succeeded: node.state === 'SUCCESS' && node.doneAt !== undefined ? node.doneAt / 1000 : null,
      timestamp: node.doneAt === undefined ? null : node.doneAt / 1000,
      root_id: workflow.rootId,
      parent_id: node.parent,
      children: node.children,
      workflow_id: workflow.id,
      group_id: node.group?.id ?? null,
      queue: node.queue,
      worker: null,
    });
  });

  routes.get('/api/task/result/:id', async (c) => {
    const id = c.req.param('id');
    const timeoutText = c.req.query('timeout');
    const timeout = timeoutText === undefined || timeoutText === '' ? 0 : Number(timeoutText);
    if (!Number.isFinite(timeout) || timeout < 0 || timeout > MAX_RESULT_TIMEOUT) throw clientError(400, `timeout must be seconds from 0 to ${MAX_RESULT_TIMEOUT}, got '${timeoutText}'`);
    const result = await app.result(id);
    if (timeout > 0) await result.get({ timeout: timeout * 1000, propagate: false }).catch(() => undefined);
    const state = await result.state();
    const response: Record<string, unknown> = { 'task-id': id, state };
    if (state === 'SUCCESS') {
      response['result'] = await result.get({ timeout: 1_000 });
    } else if (state === 'FAILURE' || state === 'REVOKED') {
      const error = await result.get({ timeout: 1_000 }).then(
        () => null,
        (failure: unknown) => failure as Error,
      );
      response['result'] = error === null ? null : `${error.name}: ${error.message}`;
      const remote = (error as { cause?: { stack?: string } } | null)?.cause;
      response['traceback'] = remote?.stack ?? error?.stack ?? null;
    }
    return c.json(response);
  });

  routes.post('/api/task/async-apply/:name', async (c) => {
    const name = c.req.param('name');
    const body = await applyBody(c);
    if (!(await knownTaskNames(context)).has(name)) throw clientError(404, `Unknown task '${name}': no worker of this app registers it`);
    const result = await app.apply(signature(name, body.args, body.kwargs, body.options));
    return c.json({ 'task-id': result.id, state: 'PENDING' });
  });

  routes.post('/api/task/revoke/:id', async (c) => {
    const id = c.req.param('id');
    const terminate = c.req.query('terminate') === 'true' || c.req.query('terminate') === '1';
    const revoked = await app.revoke(id, { terminate });
    return c.json({ message: revoked.length === 0 ? `Nothing to revoke: '${id}' had finished` : `Revoked '${id}'${revoked.length > 1 ? ` and ${revoked.length - 1} more` : ''}`, revoked });
  });

  routes.post('/api/task/retry/:id', async (c) => {
    const id = c.req.param('id');
    const again = await app.rerun(id);
    return c.json({ message: `Sent '${id}' again as '${again.id}'`, 'task-id': again.id });
  });

  routes.get('/tasks', async (c) => {
    // A short history is read before the page is drawn; a long one is not waited for: the page
    // says it is reading, and its live region fills in.
    await Promise.race([context.feed.start(), new Promise((resolve) => setTimeout(resolve, HISTORY_WAIT_MS))]);
    const query = taskQuery(c, 50);
    const limit = PAGE_SIZES.includes(query.limit as (typeof PAGE_SIZES)[number]) ? query.limit! : 50;
    const started = performance.now();
    const page = tasks.query({ ...query, limit });
    const queryMs = performance.now() - started;
    const eventsOff = tasks.taskEvents === 0 && context.feed.status !== 'loading';
    const workers = [...new Set([...tasks.workers.keys(), ...(await app.control.workers()).map((worker) => worker.name)])].sort();
    const view: TasksView = {
      prefix: context.settings.prefix,
      query: { ...query, limit },
      page,
      names: tasks.taskNames,
      workers,
      eventsOff,
      loading: context.feed.status === 'loading',
      workflows: eventsOff ? await app.workflows({ limit: 50 }) : null,
      queryMs,
    };
    const region = tasksRegion(view);
    const live = (query.offset ?? 0) === 0;
    const body = html`<h1>Tasks <span class="live" id="live-status">live</span></h1>
<p class="subtitle">${context.feed.status === 'loading' ? `Reading the task-event history: ${context.feed.loaded.toLocaleString('en-US')} events so far…` : tasks.size === 0 ? 'From task events.' : html`${tasks.size.toLocaleString('en-US')} tasks from task events${context.feed.loaded > 0 ? ` (history read in ${Math.round(context.feed.loadMs)} ms)` : ''}; the oldest are forgotten beyond ${context.settings.maxTasks.toLocaleString('en-US')}.`}</p>
${eventsOff ? eventsOffNotice(view) : ''}
${tasksFilters(view)}
<div id="tasks-live"${live ? html` data-live="3000"` : ''}>${region}</div>`;
    return renderPage(c, context, { title: 'Tasks', nav: 'tasks', page: 'tasks', body }, { 'tasks-live': region });
  });

  routes.get('/task/:id', async (c) => {
    await context.feed.start();
    const id = c.req.param('id');
    const record = tasks.get(id);
    const found = await findNode(context, id);
    if (record === undefined && found === undefined) throw clientError(404, `Unknown task '${id}': no event names it and the store has no result with that id (never sent, or expired)`);
    if (found !== undefined && found.node === undefined && record === undefined) {
      // A group's id (or a task past what the store lists): its workflow shows it.
      return c.redirect(`${context.settings.prefix}/workflow/${segment(id)}`);
    }
    const view = { prefix: context.settings.prefix, readOnly: context.settings.readOnly, id, record, node: found?.node, workflow: found?.workflow };
    const region = taskRegion(view);
    const state = found?.node?.state ?? record?.state ?? 'PENDING';
    const name = found?.node?.task ?? record?.name ?? 'task';
    const live = !['SUCCESS', 'FAILURE', 'REVOKED'].includes(state) && found !== undefined;
    const body = html`<h1>${name} <span class="mono">${shorten(id, 60)}</span></h1>
<p class="subtitle">${found === undefined ? 'Its workflow has left the store (it expired); what follows is from task events.' : html`<a href="${context.settings.prefix}/workflow/${segment(found.workflow.id)}">Its workflow</a>`}</p>
<div id="task-main">${region}</div>`;
    return renderPage(c, context, { title: `${name} ${shorten(id, 12)}`, nav: 'tasks', page: 'task', body, ...(live ? { data: { 'live-task': id } } : {}) }, { 'task-main': region });
  });

  return routes;
}
