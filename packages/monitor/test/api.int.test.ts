/**
 * The monitor's HTTP API and pages against a real Redis, a real worker with task events on, and
 * the handler `createMonitor` returns: every route, the actions, and what they refuse.
 */
import { chord } from '@celeriac/canvas';
import { createMonitor, type MonitorHandler } from '@celeriac/monitor';
import type { App, StoredTaskEvent } from '@celeriac/runtime';
import { describe, expect, it } from 'vitest';
import { call, closeAfter, errorOf, json, recordingLogger, testApp, until } from './helpers.js';

const T = { timeout: 15_000 };

interface Setup {
  app: App;
  monitor: MonitorHandler;
  worker: ReturnType<App['worker']>;
  ids: { chord: string; member: string; failed: string };
}

/** An app with a worker (events on), a finished chord and a failed task, and its monitor. */
async function setup(options: Parameters<typeof createMonitor>[1] = {}): Promise<Setup> {
  const app = testApp();
  const add = app.task('add', (x: number, y: number) => x + y);
  const tsum = app.task('tsum', (numbers: number[]) => numbers.reduce((a, b) => a + b, 0));
  const boom = app.task('boom', (text: string): number => {
    throw new TypeError(`cannot take ${text}`);
  });
  const worker = app.worker({ taskEvents: true, name: 'w1@test', concurrency: 4 });
  await worker.waitUntilReady();
  const monitor = createMonitor(app, options);
  closeAfter(() => monitor.close());
  const total = await app.apply(chord([add.s(1, 1), add.s(2, 2)], tsum.s()));
  expect(await total.get(T)).toBe(6);
  const failed = await app.apply(boom.s('<script>alert(1)</script>'));
  await expect(failed.get(T)).rejects.toThrow(/cannot take/);
  const snapshot = await app.workflow(total.id);
  const ids = { chord: total.id, member: snapshot.nodes[0]!.id, failed: failed.id };
  // The monitor has read every event of those tasks.
  const auth = typeof options.basicAuth === 'string' ? { authorization: `Basic ${btoa(options.basicAuth.split(',')[0]!)}` } : undefined;
  await until(async () => {
    const tasks = await json(call(monitor, '/api/tasks?limit=100', auth === undefined ? {} : { headers: auth }));
    return Object.keys(tasks).length === 4 && (tasks[failed.id] as { state: string }).state === 'FAILURE';
  }, 10_000, 'the task events');
  return { app, monitor, worker, ids };
}

describe('monitor API: reading', () => {
  it('answers the health check, workers, tasks, task info and types in Flower’s shapes', async () => {
    const { monitor, ids } = await setup();
    const health = await call(monitor, '/healthcheck');
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('OK');

    const workers = await json<Record<string, { stats: { pid: number }; registered: string[]; active_queues: { name: string }[]; presence: { online: boolean } }>>(call(monitor, '/api/workers'));
    expect(Object.keys(workers)).toEqual(['w1@test']);
    expect(workers['w1@test']!.stats.pid).toBe(process.pid);
    expect(workers['w1@test']!.registered).toEqual(expect.arrayContaining(['add', 'boom', 'tsum']));
    expect(workers['w1@test']!.active_queues).toEqual([{ name: 'default' }]);
    expect(workers['w1@test']!.presence.online).toBe(true);
    expect(await json(call(monitor, '/api/workers?status=true'))).toEqual({ 'w1@test': true });
    expect(await json(call(monitor, '/api/workers?workername=nobody'), 404)).toEqual({ error: "Unknown worker 'nobody'" });

    const tasks = await json<Record<string, Record<string, unknown>>>(call(monitor, '/api/tasks'));
    expect(Object.keys(tasks)[0]).toBe(ids.failed); // newest first
    const failed = tasks[ids.failed]!;
    expect(failed).toMatchObject({ uuid: ids.failed, name: 'boom', state: 'FAILURE', worker: 'w1@test', args: '["<script>alert(1)</script>"]', exception: 'TypeError: cannot take <script>alert(1)</script>' });
    expect(failed['traceback']).toMatch(/^TypeError: cannot take/);
    // Flower's units: epoch seconds.
    expect(failed['received']).toBeGreaterThan(1e9);
    expect(failed['received']).toBeLessThan(1e11);
    const member = tasks[ids.member]!;
    expect(member).toMatchObject({ name: 'add', state: 'SUCCESS', result: '2', workflow_id: ids.chord, group_id: expect.any(String) });
    expect(typeof member['runtime']).toBe('number');

    expect(Object.keys(await json(call(monitor, '/api/tasks?state=FAILURE')))).toEqual([ids.failed]);
    expect(Object.keys(await json(call(monitor, '/api/tasks?taskname=add')))).toHaveLength(2);
    expect(Object.keys(await json(call(monitor, '/api/tasks?workername=w1@test&limit=3')))).toHaveLength(3);
    expect(Object.keys(await json(call(monitor, '/api/tasks?limit=2&offset=2')))).toHaveLength(2);
    expect(Object.keys(await json(call(monitor, '/api/tasks?search=SCRIPT')))).toEqual([ids.failed]);
    expect(Object.keys(await json(call(monitor, '/api/tasks?sort_by=name&limit=1')))).toHaveLength(1);
    expect((await json(call(monitor, '/api/tasks?sort_by=bogus'), 400)).error).toMatch(/sort_by/);
    expect((await json(call(monitor, '/api/tasks?limit=0'), 400)).error).toMatch(/limit/);

    expect(await json(call(monitor, `/api/task/info/${ids.member}`))).toMatchObject({ uuid: ids.member, state: 'SUCCESS', result: '2' });
    expect(await json(call(monitor, '/api/task/info/no-such-task'), 404)).toEqual({ error: "Unknown task 'no-such-task'" });
    expect((await json<{ 'task-types': string[] }>(call(monitor, '/api/task/types')))['task-types']).toEqual(['add', 'boom', 'tsum']);
  });

  it('answers results, queue lengths, workflows, one workflow from any of its ids, and metrics', async () => {
    const { monitor, ids } = await setup();
    expect(await json(call(monitor, `/api/task/result/${ids.chord}`))).toEqual({ 'task-id': ids.chord, state: 'SUCCESS', result: 6 });
    const failed = await json(call(monitor, `/api/task/result/${ids.failed}`));
    expect(failed).toMatchObject({ 'task-id': ids.failed, state: 'FAILURE', result: expect.stringContaining('cannot take') });
    expect(failed['traceback']).toMatch(/TypeError: cannot take/);
    expect((await json(call(monitor, '/api/task/result/nope'), 404)).error).toMatch(/No result with id "nope"/);
    expect((await json(call(monitor, `/api/task/result/${ids.chord}?timeout=-1`), 400)).error).toMatch(/timeout/);

    const queues = await json<{ active_queues: { name: string; messages: number; completed: number }[] }>(call(monitor, '/api/queues/length'));
    expect(queues.active_queues).toEqual([expect.objectContaining({ name: 'default', messages: 0, waiting: 0 })]);

    const workflows = await json<{ workflows: { id: string; state: string }[]; scanned: number }>(call(monitor, '/api/workflows'));
    expect(workflows.workflows.map((w) => [w.id, w.state])).toEqual([
      [ids.failed, 'FAILURE'],
      [ids.chord, 'SUCCESS'],
    ]);
    const workflow = await json<{ id: string; nodes: { id: string; state: string; result?: string }[]; edges: unknown[]; groups: { size: number; succeeded: number }[] }>(
      call(monitor, `/api/workflow/${ids.member}`),
    );
    expect(workflow.id).toBe(ids.chord);
    expect(workflow.nodes.map((n) => [n.state, n.result])).toEqual([
      ['SUCCESS', '2'],
      ['SUCCESS', '4'],
      ['SUCCESS', '6'],
    ]);
    expect(workflow.edges).toHaveLength(2);
    expect(workflow.groups).toEqual([expect.objectContaining({ size: 2, succeeded: 2 })]);
    expect((await json(call(monitor, '/api/workflow/nope'), 404)).error).toMatch(/nope/);
    expect((await json(call(monitor, `/api/workflow/${ids.chord}?limit=x`), 400)).error).toMatch(/limit/);

    const metrics = await call(monitor, '/metrics');
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await metrics.text();
    expect(text).toContain('celeriac_tasks{name="add",state="SUCCESS"} 2');
    expect(text).toContain('celeriac_tasks{name="boom",state="FAILURE"} 1');
    expect(text).toContain('celeriac_task_runtime_seconds_count{name="tsum"} 1');
    expect(text).toContain('celeriac_queue_length{queue="default",state="completed"}');
    expect(text).toContain('celeriac_worker_online{worker="w1@test"} 1');
    expect(text).toContain('celeriac_workers_online 1');
  });

  it('serves every page as escaped HTML under a strict Content-Security-Policy, and its static files', async () => {
    const { monitor, ids } = await setup();
    for (const path of ['/', '/workers', '/worker/w1@test', '/tasks', '/tasks?state=FAILURE&taskname=boom&search=x&sort_by=-runtime&limit=20', `/task/${ids.failed}`, `/task/${ids.member}`, `/workflow/${ids.member}`, '/workflows', '/broker']) {
      const res = await call(monitor, path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy'), path).toMatch(/script-src 'self'/);
      const page = await res.text();
      expect(page, path).not.toContain('<script>alert');
    }
    const failedPage = await (await call(monitor, `/task/${ids.failed}`)).text();
    expect(failedPage).toContain('cannot take &lt;script&gt;alert(1)&lt;/script&gt;');
    const tasksPage = await (await call(monitor, '/tasks')).text();
    expect(tasksPage).toContain('[&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;]');
    const workflowPage = await (await call(monitor, `/workflow/${ids.chord}`)).text();
    expect(workflowPage).toContain('<svg class="graph"');
    expect(workflowPage).toContain('chord header · 2/2 header results in');
    expect((workflowPage.match(/class="node state-SUCCESS"/g) ?? []).length).toBe(3);

    const script = await call(monitor, '/static/monitor.js?v=1');
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toContain('EventSource');
    expect((await call(monitor, '/static/monitor.css')).headers.get('content-type')).toMatch(/^text\/css/);
    expect((await call(monitor, '/static/nothing.js')).status).toBe(404);
    expect((await call(monitor, '/no/such/page')).status).toBe(404);
    expect((await call(monitor, '/task/no-such-task')).status).toBe(404);
    // A group's id leads to its workflow.
    const snapshot = await json<{ groups: { id: string }[] }>(call(monitor, `/api/workflow/${ids.chord}`));
    const group = await call(monitor, `/task/${snapshot.groups[0]!.id}`);
    expect(group.status).toBe(302);
    expect(group.headers.get('location')).toBe(`/workflow/${encodeURIComponent(snapshot.groups[0]!.id)}`);
  });

  it('streams task events over SSE with their stream ids, and resumes after Last-Event-ID', async () => {
    const { app, monitor } = await setup();
    const add = app.task('add2', (x: number) => x + 1);
    app.worker({ taskEvents: true, name: 'w2@test', queues: ['q2'] });
    const abort = new AbortController();
    const res = await monitor(new Request('http://127.0.0.1:5555/api/events?types=task-succeeded', { signal: abort.signal }));
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const result = await app.apply(add.s(41), { queue: 'q2' });
    expect(await result.get(T)).toBe(42);
    let text = '';
    await until(async () => {
      const { value } = await reader.read();
      text += value ?? '';
      return text.includes(`"taskId":"${result.id}"`);
    });
    abort.abort();
    const message = text.split('\n\n').find((block) => block.includes(result.id))!;
    expect(message).toMatch(/^id: \d+-\d+$/m);
    expect(message).toMatch(/^event: task-succeeded$/m);
    const event = JSON.parse(/^data: (.*)$/m.exec(message)![1]!) as StoredTaskEvent;
    expect(event).toMatchObject({ type: 'task-succeeded', taskId: result.id, result: '42' });

    // Resume from an id: every later event comes, in order (here the received/started of that task).
    const history = await app.events.history({ limit: 10, taskId: result.id });
    const receivedId = history.events.find((e) => e.type === 'task-received')!.id;
    const again = new AbortController();
    const resumed = await monitor(new Request('http://127.0.0.1:5555/api/events', { headers: { 'Last-Event-ID': receivedId }, signal: again.signal }));
    const resumedReader = resumed.body!.pipeThrough(new TextDecoderStream()).getReader();
    let resumedText = '';
    await until(async () => {
      const { value } = await resumedReader.read();
      resumedText += value ?? '';
      return resumedText.includes('event: task-succeeded');
    });
    again.abort();
    expect(resumedText).not.toContain(`id: ${receivedId}\n`);
    expect(resumedText.indexOf('event: task-started')).toBeLessThan(resumedText.indexOf('event: task-succeeded'));
    expect((await json(call(monitor, '/api/events', { headers: { 'Last-Event-ID': 'yesterday' } }), 400)).error).toMatch(/Last-Event-ID/);
    expect((await json(call(monitor, '/api/events?types=task-bogus'), 400)).error).toMatch(/task-bogus/);
  });

  it("streams a workflow's node states until every node has ended", async () => {
    const { app, monitor } = await setup();
    const slow = app.task('slow', async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return x;
    });
    const tsum = app.task('tsum2', (numbers: number[]) => numbers.reduce((a, b) => a + b, 0));
    const result = await app.apply(chord([slow.s(1), slow.s(2)], tsum.s()));
    const res = await call(monitor, `/api/workflow/${result.id}/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text(); // ends by itself once every node has ended
    const changes = [...text.matchAll(/^event: node\ndata: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { id: string; state: string });
    expect(changes.filter((c) => c.state === 'SUCCESS').map((c) => c.id).sort()).toEqual((await app.workflow(result.id)).nodes.map((n) => n.id).sort());
    expect(text).toMatch(/event: done\n/);
    expect((await call(monitor, '/api/workflow/nope/events')).status).toBe(404);
  });
});

describe('monitor without task events', () => {
  it('says how to turn them on, and lists the workflows and their states from the store', async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker({ name: 'quiet@test' });
    const done = await app.apply(add.s(1, 2));
    expect(await done.get(T)).toBe(3);
    const waiting = await app.apply(add.s(3, 4), { queue: 'idle' });
    const monitor = createMonitor(app);
    closeAfter(() => monitor.close());
    const page = await (await call(monitor, '/tasks')).text();
    expect(page).toContain('No task events have been recorded');
    expect(page).toContain('<code>celeriac -A app worker -E</code>');
    expect(page).toContain('<code>app.worker({ taskEvents: true })</code>');
    expect(page).toContain(`href="/workflow/${done.id}"`);
    expect(page).toContain(`href="/workflow/${waiting.id}"`);
    expect(page.indexOf(waiting.id)).toBeLessThan(page.indexOf(done.id)); // newest first
    expect(await json(call(monitor, '/api/tasks'))).toEqual({});
    // The task and workflow pages work from the store.
    const task = await (await call(monitor, `/task/${done.id}`)).text();
    expect(task).toContain('id="task-result">3</pre>');
    const workers = await (await call(monitor, '/workers')).text();
    expect(workers).toMatch(/<code>quiet@test<\/code> sends no task events/);
  });
});

describe('monitor API: acting', () => {
  it('applies a task by name, revokes, retries a failed task, and refuses unknown names and bad bodies', async () => {
    const { app, monitor, ids } = await setup();
    const applied = await json<{ 'task-id': string; state: string }>(call(monitor, '/api/task/async-apply/add', { method: 'POST', body: JSON.stringify({ args: [20, 22] }) }));
    expect(applied.state).toBe('PENDING');
    expect(await (await app.result(applied['task-id'])).get(T)).toBe(42);
    const withOptions = await json<{ 'task-id': string }>(
      call(monitor, '/api/task/async-apply/add', { method: 'POST', body: JSON.stringify({ args: [1], kwargs: {}, options: { queue: 'nobody' } }), headers: { 'content-type': 'application/json' } }),
    );
    expect((await app.workflow(withOptions['task-id'])).nodes[0]!.queue).toBe('nobody');
    expect((await json(call(monitor, '/api/task/async-apply/nope', { method: 'POST', body: '{}' }), 404)).error).toMatch(/Unknown task 'nope'/);
    expect((await json(call(monitor, '/api/task/async-apply/add', { method: 'POST', body: 'args=1' }), 400)).error).toMatch(/not JSON/);
    expect((await json(call(monitor, '/api/task/async-apply/add', { method: 'POST', body: '{"args": 1}' }), 400)).error).toMatch(/args/);
    expect((await json(call(monitor, '/api/task/async-apply/add', { method: 'POST', body: '{"options": {"countdown": "soon"}}' }), 400)).error).toMatch(/countdown/);

    // The task sent to a queue nobody consumes: revoke it.
    const revoked = await json<{ message: string; revoked: string[] }>(call(monitor, `/api/task/revoke/${withOptions['task-id']}?terminate=true`, { method: 'POST' }));
    expect(revoked.revoked).toEqual([withOptions['task-id']]);
    expect(await (await app.result(withOptions['task-id'])).state()).toBe('REVOKED');
    expect((await json(call(monitor, '/api/task/revoke/nope', { method: 'POST' }), 404)).error).toMatch(/nope/);

    const retried = await json<{ 'task-id': string; message: string }>(call(monitor, `/api/task/retry/${ids.failed}`, { method: 'POST' }));
    expect(retried['task-id']).not.toBe(ids.failed);
    await expect((await app.result(retried['task-id'])).get(T)).rejects.toThrow(/cannot take <script>/);
  });

  it('controls a worker: consumers, pool, rate limit, shut down; unknown workers are 404', async () => {
    const { app, monitor, worker } = await setup();
    const post = (path: string) => json<{ message: string }>(call(monitor, path, { method: 'POST' }));
    expect((await post('/api/worker/queue/add-consumer/w1@test?queue=extra')).message).toMatch(/w1@test/);
    expect(worker.queues).toEqual(['default', 'extra']);
    await post('/api/worker/queue/cancel-consumer/w1@test?queue=extra');
    expect(worker.queues).toEqual(['default']);
    await post('/api/worker/pool/grow/w1@test?n=2');
    expect(worker.concurrency).toBe(6);
    await post('/api/worker/pool/shrink/w1@test');
    expect(worker.concurrency).toBe(5);
    expect((await post('/api/task/rate-limit/w1@test?taskname=add&ratelimit=10/s')).message).toMatch(/rate limit/);
    expect((await json(call(monitor, '/api/task/rate-limit/w1@test?taskname=add&ratelimit=fast', { method: 'POST' }), 400)).error).toMatch(/rate/);
    expect((await json(call(monitor, '/api/worker/queue/add-consumer/w1@test', { method: 'POST' }), 400)).error).toMatch(/queue/);
    expect((await json(call(monitor, '/api/worker/pool/grow/w1@test?n=0', { method: 'POST' }), 400)).error).toMatch(/n must/);
    expect((await json(call(monitor, '/api/worker/shutdown/nobody', { method: 'POST' }), 404)).error).toMatch(/Unknown worker 'nobody'/);

    expect((await post('/api/worker/shutdown/w1@test')).message).toMatch(/w1@test/);
    await until(async () => (await app.control.workers()).every((w) => !w.online), 15_000, 'the worker to stop');
  });

  it('purges a queue after checking it exists', async () => {
    const { app, monitor } = await setup();
    const add = app.task('add3', (x: number) => x);
    const waiting = await Promise.all([1, 2, 3].map((n) => app.apply(add.s(n), { queue: 'idle' })));
    expect((await json(call(monitor, '/api/queues/purge?queue=nowhere', { method: 'POST' }), 404)).error).toMatch(/nowhere/);
    expect((await json(call(monitor, '/api/queues/purge', { method: 'POST' }), 400)).error).toMatch(/queue/);
    expect(await json(call(monitor, '/api/queues/purge?queue=idle', { method: 'POST' }))).toEqual({ message: 'Purged 3 tasks from idle', purged: 3 });
    for (const result of waiting) expect(await result.state()).toBe('REVOKED');
  });

  it('takes state-changing requests by POST only (405 otherwise, and nothing happens)', async () => {
    const { app, monitor } = await setup();
    const add = app.task('add4', (x: number) => x);
    const waiting = await app.apply(add.s(1), { queue: 'idle' });
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await call(monitor, `/api/task/revoke/${waiting.id}`, { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
    expect((await call(monitor, '/api/worker/shutdown/w1@test')).status).toBe(405);
    expect(await waiting.state()).toBe('PENDING');
  });
});

describe('monitor API: safety', () => {
  const admin = { authorization: `Basic ${btoa('admin:s3cret')}` };

  it('asks for basic auth (401) on every route but the health check', async () => {
    const { monitor } = await setup({ basicAuth: 'admin:s3cret,ops:other' });
    for (const path of ['/', '/tasks', '/api/workers', '/api/tasks', '/metrics', '/static/monitor.js', '/api/events']) {
      const res = await call(monitor, path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toBe('Basic realm="Celeriac monitor", charset="UTF-8"');
    }
    expect((await call(monitor, '/api/task/revoke/x', { method: 'POST' })).status).toBe(401);
    expect((await call(monitor, '/tasks', { headers: { authorization: `Basic ${btoa('admin:wrong')}` } })).status).toBe(401);
    expect((await call(monitor, '/healthcheck')).status).toBe(200);
    expect((await call(monitor, '/tasks', { headers: admin })).status).toBe(200);
    expect((await call(monitor, '/api/workers', { headers: { authorization: `Basic ${btoa('ops:other')}` } })).status).toBe(200);
  });

  it('refuses cross-site posts (403) even with valid credentials, and a page session’s post without its token', async () => {
    const { app, monitor } = await setup({ basicAuth: 'admin:s3cret' });
    const add = app.task('add5', (x: number) => x);
    const waiting = await app.apply(add.s(1), { queue: 'idle' });
    const revoke = `/api/task/revoke/${waiting.id}`;
    for (const headers of [{ origin: 'https://evil.example' }, { referer: 'https://evil.example/x' }, { 'sec-fetch-site': 'cross-site' }, { origin: 'null' }]) {
      const res = await call(monitor, revoke, { method: 'POST', headers: { ...admin, ...headers } });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect((await errorOf(res))).toMatch(/Cross-site request refused/);
    }
    // A page session: the cookie set by a page, and the token the page holds.
    const page = await call(monitor, '/tasks', { headers: admin });
    const cookie = page.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const session = cookie.split(';')[0]!;
    const token = /data-csrf="([^"]+)"/.exec(await page.text())![1]!;
    const noToken = await call(monitor, revoke, { method: 'POST', headers: { ...admin, cookie: session, origin: 'http://127.0.0.1:5555' } });
    expect(noToken.status).toBe(403);
    expect((await errorOf(noToken))).toMatch(/CSRF token/);
    const wrongToken = await call(monitor, revoke, { method: 'POST', headers: { ...admin, cookie: session, 'x-csrf-token': `${token}x` } });
    expect(wrongToken.status).toBe(403);
    expect(await waiting.state()).toBe('PENDING');
    // The page's own post, and a script's (no Origin, no cookie), pass.
    const fromPage = await call(monitor, revoke, { method: 'POST', headers: { ...admin, cookie: session, 'x-csrf-token': token, origin: 'http://127.0.0.1:5555' } });
    expect(fromPage.status).toBe(200);
    expect(await waiting.state()).toBe('REVOKED');
    const other = await app.apply(add.s(2), { queue: 'idle' });
    expect((await call(monitor, `/api/task/revoke/${other.id}`, { method: 'POST', headers: admin })).status).toBe(200);
  });

  it('hides every action and refuses every state-changing request in read-only mode', async () => {
    const { app, monitor, ids } = await setup({ readOnly: true });
    const add = app.task('add6', (x: number) => x);
    const waiting = await app.apply(add.s(1), { queue: 'idle' });
    for (const path of ['/workers', '/tasks', `/task/${ids.failed}`, `/task/${waiting.id}`, `/workflow/${waiting.id}`, '/broker']) {
      const page = await (await call(monitor, path)).text();
      expect(page, path).not.toContain('data-api=');
      expect(page, path).toContain('read-only');
    }
    for (const path of [`/api/task/revoke/${waiting.id}`, '/api/task/async-apply/add', `/api/task/retry/${ids.failed}`, '/api/worker/shutdown/w1@test', '/api/worker/pool/grow/w1@test', '/api/queues/purge?queue=idle']) {
      const res = await call(monitor, path, { method: 'POST', body: '{}' });
      expect(res.status, path).toBe(403);
      expect((await errorOf(res))).toMatch(/read-only/);
    }
    expect(await waiting.state()).toBe('PENDING');
    expect((await app.control.workers())[0]!.online).toBe(true);
    expect((await call(monitor, '/api/workers')).status).toBe(200);
  });

  it('answers a server error with a generic message, never a stack, and logs the error', async () => {
    const logger = recordingLogger();
    const app = testApp();
    const monitor = createMonitor(app, { logger });
    closeAfter(() => monitor.close());
    expect((await call(monitor, '/api/queues/length')).status).toBe(200);
    await app.close();
    for (const path of ['/api/queues/length', '/broker']) {
      const res = await call(monitor, path);
      expect(res.status, path).toBe(500);
      const body = await res.text();
      expect(body, path).toContain('Internal Server Error: the monitor logged the details.');
      expect(body, path).not.toMatch(/\bat \S+ \(|ClosedError|closed/i);
    }
    expect(logger.lines.filter((line) => line.level === 'error').map((line) => (line.detail as Error).name)).toContain('ClosedError');
  });
});
