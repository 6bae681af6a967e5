/**
 * `GET /api/events`: task and worker events as Server-Sent Events, live. Each message's `id` is
 * its stream id, so a client that reconnects (EventSource does by itself, sending
 * `Last-Event-ID`) resumes where it stopped without loss; `?after=<id>` does the same for a first
 * connection, and `?types=task-failed,task-succeeded` keeps only those types.
 */
import { TASK_EVENT_TYPES, type TaskEventType } from '@celeriac/runtime';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { MonitorContext, MonitorEnv } from '../context.js';
import { clientError } from '../respond.js';
import { runLiveStream } from './live-stream.js';

const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

/**
 * The route.
 *
 * @param context - the monitor
 * @returns a Hono app to mount at the monitor's root
 */
export function eventRoutes(context: MonitorContext): Hono<MonitorEnv> {
  const routes = new Hono<MonitorEnv>();
  routes.get('/api/events', (c) => {
    const after = c.req.header('last-event-id') ?? c.req.query('after') ?? '$';
    if (after !== '$' && !STREAM_ID.test(after)) throw clientError(400, `Last-Event-ID (or after) must be a stream id such as 1700000000000-0, got '${after}'`);
    const typesText = c.req.query('types');
    const types = typesText === undefined || typesText === '' ? null : new Set(typesText.split(','));
    for (const type of types ?? []) {
      if (!(TASK_EVENT_TYPES as readonly string[]).includes(type)) throw clientError(400, `Unknown event type '${type}': one of ${TASK_EVENT_TYPES.join(', ')}`);
    }
    return streamSSE(c, (stream) =>
      runLiveStream(context, stream, 'an events stream', async ({ signal }) => {
        // Tells the client the stream is open (EventSource fires `open` on the first bytes).
        await stream.write(': connected\n\n');
        for await (const event of context.app.events.tail({ after, signal })) {
          if (types !== null && !types.has(event.type as TaskEventType)) continue;
          await stream.writeSSE({ id: event.id, event: event.type, data: JSON.stringify(event) });
        }
      }),
    );
  });
  return routes;
}
