/**
 * The life of one Server-Sent Events stream, shared by every live route: it ends when the client
 * goes away or the monitor closes, sends a comment every {@link KEEPALIVE_MS} so proxies keep it
 * open, and logs (never sends) what stopped it otherwise — the client sees the stream end and
 * reconnects.
 */
import type { SSEStreamingApi } from 'hono/streaming';
import type { MonitorContext } from '../context.js';

/** Milliseconds between keep-alive comments on an idle stream. */
export const KEEPALIVE_MS = 15_000;

/** What a stream's body gets: `signal` fires when the stream must end; `end` ends it. */
export interface Live {
  readonly signal: AbortSignal;
  readonly end: () => void;
}

/**
 * Runs `body` for as long as `stream` lives, then cleans up.
 *
 * @param what - names the stream in the log line if it fails, e.g. "an events stream"
 */
export async function runLiveStream(context: MonitorContext, stream: SSEStreamingApi, what: string, body: (live: Live) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const end = (): void => stop.abort();
  stream.onAbort(end);
  context.closing.addEventListener('abort', end, { once: true });
  const keepalive = setInterval(() => void stream.write(': keepalive\n\n').catch(end), KEEPALIVE_MS);
  try {
    await body({ signal: stop.signal, end });
  } catch (error) {
    if (!stop.signal.aborted) context.settings.logger?.warn(`monitor: ${what} stopped`, error);
  } finally {
    clearInterval(keepalive);
    context.closing.removeEventListener('abort', end);
  }
}
