/**
 * `startMonitor(app, options)`: serves the monitor on Node.js's HTTP server, with Flower's flags
 * and safe defaults — 127.0.0.1:5555, and no address other machines can reach unless users are
 * given (`basicAuth`) or `insecure` says so. The `celeriac monitor` command is a thin wrapper over
 * it. The request listener is `@hono/node-server`'s (Node's `IncomingMessage` to a `Request` and
 * back, streaming included); it is loaded on the first call, so importing this package does not
 * load Node's HTTP modules.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { App } from '@celeriac/runtime';
import { createMonitor, type MonitorHandler } from './monitor.js';
import { parseListenOptions, parseMonitorOptions, type StartMonitorOptions } from './options.js';

/** A monitor being served. */
export interface RunningMonitor {
  /** Where to open it, e.g. `http://127.0.0.1:5555/` (with the URL prefix). */
  readonly url: string;
  /** The port it listens on (the one picked when `port` was 0). */
  readonly port: number;
  /** The address it listens on. */
  readonly address: string;
  /** The request handler, as `createMonitor` made it. */
  readonly handler: MonitorHandler;
  /** Stops listening, ends open connections (event streams included) and stops following events. The app stays open. */
  close(): Promise<void>;
}

/**
 * Serves the monitor for an app.
 *
 * @param app - the app to watch and act on; it stays the caller's to close
 * @param options - where to listen, and the monitor's options
 * @returns the running monitor, once it listens
 * @throws MonitorOptionError for a bad option, or (code `MONITOR_INSECURE`) an address other machines can reach without `basicAuth` or `insecure`; the server's error (such as EADDRINUSE) when it cannot listen
 *
 * @example
 * ```ts
 * const monitor = await startMonitor(app, { port: 5555, basicAuth: 'admin:s3cret', urlPrefix: '/flower' });
 * console.log(monitor.url); // http://127.0.0.1:5555/flower/
 * await monitor.close();
 * ```
 */
export async function startMonitor(app: App, options: StartMonitorOptions = {}): Promise<RunningMonitor> {
  const settings = parseMonitorOptions(options);
  const { port, address } = parseListenOptions(options, settings.users);
  const { port: _port, address: _address, insecure: _insecure, ...monitorOptions } = options;
  const [{ createServer }, { getRequestListener }] = await Promise.all([import('node:http'), import('@hono/node-server')]);
  const handler = createMonitor(app, monitorOptions);
  const listener = getRequestListener(handler, {
    // Leave the process's global Request and Response alone: the app shares them.
    overrideGlobalObjects: false,
    errorHandler: (error) => {
      settings.logger?.error('monitor: a request failed outside the handler', error);
      return new Response('Internal Server Error', { status: 500 });
    },
  });
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => void listener(request, response));
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await handler.close();
    throw error;
  }
  const bound = (server.address() as AddressInfo).port;
  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${bound}${settings.prefix}/`,
    port: bound,
    address,
    handler,
    close() {
      closed ??= (async () => {
        await handler.close();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // Event streams never end by themselves: close every connection rather than wait.
        for (const socket of sockets) socket.destroy();
        await stopped;
      })();
      return closed;
    },
  };
}
