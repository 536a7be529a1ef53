// Getting files back, the rest of it: a folder downloaded as zip and tar.gz (unpacked and compared),
// a file restored from the form (content, mode, time) and watched on its run page, what changed
// between two snapshots, a file found by name with its versions, and a pin that a run's retention
// then respects.
import { test, expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestServer, TEST_PASSWORD, freePort, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

/** A task `Photos` over `source`, stored in `store`, keeping `keep` snapshots. */
function configure(server: TestServer, keep: number): { source: string; store: string } {
  const source = join(server.dataDir, 'photos');
  const store = join(server.dataDir, 'store');
  mkdirSync(join(source, 'albums', '2026'), { recursive: true });
  mkdirSync(store, { recursive: true });
  writeFileSync(
    join(server.dataDir, 'backup_config.yml'),
    `dir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\nretention: {keep_last: ${keep}}\n` +
      `tasks:\n  - name: Photos\n    dir_source: ${source}\n`,
  );
  return { source, store };
}

/** Runs the task from the dashboard and waits for its end. */
async function runNow(page: Page, url: string): Promise<void> {
  await page.goto(url + '/');
  await page.locator('.card[data-task="Photos"]').getByRole('button', { name: 'Run this task' }).click();
  await expect(page).toHaveURL(/\/runs\/\d+$/, { timeout: 15_000 });
  await expect(page.locator('.run-meta .badge')).toHaveText(/success/, { timeout: 30_000 });
}

/** Every file under `root`: relative path → content. */
function files(root: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(root, rel))) {
    const p = join(rel, name);
    if (statSync(join(root, p)).isDirectory()) Object.assign(out, files(root, p));
    else out[p] = readFileSync(join(root, p), 'utf8');
  }
  return out;
}

test('a folder downloads as zip and tar.gz, and a file is restored beside its original', async ({ page }) => {
  const server = new TestServer(await freePort());
  try {
    await server.start();
    const { source } = configure(server, 10);
    writeFileSync(join(source, 'albums', '2026', 'beach.jpg'), 'sand and sea');
    writeFileSync(join(source, 'albums', 'notes.txt'), 'first notes');
    chmodSync(join(source, 'albums', 'notes.txt'), 0o640);
    utimesSync(join(source, 'albums', 'notes.txt'), 1_600_000_000, 1_600_000_000);
    await signIn(page, server.url, TEST_PASSWORD);
    await runNow(page, server.url);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Snapshots' }).click();
    await page.locator('table.snapshots tbody tr a').first().click();
    await page.locator('tr[data-kind="folder"] a', { hasText: 'albums' }).click();

    // The folder as one archive, in both kinds: unpacked, the same files.
    const expected = files(join(source, 'albums'));
    for (const [label, unpack] of [
      ['zip', ['unzip', '-q']],
      ['tar.gz', ['tar', '-xzf']],
    ] as const) {
      const downloading = page.waitForEvent('download');
      await page.getByRole('link', { name: label, exact: true }).click();
      const download = await downloading;
      expect(download.suggestedFilename()).toBe(`albums.${label}`);
      const out = mkdtempSync(join(tmpdir(), 'mnemosynce-e2e-unpacked-'));
      execFileSync(unpack[0], [...unpack.slice(1), await download.path()], { cwd: out });
      expect(files(join(out, 'albums'))).toEqual(expected);
    }

    // The notes changed since; the saved ones are restored beside them, as they were saved.
    writeFileSync(join(source, 'albums', 'notes.txt'), 'edited notes');
    await page.locator('tr[data-kind="file"]', { hasText: 'notes.txt' }).getByRole('link', { name: 'restore' }).click();
    await expect(page.getByRole('heading', { name: /Restore/ })).toContainText('/albums/notes.txt');
    await expect(page.locator('form.restore-form')).toContainText('notes.txt.restored-');
    await page.getByRole('button', { name: 'Restore' }).click();
    await expect(page).toHaveURL(/\/runs\/\d+$/, { timeout: 15_000 });
    await expect(page.locator('.run-meta .badge')).toHaveText(/success/, { timeout: 30_000 });
    await expect(page.locator('main')).toContainText('restored');
    const restored = readdirSync(join(source, 'albums')).filter((n) => n.startsWith('notes.txt.restored-'));
    expect(restored).toHaveLength(1);
    const back = join(source, 'albums', restored[0]);
    expect(readFileSync(back, 'utf8')).toBe('first notes');
    expect(statSync(back).mode & 0o777).toBe(0o640);
    expect(Math.round(statSync(back).mtimeMs / 1000)).toBe(1_600_000_000);
    expect(readFileSync(join(source, 'albums', 'notes.txt'), 'utf8')).toBe('edited notes');
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('changes, find and a pin that retention respects', async ({ page }) => {
  const server = new TestServer(await freePort());
  try {
    await server.start();
    const { source, store } = configure(server, 1);
    writeFileSync(join(source, 'albums', 'Budget.xlsx'), 'v1');
    writeFileSync(join(source, 'albums', 'notes.txt'), 'notes');
    await signIn(page, server.url, TEST_PASSWORD);
    await runNow(page, server.url);

    // Pinned from the Snapshots page, with a note.
    await page.goto(server.url + '/snapshots');
    const first = (await page.locator('table.snapshots tbody tr').first().getAttribute('data-snapshot')) ?? '';
    await page.getByLabel(`Why pin ${first}? (optional)`).fill('before the move');
    await page.getByRole('button', { name: 'Pin' }).click();
    await expect(page.locator(`tr[data-snapshot="${first}"]`)).toContainText('pinned: before the move');

    await new Promise((r) => setTimeout(r, 1100));
    writeFileSync(join(source, 'albums', 'Budget.xlsx'), 'v2, longer');
    writeFileSync(join(source, 'albums', 'new.txt'), 'new');
    await runNow(page, server.url);

    // keep_last 1, but the pinned one is still there, on disk and on the page.
    expect(readdirSync(join(store, 'Photos')).filter((n) => n.startsWith('20')).sort()[0]).toBe(first);
    await page.goto(server.url + '/snapshots');
    await expect(page.locator('table.snapshots tbody tr')).toHaveCount(2);
    await expect(page.locator(`tr[data-snapshot="${first}"]`)).toContainText('pinned');

    // What changed: the new file added, the budget changed, the unchanged notes not listed.
    await page.locator('table.snapshots tbody tr').first().getByRole('link', { name: 'changes' }).click();
    await expect(page.locator('main')).toContainText('/albums/new.txt');
    await expect(page.locator('main')).toContainText('/albums/Budget.xlsx');
    await expect(page.locator('main')).not.toContainText('notes.txt');

    // Found by name: both versions of the budget, each with its links.
    await page.goto(server.url + '/snapshots');
    await page.getByRole('link', { name: /Find a file by name/ }).click();
    await page.getByLabel('Name').fill('*.XLSX');
    await page.getByRole('button', { name: 'Find' }).click();
    await expect(page.locator('table.found tbody tr')).toHaveCount(2);
    await expect(page.locator('table.found').first()).toContainText('/albums/Budget.xlsx');
    await page.locator('table.found').first().getByRole('link', { name: 'Versions' }).click();
    await expect(page.locator('table.file-versions tbody tr')).toHaveCount(2);
  } finally {
    await server.stop();
    server.cleanup();
  }
});
