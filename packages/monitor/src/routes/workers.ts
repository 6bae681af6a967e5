/**
 * Workers: `GET /api/workers` (Flower's shape, plus presence), the worker actions
 * (`POST /api/worker/shutdown/:name`, `…/queue/add-consumer/:name?queue=`,
 * `…/queue/cancel-consumer/:name?queue=`, `…/pool/grow/:name?n=`, `…/pool/shrink/:name?n=`,
 * `POST /api/task/rate-limit/:name?taskname=&ratelimit=`), and the pages `/workers` and
 * `/worker/:name`.
 */
import { isCommandFailure, type BroadcastOptions, type OkReply, type Replies, type WorkerStatus } from '@celeriac/runtime';
import { Hono, type Context } from 'hono';
import type { MonitorContext, MonitorEnv } from '../context.js';
import { html } from '../html.js';
import { clientError, renderPage, together } from '../respond.js';
import { workerRegion, workersRegion } from '../views/workers.js';

/** Redis's clock now, from the newest heartbeat; the local clock when no worker is known. */
export function redisNow(workers: readonly WorkerStatus[]): number {
  const worker = workers[0];
  return worker === undefined ? Date.now() : worker.lastHeartbeat + worker.heartbeatAge;
}

/**
 * Whether each worker sends task events: an event from it as recent as its last heartbeat
 * (within three heartbeat intervals and a margin for clock skew).
 */
export function eventsByWorker(context: MonitorContext, workers: readonly WorkerStatus[]): Map<string, boolean> {
  return new Map(
    workers.map((worker) => {
      const seen = context.tasks.workers.get(worker.name);
      const on = seen !== undefined && !seen.offline && Math.abs(worker.lastHeartbeat - seen.lastEvent) <= 3 * worker.heartbeatInterval + 5_000;
      return [worker.name, on];
    }),
  );
}

/**
 * Sends one control command to one worker and answers with its reply: 404 for a worker presence
 * does not know, 504 when it does not answer in time, 400 with its error when it refuses.
 */
async function command(
  c: Context<MonitorEnv>,
  context: MonitorContext,
  send: (options: BroadcastOptions) => Promise<Replies<OkReply>>,
): Promise<Response> {
  const name = c.req.param('name') ?? '';
  const workers = await context.app.control.workers();
  if (!workers.some((worker) => worker.name === name)) throw clientError(404, `Unknown worker '${name}': no worker of this app has that name`);
  const timeout = context.settings.inspectTimeout;
  const replies = await send({ destination: [name], timeout });
  const reply = Object.hasOwn(replies, name) ? replies[name] : undefined;
  if (reply === undefined) throw clientError(504, `Worker '${name}' did not answer within ${timeout} ms: it may be offline or busy`);
  if (isCommandFailure(reply)) throw clientError(400, `${name}: ${reply.error}`);
  return c.json({ message: `${name}: ${reply.ok}` });
}

/** A required query parameter, or a 400 naming it. */
function required(c: Context<MonitorEnv>, parameter: string): string {
  const value = c.req.query(parameter);
  if (value === undefined || value === '') throw clientError(400, `Missing query parameter '${parameter}'`);
  return value;
}

/** `n` for the pool commands: a whole number from 1, default 1. */
function poolSteps(c: Context<MonitorEnv>): number {
  const text = c.req.query('n') ?? '1';
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 10_000) throw clientError(400, `n must be a whole number from 1 to 10000, got '${text}'`);
  return n;
}

/**
 * The routes.
 *
 * @param context - the monitor
 * @returns a Hono app to mount at the monitor's root
 */
export function workerRoutes(context: MonitorContext): Hono<MonitorEnv> {
  const routes = new Hono<MonitorEnv>();
  const { app } = context;

  routes.get('/api/workers', async (c) => {
    const workers = await app.control.workers();
    const only = c.req.query('workername');
    const chosen = only === undefined || only === '' ? workers : workers.filter((worker) => worker.name === only);
    if (only !== undefined && only !== '' && chosen.length === 0) throw clientError(404, `Unknown worker '${only}'`);
    if (c.req.query('status') === 'true' || c.req.query('status') === '1') {
      return c.json(Object.fromEntries(chosen.map((worker) => [worker.name, worker.online])));
    }
    const online = chosen.filter((worker) => worker.online).map((worker) => worker.name);
    const inspect = app.control.inspect({ destination: online, timeout: context.settings.inspectTimeout });
    const [stats, activeQueues, registered, scheduled, active, reserved, revoked] =
      online.length === 0
        ? [{}, {}, {}, {}, {}, {}, {}]
        : await Promise.all([inspect.stats(), inspect.activeQueues(), inspect.registered(), inspect.scheduled(), inspect.active(), inspect.reserved(), inspect.revoked()]);
    const pick = <T>(replies: Replies<T>, name: string): T | null => {
      const reply = Object.hasOwn(replies, name) ? replies[name] : undefined;
      return reply === undefined || isCommandFailure(reply) ? null : reply;
    };
    return c.json(
      Object.fromEntries(
        chosen.map((worker) => [
          worker.name,
          {
            stats: pick(stats, worker.name),
            active_queues: pick(activeQueues, worker.name),
            registered: pick(registered, worker.name),
            scheduled: pick(scheduled, worker.name),
            active: pick(active, worker.name),
            reserved: pick(reserved, worker.name),
            revoked: pick(revoked, worker.name),
            presence: worker,
          },
        ]),
      ),
    );
  });

  routes.post('/api/worker/shutdown/:name', (c) => command(c, context, (options) => app.control.shutdown(options)));
  routes.post('/api/worker/queue/add-consumer/:name', (c) => {
    const queue = required(c, 'queue');
    return command(c, context, (options) => app.control.addConsumer(queue, options));
  });
  routes.post('/api/worker/queue/cancel-consumer/:name', (c) => {
    const queue = required(c, 'queue');
    return command(c, context, (options) => app.control.cancelConsumer(queue, options));
  });
  routes.post('/api/worker/pool/grow/:name', (c) => {
    const n = poolSteps(c);
    return command(c, context, (options) => app.control.poolGrow(n, options));
  });
  routes.post('/api/worker/pool/shrink/:name', (c) => {
    const n = poolSteps(c);
    return command(c, context, (options) => app.control.poolShrink(n, options));
  });
  // Flower's path: the worker is in the path, the task and the rate in the query.
  routes.post('/api/task/rate-limit/:name', (c) => {
    const task = required(c, 'taskname');
    const rate = required(c, 'ratelimit');
    return command(c, context, (options) => app.control.rateLimit(task, /^\d+(\.\d+)?$/.test(rate) ? Number(rate) : rate, options));
  });

  const workersPage = async (c: Context<MonitorEnv>): Promise<Response> => {
    const [workers, queues] = await together(() => app.control.workers(), () => app.queues());
    const region = workersRegion({
      prefix: context.settings.prefix,
      readOnly: context.settings.readOnly,
      workers,
      queues,
      events: eventsByWorker(context, workers),
      now: redisNow(workers),
    });
    const body = html`<h1>Workers <span class="live" id="live-status">live</span></h1>
<p class="subtitle">Every worker of this app seen in the last hour; online from its heartbeats.</p>
<div id="workers-live" data-live="3000">${region}</div>`;
    return renderPage(c, context, { title: 'Workers', nav: 'workers', page: 'workers', body }, { 'workers-live': region });
  };
  routes.get('/', workersPage);
  routes.get('/workers', workersPage);

  routes.get('/worker/:name', async (c) => {
    const name = c.req.param('name');
    const workers = await app.control.workers();
    const worker = workers.find((w) => w.name === name);
    if (worker === undefined) throw clientError(404, `Unknown worker '${name}': no worker of this app has had that name in the last hour`);
    const inspect = app.control.inspect({ destination: [name], timeout: context.settings.inspectTimeout });
    const asked = worker.online
      ? await Promise.all([inspect.stats(), inspect.active(), inspect.reserved(), inspect.scheduled(), inspect.activeQueues()])
      : null;
    const pick = <T>(replies: Replies<T> | undefined): T | null => {
      const reply = replies !== undefined && Object.hasOwn(replies, name) ? replies[name] : undefined;
      return reply === undefined || isCommandFailure(reply) ? null : reply;
    };
    const failure = asked?.map((replies) => (replies as Record<string, unknown>)[name]).find(isCommandFailure);
    const region = workerRegion({
      prefix: context.settings.prefix,
      readOnly: context.settings.readOnly,
      worker,
      now: redisNow(workers),
      eventsOn: eventsByWorker(context, [worker]).get(name) === true,
      stats: pick(asked?.[0]),
      active: pick(asked?.[1]),
      reserved: pick(asked?.[2]),
      scheduled: pick(asked?.[3]),
      activeQueues: pick(asked?.[4]),
      error: !worker.online
        ? 'This worker is offline: what follows is its last record.'
        : failure !== undefined
          ? `The worker answered with an error: ${failure.error}`
          : asked !== null && pick(asked[0]) === null
            ? `The worker did not answer within ${context.settings.inspectTimeout} ms.`
            : null,
    });
    const body = html`<h1>${name} <span class="live" id="live-status">live</span></h1>
<p class="subtitle"><a href="${context.settings.prefix}/workers">All workers</a></p>
<div id="worker-live" data-live="4000">${region}</div>`;
    return renderPage(c, context, { title: name, nav: 'workers', page: 'worker', body }, { 'worker-live': region });
  });

  return routes;
}
