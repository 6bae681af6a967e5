/**
 * `startMonitor`: Flower's flags and safe defaults, served over real HTTP by Node.
 */
import { MonitorOptionError, startMonitor } from '@celeriac/monitor';
import { describe, expect, it } from 'vitest';
import { closeAfter, testApp } from './helpers.js';

describe('startMonitor', () => {
  it('listens on 127.0.0.1 by default and serves the pages, the API and the health check over HTTP', async () => {
    const app = testApp();
    const request = globalThis.Request;
    const monitor = await startMonitor(app, { port: 0 });
    closeAfter(() => monitor.close());
    expect(monitor.address).toBe('127.0.0.1');
    expect(monitor.url).toBe(`http://127.0.0.1:${monitor.port}/`);
    const page = await fetch(monitor.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h1>Workers');
    expect(await (await fetch(`${monitor.url}healthcheck`)).text()).toBe('OK');
    expect(await (await fetch(`${monitor.url}api/workers`)).json()).toEqual({});
    // The process's own Request class is left alone.
    expect(globalThis.Request).toBe(request);
  });

  it("serves under Flower's --url-prefix, with links under it", async () => {
    const app = testApp();
    const monitor = await startMonitor(app, { port: 0, urlPrefix: 'flower/' });
    closeAfter(() => monitor.close());
    expect(monitor.url).toBe(`http://127.0.0.1:${monitor.port}/flower/`);
    for (const path of ['/flower', '/flower/', '/flower/tasks', '/flower/api/queues/length', '/flower/healthcheck']) {
      expect((await fetch(`http://127.0.0.1:${monitor.port}${path}`)).status, path).toBe(200);
    }
    expect((await fetch(`http://127.0.0.1:${monitor.port}/tasks`)).status).toBe(404);
    const html = await (await fetch(monitor.url)).text();
    expect(html).toContain('href="/flower/tasks"');
    expect(html).toContain('src="/flower/static/monitor.js?v=');
    expect(html).toContain('data-prefix="/flower"');
  });

  it('refuses an address other machines can reach without basic auth, before listening', async () => {
    const app = testApp();
    const error = await startMonitor(app, { address: '0.0.0.0', port: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MonitorOptionError);
    expect((error as MonitorOptionError).code).toBe('MONITOR_INSECURE');
    await expect(startMonitor(app, { port: 70_000 })).rejects.toThrow(/port/);
    await expect(startMonitor(app, { basicAuth: 'nopassword' })).rejects.toThrow(/basicAuth/);
  });

  it('reports a port in use, and checks credentials and origins through Node’s server', async () => {
    const app = testApp();
    const first = await startMonitor(app, { port: 0, basicAuth: 'admin:s3cret' });
    closeAfter(() => first.close());
    await expect(startMonitor(app, { port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect((await fetch(`${first.url}api/workers`)).status).toBe(401);
    const auth = { authorization: `Basic ${Buffer.from('admin:s3cret').toString('base64')}` };
    expect((await fetch(`${first.url}api/workers`, { headers: auth })).status).toBe(200);
    const forged = await fetch(`${first.url}api/task/revoke/some-id`, { method: 'POST', headers: { ...auth, origin: 'https://evil.example' } });
    expect(forged.status).toBe(403);
  });

  it('closes promptly, ending open event streams', async () => {
    const app = testApp();
    const monitor = await startMonitor(app, { port: 0 });
    const stream = await fetch(`${monitor.url}api/events`);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();
    await reader.read(); // the stream is open
    const ended = (async () => {
      for (;;) {
        const chunk = await reader.read().catch(() => ({ done: true }));
        if (chunk.done) return true;
      }
    })();
    const started = Date.now();
    await monitor.close();
    expect(await ended).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(fetch(monitor.url)).rejects.toThrow();
  });
});
