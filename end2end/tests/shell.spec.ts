// The app shell end to end: server-rendered HTML, hydration, the live feed, and a clean console.
import { test, expect, Page, request as pwRequest } from '@playwright/test';
import { TestServer, TEST_PASSWORD, freePort, signIn } from './server';
import { STORAGE_STATE } from '../global-setup';

/** Collects console errors and failed requests; a test ends by asserting both are empty. */
function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return problems;
}

test('the HTML served before any script runs holds the shell, and says offline', async ({ baseURL }) => {
  const ctx = await pwRequest.newContext({ storageState: STORAGE_STATE });
  const res = await ctx.get(`${baseURL}/`);
  expect(res.status()).toBe(200);
  const html = await res.text();
  expect(html).toContain('Mnemosynce');
  for (const item of ['Dashboard', 'History', 'Snapshots', 'Settings']) expect(html).toContain(item);
  expect(html).toMatch(/data-state="offline"/);
  const health = await (await ctx.get(`${baseURL}/healthz`)).json();
  expect(health.status).toBe('ok');
  expect(html).toContain(health.version); // the footer shows the version
  await ctx.dispose();
});

test('after hydration the theme toggle works and the feed goes live with heartbeats', async ({ page }) => {
  const problems = watchForProblems(page);
  await page.goto('/');
  const feed = page.locator('.feed');
  await expect(feed).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  await expect(feed).toContainText('live');

  const toggle = page.getByRole('button', { name: /theme/i });
  const before = await page.locator('html').getAttribute('data-theme');
  await toggle.click();
  const after = await page.locator('html').getAttribute('data-theme');
  expect(after).not.toBeNull();
  expect(after).not.toBe(before);
  // The choice holds on the next page (an ordinary page load).
  await page.getByRole('link', { name: 'History' }).click();
  await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('data-theme', after!);
  await expect(feed).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  await toggle.click();
  expect(await page.locator('html').getAttribute('data-theme')).not.toBe(after);

  // A heartbeat arrives every 5 s.
  await expect(page.locator('.feed-beat')).toContainText(/heartbeat \d\d:\d\d:\d\d/, { timeout: 12_000 });

  // Another page (an ordinary page load: only the islands run in the browser) is live again.
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(feed).toHaveAttribute('data-state', 'live');

  expect(problems).toEqual([]);
});

test('the feed reconnects by itself after the server restarts', async ({ page }) => {
  const server = new TestServer(await freePort());
  const problems = watchForProblems(page);
  try {
    await server.start();
    await signIn(page, server.url, TEST_PASSWORD);
    // Started from another working directory, the server still serves its CSS and WASM.
    expect(problems).toEqual([]);
    const feed = page.locator('.feed');
    await expect(feed).toHaveAttribute('data-state', 'live', { timeout: 15_000 });

    await server.stop();
    await expect(feed).not.toHaveAttribute('data-state', 'live', { timeout: 10_000 });

    await server.start();
    await expect(feed).toHaveAttribute('data-state', 'live', { timeout: 20_000 });
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('unknown paths get a 404 page inside the shell', async ({ page }) => {
  const res = await page.goto('/no-such-page');
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
});
