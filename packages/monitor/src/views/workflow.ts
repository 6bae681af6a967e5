/**
 * A workflow's page: its graph as SVG (positions from {@link layoutWorkflow}, colours from the
 * states, recoloured live by the page's script), each group's progress ("37/100 header results
 * in"), why unfinished tasks have not run, and the list of its tasks.
 */
import type { WorkerStatus, WorkflowGroup, WorkflowNode, WorkflowSnapshot } from '@celeriac/runtime';
import type { Drawing, DrawnNode } from '../graph-layout.js';
import { html, type Html } from '../html.js';
import type { TaskTable } from '../task-table.js';
import { badge, count, cssToken, duration, segment, shorten, time } from './format.js';

const ENDED = new Set(['SUCCESS', 'FAILURE', 'REVOKED']);

/**
 * A workflow's state for display: its result's state, except that a workflow whose result has not
 * started but some of whose tasks have is shown as STARTED (it is under way).
 */
export function workflowState(state: string, counts: Readonly<Partial<Record<string, number>>>): string {
  if (state !== 'PENDING') return state;
  const moving = Object.entries(counts).some(([key, n]) => key !== 'PENDING' && (n ?? 0) > 0);
  return moving ? 'STARTED' : 'PENDING';
}

/**
 * A task's state for display: the store's, except that a task the store still calls PENDING (its
 * worker does not record STARTED: `trackStarted` is off) shows what its events say, if anything.
 */
export function shownState(node: WorkflowNode, tasks: TaskTable | undefined): string {
  if (node.state !== 'PENDING') return node.state;
  const seen = tasks?.get(node.id)?.state;
  return seen === 'RECEIVED' || seen === 'STARTED' || seen === 'RETRY' ? seen : 'PENDING';
}

/** Whether a group is a chord's header: some task outside it takes its results. */
function isChordHeader(snapshot: WorkflowSnapshot, group: WorkflowGroup): boolean {
  return snapshot.nodes.some((node) => node.parent === group.id && node.group?.id !== group.id);
}

/**
 * A group's progress in words: "chord header · 37/100 header results in", "group · 3/4 done".
 *
 * @param snapshot - the workflow
 * @param group - one of its groups
 * @returns the label
 */
export function groupLabel(snapshot: WorkflowSnapshot, group: WorkflowGroup): string {
  const failed = group.failed > 0 ? `, ${group.failed} failed` : '';
  return isChordHeader(snapshot, group)
    ? `chord header · ${group.succeeded}/${group.size} header results in${failed}`
    : `group · ${group.succeeded}/${group.size} done${failed}`;
}

/** The label of a "+N more" box: how many it stands for and how they are doing. */
function moreLabel(drawn: DrawnNode, states: ReadonlyMap<string, string>): string {
  let done = 0;
  let bad = 0;
  for (const id of drawn.hidden) {
    const state = states.get(id);
    if (state === 'SUCCESS') done++;
    else if (state === 'FAILURE' || state === 'REVOKED') bad++;
  }
  return `${done} ✓${bad > 0 ? ` · ${bad} ✗` : ''} of ${drawn.hidden.length}`;
}

/** A state for a "+N more" box: the worst of those it stands for, else the least advanced. */
function moreState(drawn: DrawnNode, states: ReadonlyMap<string, string>): string {
  const seen = new Set(drawn.hidden.map((id) => states.get(id) ?? 'PENDING'));
  for (const state of ['FAILURE', 'REVOKED', 'RETRY', 'STARTED', 'RECEIVED', 'PENDING', 'SUCCESS']) if (seen.has(state)) return state;
  return 'PENDING';
}

/**
 * The graph.
 *
 * @param prefix - the URL prefix
 * @param snapshot - the workflow
 * @param drawing - its layout
 * @param tasks - task events, for tasks the store does not yet show as started
 * @returns the SVG
 */
export function workflowSvg(prefix: string, snapshot: WorkflowSnapshot, drawing: Drawing, tasks?: TaskTable): Html {
  const nodes = new Map(snapshot.nodes.map((node) => [node.id, node]));
  const states = new Map(snapshot.nodes.map((node) => [node.id, shownState(node, tasks)]));
  const groups = new Map(snapshot.groups.map((group) => [group.id, group]));
  const clusters = [...drawing.clusters].sort((a, b) => a.depth - b.depth);
  return html`<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="${drawing.width}" height="${drawing.height}" viewBox="0 0 ${drawing.width} ${drawing.height}" role="img" aria-label="Graph of workflow ${snapshot.id}">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#9aa5b4"/></marker>
<marker id="arrow-failure" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#d64545"/></marker></defs>
${clusters.map((cluster) => {
  const group = groups.get(cluster.id);
  const label = group === undefined ? 'group' : groupLabel(snapshot, group);
  return html`<g class="cluster depth-${Math.min(cluster.depth, 2)}" data-group="${cluster.id}"><title>${cluster.id}</title><rect x="${r(cluster.x)}" y="${r(cluster.y)}" width="${r(cluster.width)}" height="${r(cluster.height)}" rx="9"/><text x="${r(cluster.x + 10)}" y="${r(cluster.y + 18)}" data-label-id="${cluster.id}">${label}</text></g>`;
})}
${drawing.edges.map(
  (edge) =>
    html`<path class="edge ${edge.carries}" d="${edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${r(p.x)},${r(p.y)}`).join(' ')}" marker-end="url(#${edge.carries === 'failure' ? 'arrow-failure' : 'arrow'})"><title>${edge.carries === 'result' ? 'passes its result' : edge.carries === 'order' ? 'runs after (immutable: no result passed)' : 'on failure'}</title></path>`,
)}
${drawing.nodes.map((drawn) => {
  if (drawn.kind === 'more') {
    const state = moreState(drawn, states);
    return html`<g class="node more state-${cssToken(state)}" transform="translate(${r(drawn.x)},${r(drawn.y)})"><title>${drawn.hidden.length} more tasks of this group: see the list below</title><rect width="${r(drawn.width)}" height="${r(drawn.height)}" rx="7"/><rect class="bar" width="5" height="${r(drawn.height)}" rx="2"/><text x="14" y="19">+${count(drawn.hidden.length)} more</text><text class="sub" x="14" y="35" data-label-id="${drawn.id}">${moreLabel(drawn, states)}</text></g>`;
  }
  const node = nodes.get(drawn.id);
  if (node === undefined) return '';
  const why = reason(node, nodes, null, tasks);
  const state = states.get(node.id) ?? node.state;
  return html`<a href="${prefix}/task/${segment(node.id)}"><g class="node state-${cssToken(state)}" data-node="${node.id}" data-state="${state}" transform="translate(${r(drawn.x)},${r(drawn.y)})"><title>${node.task} ${node.id}
${state}${why === null ? '' : `: ${why}`}${node.result === undefined ? '' : `\nresult ${shorten(node.result, 200)}`}${node.error === undefined ? '' : `\n${node.error.name}: ${shorten(node.error.message, 200)}`}</title><rect width="${r(drawn.width)}" height="${r(drawn.height)}" rx="7"/><rect class="bar" width="5" height="${r(drawn.height)}" rx="2"/><text x="14" y="19">${shorten(node.task, Math.floor((drawn.width - 24) / 7.4))}</text><text class="sub" x="14" y="35"><tspan class="state-label">${state}</tspan> · #${node.index}${node.role === 'task' ? '' : ` · ${node.role}`}</text></g></a>`;
})}
</svg>`;
}

/**
 * Why a task has not finished, in words; null when it has.
 *
 * @param node - the task
 * @param nodes - every listed task, by id
 * @param workers - the workers (to tell whether anyone consumes its queue), if known
 * @param tasks - task events (where it runs), if known
 * @returns the reason
 */
export function reason(
  node: WorkflowNode,
  nodes: ReadonlyMap<string, WorkflowNode>,
  workers: readonly WorkerStatus[] | null,
  tasks: TaskTable | undefined,
): string | null {
  if (ENDED.has(node.state)) return null;
  const name = (id: string): string => {
    const other = nodes.get(id);
    return other === undefined ? shorten(id, 16) : `${other.task} #${other.index}`;
  };
  if (node.state === 'PENDING' && node.waitingOn.length > 0) {
    const failed = node.waitingOn.filter((id) => {
      const state = nodes.get(id)?.state;
      return state === 'FAILURE' || state === 'REVOKED';
    });
    if (failed.length > 0) return `will not run: ${listed(failed.map(name))} ${failed.length === 1 ? 'has' : 'have'} failed or been revoked`;
    return `waiting on ${listed(node.waitingOn.map(name))}`;
  }
  const record = tasks?.get(node.id);
  const shown = shownState(node, tasks);
  if (shown === 'STARTED' || shown === 'RETRY') {
    return record?.worker === null || record?.worker === undefined ? 'running' : `running on ${record.worker}`;
  }
  if (shown === 'RECEIVED') return `received by ${record?.worker ?? 'a worker'}, about to run`;
  if (node.state === 'PENDING') {
    if (workers !== null && !workers.some((worker) => worker.online && worker.queues.includes(node.queue))) {
      return `in queue "${node.queue}", which no online worker consumes`;
    }
    if (node.options.countdown !== undefined || node.options.eta !== undefined) return `scheduled (countdown or eta), in queue "${node.queue}"`;
    return `in queue "${node.queue}", waiting for a worker`;
  }
  return null;
}

function listed(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  const shown = names.slice(0, 4);
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

/** What the details region needs. */
export interface WorkflowDetails {
  readonly prefix: string;
  readonly snapshot: WorkflowSnapshot;
  readonly drawing: Drawing;
  readonly workers: readonly WorkerStatus[];
  readonly tasks: TaskTable;
}

/** Tasks listed in the table at most. */
const LISTED = 200;

/**
 * The live details under the graph: state, group progress, why tasks wait, and the task list.
 *
 * @param details - the workflow and what it needs
 * @returns the HTML
 */
export function workflowDetails(details: WorkflowDetails): Html {
  const { snapshot, prefix } = details;
  const nodes = new Map(snapshot.nodes.map((node) => [node.id, node]));
  const states = new Map(snapshot.nodes.map((node) => [node.id, node.state as string]));
  const counts = new Map<string, number>();
  for (const node of snapshot.nodes) counts.set(node.state, (counts.get(node.state) ?? 0) + 1);
  const stuck = snapshot.nodes
    .map((node) => ({ node, why: reason(node, nodes, details.workers, details.tasks) }))
    .filter((entry): entry is { node: WorkflowNode; why: string } => entry.why !== null);
  const mores = details.drawing.nodes.filter((node) => node.kind === 'more');
  return html`
<div class="stats">
  <div class="stat"><div class="stat-badge">${badge(workflowState(snapshot.state, Object.fromEntries(counts)))}</div><span>state</span></div>
  <div class="stat"><b>${count(snapshot.size)}</b><span>tasks</span></div>
  ${['SUCCESS', 'STARTED', 'PENDING', 'FAILURE', 'REVOKED', 'RETRY'].map((state) =>
    counts.has(state) ? html`<div class="stat"><b>${count(counts.get(state)!)}</b><span>${state.toLowerCase()}</span></div>` : '',
  )}
</div>
${snapshot.truncated ? html`<div class="notice info">This workflow has ${count(snapshot.size)} tasks: the first ${count(snapshot.nodes.length)} are listed; the groups' progress counts them all.</div>` : ''}
${details.drawing.omitted > 0 ? html`<div class="notice info">${count(details.drawing.omitted)} listed tasks are not drawn (the graph shows at most a few hundred boxes); they are in the list below.</div>` : ''}
${
  snapshot.groups.length === 0
    ? ''
    : html`<div class="card flush"><h2>Groups</h2><table><thead><tr><th>Group</th><th>Progress</th><th class="num">Succeeded</th><th class="num">Failed</th><th class="num">Size</th></tr></thead><tbody>
${snapshot.groups.map(
  (group) => html`<tr data-label-for="${group.id}" data-label="${groupLabel(snapshot, group)}"><td><span class="mono">${shorten(group.id, 44)}</span><div class="muted">${groupLabel(snapshot, group)}</div></td>
<td><div class="progress"><i style="width:${pct(group.succeeded, group.size)}%"></i><i class="bad" style="left:${pct(group.succeeded, group.size)}%;width:${pct(group.failed, group.size)}%"></i></div></td>
<td class="num">${count(group.succeeded)}</td><td class="num">${count(group.failed)}</td><td class="num">${count(group.size)}</td></tr>`,
)}
${mores.map((more) => html`<tr hidden data-label-for="${more.id}" data-label="${moreLabel(more, states)}"><td colspan="5"></td></tr>`)}
</tbody></table></div>`
}
${
  stuck.length === 0
    ? ''
    : html`<div class="card"><h2>Not finished, and why</h2><ul class="why">
${stuck.slice(0, 50).map(({ node, why }) => html`<li><a href="${prefix}/task/${segment(node.id)}">${node.task} #${node.index}</a> ${badge(node.state)} ${why}</li>`)}
${stuck.length > 50 ? html`<li class="muted">and ${count(stuck.length - 50)} more</li>` : ''}
</ul></div>`
}
<div class="card flush"><h2>Tasks${snapshot.nodes.length > LISTED ? html` <span class="muted">(first ${LISTED} of ${count(snapshot.nodes.length)})</span>` : ''}</h2><table>
<thead><tr><th class="num">#</th><th>Task</th><th>Id</th><th>State</th><th>Queue</th><th>Result or error</th><th>Done</th></tr></thead><tbody>
${snapshot.nodes.slice(0, LISTED).map(
  (node) => html`<tr><td class="num">${node.index}</td><td>${node.task}${node.role === 'task' ? '' : html` <span class="pill">${node.role}</span>`}</td>
<td><a class="mono" href="${prefix}/task/${segment(node.id)}">${shorten(node.id, 42)}</a></td>
<td>${badge(shownState(node, details.tasks))}</td><td>${node.queue}</td>
<td class="cell-text" title="${node.result ?? (node.error === undefined ? '' : `${node.error.name}: ${node.error.message}`)}">${node.result ?? (node.error === undefined ? '' : `${node.error.name}: ${node.error.message}`)}</td>
<td>${time(node.doneAt)}</td></tr>`,
)}
</tbody></table></div>
<p class="muted">Applied ${time(snapshot.createdAt)}; laid out in ${duration(details.drawing.layoutMs)}.</p>`;
}

function pct(part: number, whole: number): string {
  return ((100 * part) / Math.max(1, whole)).toFixed(1);
}

function r(value: number): number {
  return Math.round(value * 10) / 10;
}
