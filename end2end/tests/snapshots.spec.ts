// Getting files back: the Snapshots page lists a task's snapshots, a snapshot is browsed folder by
// folder, a file downloads with its exact bytes, a hostile name never runs in the page, and a pin
// is set from the page with its note.
import { test, expect } from '@playwright/test';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, TEST_PASSWORD, freePort, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

test('a snapshot is browsed, a file downloaded with its bytes, and a snapshot pinned', async ({ page }) => {
  const server = new TestServer(await freePort());
  try {
    await server.start();
    const store = join(server.dataDir, 'store');
    const source = join(server.dataDir, 'photos');
    const snap = join(store, 'Photos', '2026-12-01_020000');
    mkdirSync(source, { recursive: true });
    mkdirSync(join(snap, 'albums', '2026'), { recursive: true });
    const photo = Buffer.alloc(150_000);
    for (let i = 0; i < photo.length; i++) photo[i] = (i * 7) % 256;
    writeFileSync(join(snap, 'albums', '2026', 'beach.jpg'), photo);
    writeFileSync(join(snap, '<img src=x onerror=alert(1)>.html'), '<script>alert(2)</script>');
    symlinkSync('/etc/passwd', join(snap, 'passwd'));
    writeFileSync(
      join(server.dataDir, 'backup_config.yml'),
      `dir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n  - name: Photos\n    dir_source: ${source}\n`,
    );
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await signIn(page, server.url, TEST_PASSWORD);

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Snapshots' }).click();
    await expect(page.getByRole('heading', { name: 'Photos' })).toBeVisible();
    await page.getByRole('link', { name: '2026-12-01_020000' }).click();
    await expect(page.getByRole('heading', { name: '2026-12-01_020000' })).toBeVisible();
    // The hostile name is text; the link is shown with its target and leads nowhere.
    await expect(page.getByText('<img src=x onerror=alert(1)>.html')).toBeVisible();
    await expect(page.locator('tr[data-kind="symlink"]')).toContainText('/etc/passwd');
    await expect(page.locator('tr[data-kind="symlink"] a')).toHaveCount(0);

    await page.locator('tr[data-kind="folder"] a', { hasText: 'albums' }).click();
    await page.locator('tr[data-kind="folder"] a', { hasText: '2026' }).click();
    await expect(page.locator('.crumbs')).toContainText('albums');
    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'beach.jpg' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('beach.jpg');
    const got = readFileSync(await download.path());
    expect(got.equals(photo)).toBe(true);

    // Its versions: one, in the one snapshot, with a download.
    await page.locator('tr[data-kind="file"] a', { hasText: 'versions' }).click();
    await expect(page.getByRole('heading', { name: /Versions of/ })).toContainText('/albums/2026/beach.jpg');
    await expect(page.locator('table.file-versions tbody tr')).toHaveCount(1);

    // The HTML file of the backup downloads too: never opened in the app's origin.
    await page.goto(server.url + '/snapshots/browse?task=Photos&snapshot=2026-12-01_020000');
    const html = page.waitForEvent('download');
    await page.getByRole('link', { name: '<img src=x onerror=alert(1)>.html' }).click();
    await html;
    expect(dialogs).toEqual([]);

    // Pinned with a note from the Snapshots page.
    await page.goto(server.url + '/snapshots');
    await page.getByLabel('Why pin 2026-12-01_020000? (optional)').fill('before the move');
    await page.getByRole('button', { name: 'Pin' }).click();
    await expect(page.locator('tr[data-snapshot="2026-12-01_020000"]')).toContainText('pinned: before the move');
    await expect(page.getByRole('button', { name: 'Unpin' })).toBeVisible();
  } finally {
    await server.stop();
    server.cleanup();
  }
});
