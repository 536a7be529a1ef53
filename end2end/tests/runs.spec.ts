// A run as the owner watches it: started from the dashboard, followed live on its page in two tabs,
// a reload in the middle, cancelled; then a full run whose snapshot shows on the dashboard.
import { test, expect, Page } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, TEST_PASSWORD, freePort, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

function writeConfig(server: TestServer, extra: string): void {
  const source = join(server.dataDir, 'demo-source');
  const store = join(server.dataDir, 'demo-store');
  mkdirSync(source, { recursive: true });
  mkdirSync(store, { recursive: true });
  // 4 MB at 400 KiB/s: about ten seconds, long enough to watch and cancel.
  writeFileSync(join(source, 'video.bin'), Buffer.alloc(4_000_000, 7));
  writeFileSync(join(source, 'notes.txt'), 'hello\n');
  writeFileSync(
    join(server.dataDir, 'backup_config.yml'),
    `dir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n` +
      `  - name: Photos\n    dir_source: ${source}\n${extra}`,
  );
}

async function runPageLive(page: Page): Promise<void> {
  await expect(page.locator('.live-task[data-task="Photos"]')).toBeVisible({ timeout: 15_000 });
}

test('a run is watched live in two tabs, survives a reload, and is cancelled', async ({ browser }) => {
  const server = new TestServer(await freePort());
  const context = await browser.newContext();
  try {
    await server.start();
    writeConfig(server, '    bwlimit_kbps: 400\n');
    const page = await context.newPage();
    await signIn(page, server.url, TEST_PASSWORD);
    await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });

    await page.getByRole('button', { name: 'Run now' }).click();
    await expect(page).toHaveURL(/\/runs\/\d+$/, { timeout: 15_000 });
    const runUrl = page.url();
    await runPageLive(page);
    await expect(page.locator('progress')).toBeVisible({ timeout: 15_000 });
    await expect(page.locator('ol.log li').first()).toBeVisible({ timeout: 15_000 });

    // A second tab (same session) receives the same live run.
    const second = await context.newPage();
    await second.goto(runUrl);
    await runPageLive(second);

    // The dashboard of another tab shows the banner; a second start is refused with a sentence.
    const dash = await context.newPage();
    await dash.goto(server.url + '/');
    await expect(dash.locator('.banner')).toContainText('in progress', { timeout: 15_000 });
    await dash.getByRole('button', { name: 'Run now' }).click();
    await expect(dash.locator('.form-error')).toContainText('already in progress');

    // A reload in the middle picks the live run up again.
    await page.reload();
    await runPageLive(page);

    await page.getByRole('button', { name: 'Cancel' }).click();
    for (const p of [page, second]) {
      await expect(p.locator('.run-meta .badge')).toHaveText(/cancelled/, { timeout: 20_000 });
    }
    // The dashboard that followed the run reloads itself when it ends: its recent runs show how.
    await expect(dash.locator('.banner')).toHaveCount(0, { timeout: 20_000 });
    await expect(dash.locator('table.list tbody tr').first()).toContainText('cancelled', { timeout: 20_000 });
  } finally {
    await context.close();
    await server.stop();
    server.cleanup();
  }
});

test('a full run makes a snapshot the dashboard and history show', async ({ page }) => {
  const server = new TestServer(await freePort());
  try {
    await server.start();
    writeConfig(server, '');
    await signIn(page, server.url, TEST_PASSWORD);
    await expect(page.getByText('No runs yet')).toBeVisible();
    await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
    await page.locator('.card[data-task="Photos"]').getByRole('button', { name: 'Run this task' }).click();
    await expect(page).toHaveURL(/\/runs\/\d+$/, { timeout: 15_000 });
    await expect(page.locator('.run-meta .badge')).toHaveText(/success/, { timeout: 30_000 });
    await expect(page.locator('.task-run[data-task="Photos"]')).toContainText('snapshot 20');
    // Each step's log is there on demand.
    await page.getByRole('link', { name: 'Show log' }).first().click();
    await expect(page.locator('pre.step-log').first()).toBeVisible();

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await expect(page.locator('.card[data-task="Photos"] .snapshot-count')).toHaveText('1');
    await expect(page.locator('.card[data-task="Photos"] .last-snapshot')).toContainText(/^20\d\d-/);
    await page.getByRole('link', { name: 'History' }).click();
    await expect(page.locator('table.runs tbody tr')).toHaveCount(1);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
