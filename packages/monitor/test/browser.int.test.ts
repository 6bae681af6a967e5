/**
 * The monitor in a real browser: Debian's Chromium, driven headless by playwright-core (.ci/run
 * installs it when missing). A chord runs while its workflow page is open and its nodes turn to
 * success live; a click on a node opens its task and shows its result; markup in a task's
 * arguments stays text; a revoke from a task's page revokes; a failed task is retried. A
 * screenshot of the workflow page is written to test-output/monitor/ (or MONITOR_TEST_OUTPUT).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chord } from '@celeriac/canvas';
import { startMonitor } from '@celeriac/monitor';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeAfter, testApp, until } from './helpers.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const outputDir = process.env['MONITOR_TEST_OUTPUT'] ?? fileURLToPath(new URL('../../../test-output/monitor/', import.meta.url));
const T = { timeout: 20_000 };

// In CI the browser must be there (.ci/run installs it): the test fails rather than skip.
describe.skipIf(!present && process.env['CI'] === undefined)('monitor in a browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function newPage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    closeAfter(async () => {
      await page.close();
      // No script error and no CSP violation on any page the test visited.
      expect(problems).toEqual([]);
    });
    return page;
  }

  it('colours a running chord live, shows group progress, and opens a task from its node', { timeout: 60_000 }, async () => {
    const app = testApp();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // Opened before the app closes even if the test fails: the worker's graceful close waits for its tasks.
    closeAfter(async () => open());
    const step = app.task('step', async (x: number) => {
      await gate;
      return x * 10;
    });
    const tsum = app.task('tsum', (numbers: number[]) => numbers.reduce((a, b) => a + b, 0));
    app.worker({ taskEvents: true, trackStarted: true, concurrency: 4, name: 'w1@browser' });
    const monitor = await startMonitor(app, { port: 0 });
    closeAfter(() => monitor.close());
    const result = await app.apply(chord([step.s(1), step.s(2), step.s(3)], tsum.s()));

    const page = await newPage();
    await page.goto(`${monitor.url}workflow/${result.id}`);
    await page.locator('#live-status', { hasText: 'live' }).waitFor(T);
    const nodes = page.locator('svg.graph g.node[data-node]');
    expect(await nodes.count()).toBe(4);
    expect(await page.locator('svg.graph g.node.state-SUCCESS').count()).toBe(0);
    await expect.poll(() => page.locator('svg.graph g.node.state-STARTED').count(), T).toBe(3);
    await page.evaluate(() => ((globalThis as unknown as { stayed: boolean }).stayed = true));

    open();
    expect(await result.get(T)).toBe(60);
    // The same page, not reloaded: the nodes turned green over SSE.
    await expect.poll(() => page.locator('svg.graph g.node.state-SUCCESS').count(), T).toBe(4);
    expect(await page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed)).toBe(true);
    await expect.poll(() => page.locator('svg.graph text[data-label-id]').first().textContent(), T).toBe('chord header · 3/3 header results in');
    await page.locator('#live-status', { hasText: 'finished' }).waitFor(T);
    mkdirSync(outputDir, { recursive: true });
    const screenshot = join(outputDir, 'workflow.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(existsSync(screenshot)).toBe(true);

    // Click the chord's body: its task page, with its result.
    await page.locator(`svg.graph g.node[data-node="${result.id}"]`).click();
    await page.waitForURL(`**/task/${result.id}`, T);
    expect(await page.locator('#task-result').textContent()).toBe('60');
    expect(await page.locator('.badge[data-node]').textContent()).toBe('SUCCESS');
  });

  it('shows markup in arguments and errors as text, and retries a failed task', { timeout: 60_000 }, async () => {
    const app = testApp();
    const echo = app.task('echo', (text: string): string => {
      throw new Error(`refused ${text}`);
    });
    app.worker({ taskEvents: true, name: 'w1@browser' });
    const monitor = await startMonitor(app, { port: 0 });
    closeAfter(() => monitor.close());
    const payload = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">';
    const failed = await app.apply(echo.s(payload));
    await expect(failed.get(T)).rejects.toThrow(/refused/);

    const page = await newPage();
    for (const path of [`task/${failed.id}`, 'tasks', `workflow/${failed.id}`]) {
      await page.goto(`${monitor.url}${path}`);
      await page.waitForLoadState('load');
      expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), path).toBeUndefined();
      expect(await page.locator('img[src=x]').count(), path).toBe(0);
    }
    await page.goto(`${monitor.url}task/${failed.id}`);
    expect(await page.locator('#task-args').textContent()).toContain('"<script>window.pwned = 1</script><img src=x onerror=\\"window.pwned = 2\\">"');
    expect(await page.locator('#task-exception').textContent()).toBe(`Error: refused ${payload}`);
    await expect.poll(() => page.locator('#task-traceback').textContent(), T).toMatch(/^Error: refused <script>/);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('#retry').click();
    await page.waitForURL((url) => url.pathname.startsWith('/task/') && !url.pathname.endsWith(failed.id), T);
    const again = decodeURIComponent(new URL(page.url()).pathname.slice('/task/'.length));
    await expect((await app.result(again)).get(T)).rejects.toThrow(/refused/);
    expect(await page.locator('h1').textContent()).toContain('echo');
  });

  it("revokes a task from its page, after asking", { timeout: 60_000 }, async () => {
    const app = testApp();
    const add = app.task('add', (x: number, y: number) => x + y);
    app.worker({ taskEvents: true, name: 'w1@browser' });
    const monitor = await startMonitor(app, { port: 0 });
    closeAfter(() => monitor.close());
    // Nobody consumes this queue: the task waits.
    const waiting = await app.apply(add.s(1, 2), { queue: 'later' });
    const page = await newPage();
    // The workers page warns that nobody consumes its queue.
    await page.goto(`${monitor.url}workers`);
    expect(await page.locator('.notice', { hasText: 'has no consumer' }).textContent()).toContain('later');
    await page.goto(`${monitor.url}task/${waiting.id}`);
    expect(await page.locator('.badge[data-node]').textContent()).toBe('PENDING');
    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await page.locator('#revoke').click();
    await until(async () => (await waiting.state()) === 'REVOKED', 10_000, 'the revoke');
    expect(asked[0]).toMatch(/^Revoke /);
    await expect.poll(() => page.locator('.badge[data-node]').textContent(), T).toBe('REVOKED');
    // The revoke is in Redis (and may reach the page live) before its HTTP reply shows the toast.
    await expect.poll(() => page.locator('#toast').textContent(), T).toMatch(/Revoked/);
  });
});
