// The web app is one page for the whole visit (server/public/nav.js): a walk through every page of
// the navigation, the settings pages, back/forward, the plain forms, a run started and finished
// while navigating, sign-out and sign-in — with no document load (a marker on `window` survives, no
// navigation request is made) and one WebSocket for the signed-in visit. And when the server is
// gone, a click still ends on the service worker's offline page.
import { test, expect, Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, TEST_PASSWORD, freePort, hydrated, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

function writeConfig(server: TestServer): void {
  const source = join(server.dataDir, 'walk-source');
  const store = join(server.dataDir, 'walk-store');
  mkdirSync(source, { recursive: true });
  mkdirSync(store, { recursive: true });
  // 3 MB at 500 KiB/s: about six seconds, long enough to walk elsewhere while it runs.
  writeFileSync(join(source, 'video.bin'), Buffer.alloc(3_000_000, 7));
  writeFileSync(
    join(server.dataDir, 'backup_config.yml'),
    `dir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n` +
      `  - name: Photos\n    dir_source: ${source}\n    bwlimit_kbps: 500\n`,
  );
}

/** Counts the tab's document loads and WebSockets from now on, and keeps its script errors (a
 * panic in the WASM, a hydration mismatch). */
function watch(page: Page): { documents: () => number; sockets: () => number; errors: string[] } {
  let documents = 0;
  let sockets = 0;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) documents += 1;
  });
  page.on('websocket', () => {
    sockets += 1;
  });
  return { documents: () => documents, sockets: () => sockets, errors };
}

async function heading(page: Page, name: string | RegExp): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
}

test('every page, back/forward, the forms and a whole run, without a document load, on one feed', async ({ page }) => {
  test.setTimeout(120_000);
  const server = new TestServer(await freePort());
  try {
    await server.start();
    writeConfig(server);
    await signIn(page, server.url, TEST_PASSWORD);
    const feed = page.locator('.feed');
    await expect(feed).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
    await page.evaluate(() => {
      (window as unknown as { walk: string }).walk = 'one document';
    });
    const seen = watch(page);
    const header = page.getByRole('navigation', { name: 'Main' });

    // The header's links, each page rendered, the current one marked.
    for (const [name, url] of [
      ['History', /\/history$/],
      ['Snapshots', /\/snapshots$/],
      ['Settings', /\/settings$/],
      ['Dashboard', /\/$/],
    ] as const) {
      await header.getByRole('link', { name }).click();
      await expect(page).toHaveURL(url);
      await heading(page, name);
      await expect(header.getByRole('link', { name })).toHaveAttribute('aria-current', 'page');
      await expect(header.locator('[aria-current="page"]')).toHaveCount(1);
      await expect(feed).toHaveAttribute('data-state', 'live');
    }

    // Every settings page from the settings list; the lazy ones hydrate and work.
    await header.getByRole('link', { name: 'Settings' }).click();
    const pages = await page.locator('main a[href^="/settings/"]').evaluateAll((links) =>
      links.map((a) => [a.textContent ?? '', a.getAttribute('href') ?? '']),
    );
    expect(pages.length).toBeGreaterThanOrEqual(7);
    for (const [name, href] of pages) {
      await page.locator(`main a[href="${href}"]`).click();
      await expect(page).toHaveURL(new RegExp(`${href}$`));
      await expect(page.locator('main h1')).toBeVisible();
      await hydrated(page);
      await page.goBack();
      await heading(page, 'Settings');
      expect(name).not.toBe('');
    }
    await page.locator('main a[href="/settings/schedule"]').click();
    await hydrated(page);
    await expect(page.locator('.schedule-meaning')).toContainText('every day at 02:00');

    // Back and forward through what was visited.
    await page.goBack();
    await heading(page, 'Settings');
    await page.goForward();
    await expect(page).toHaveURL(/\/settings\/schedule$/);
    await expect(page.locator('.schedule-meaning')).toContainText('every day at 02:00');

    // A run started with the dashboard's form, followed, left, and watched ending from elsewhere.
    await header.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect(page).toHaveURL(/\/runs\/\d+$/, { timeout: 15_000 });
    const runId = page.url().split('/').pop() ?? '';
    await expect(page.locator('.live-task[data-task="Photos"]')).toBeVisible({ timeout: 15_000 });
    await header.getByRole('link', { name: 'Settings' }).click();
    await heading(page, 'Settings');
    const running = page.locator('.feed-run');
    await expect(running).toHaveText(`Run ${runId} running`);
    await header.getByRole('link', { name: 'History' }).click();
    const row = page.locator('table.runs tbody tr').first();
    await expect(row).toContainText(`#${runId}`);
    await expect(row).toContainText('running');
    // The history refreshes in place when the run ends, scroll and all.
    await expect(row).toContainText('success', { timeout: 30_000 });
    await expect(running).toHaveCount(0);
    await row.getByRole('link', { name: `#${runId}` }).click();
    await expect(page.locator('.run-meta .badge')).toHaveText(/success/);
    await page.goBack();
    await expect(page).toHaveURL(/\/history$/);

    // The plain GET form of the history.
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/status=failed/);
    await expect(page.getByText('No runs match this filter.')).toBeVisible();

    expect(seen.documents()).toBe(0);
    expect(seen.sockets()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { walk: string }).walk)).toBe('one document');
    // Every page hydrated cleanly, the settings pages from the server's rendering too.
    expect(seen.errors).toEqual([]);

    // Sign out and in again: the header follows (no feed signed out, a live one signed in).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login/);
    await expect(feed).toHaveCount(0);
    await expect(header).toHaveCount(0);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, 'Dashboard');
    await expect(feed).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
    await expect(header.getByRole('link', { name: 'History' })).toBeVisible();
    expect(seen.documents()).toBe(0);
    expect(seen.sockets()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { walk: string }).walk)).toBe('one document');
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('a click while the server is gone ends on the offline page', async ({ page }) => {
  const server = new TestServer(await freePort());
  try {
    await server.start();
    await signIn(page, server.url, TEST_PASSWORD);
    await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
    await expect.poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active !== null)).toBe(true);
    // The worker controls the next load, and has cached the offline page.
    await page.reload();
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    await server.stop();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await expect(page.getByRole('heading', { name: 'The server cannot be reached' })).toBeVisible({ timeout: 15_000 });
  } finally {
    await server.stop();
    server.cleanup();
  }
});
