// The retention page as an owner uses it: the saved policy's plan with its reasons, a live preview of
// an edited policy before anything is saved (rows flip to prune), a task's own override shown with the
// way to change it, and saving: only the retention block of the file changes, and nothing in the
// store is deleted by it.
import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, TEST_PASSWORD, freePort, hydrated, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

// Newest first. Under the default-like saved policy all are kept but the second (an older snapshot of
// the same day as the newest).
const SNAPSHOTS = [
  '2026-11-03_140000',
  '2026-11-03_020000',
  '2026-11-02_020000',
  '2026-11-01_020000',
  '2026-10-15_020000',
  '2026-09-30_020000',
];

test('a retention policy is previewed live, then saved into its block only, deleting nothing', async ({ page }) => {
  const server = new TestServer(await freePort());
  try {
    const source = join(server.dataDir, 'photos');
    const store = join(server.dataDir, 'store');
    const photos = join(store, 'Photos');
    mkdirSync(source, { recursive: true });
    for (const name of SNAPSHOTS) {
      mkdirSync(join(photos, name), { recursive: true });
      writeFileSync(join(photos, name, 'beach.jpg'), `the picture as of ${name}\n`);
    }
    // Not a snapshot: never listed, never touched.
    mkdirSync(join(photos, 'notes'));
    const configPath = join(server.dataDir, 'backup_config.yml');
    const original =
      `# my backups\ndir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\n\n` +
      `# How long snapshots stay\nretention:\n  keep_last: 1   # the newest, always\n  hourly: 0\n` +
      `  daily: 7       # a week\n  weekly: 4\n  monthly: 12\n  yearly: 5\n\n` +
      `tasks:\n  - name: Photos   # the family pictures\n    dir_source: ${source}\n` +
      `  - name: Music\n    dir_source: ${source}\n    retention: {daily: 14}\n`;
    writeFileSync(configPath, original);
    // Folders Mnemosynce did not make are never pruned until the owner adopts them.
    execFileSync(process.env.MNEMOSYNCE_BIN!, ['--data', server.dataDir, 'adopt', 'Photos']);
    const folders = readdirSync(photos).sort();
    await server.start();

    await signIn(page, server.url, TEST_PASSWORD);
    await page.goto(server.url + '/settings/retention');
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Retention', level: 1 })).toBeVisible();
    // Hydrated (only a hydrated page connects the live feed): typing now reaches the page's code.
    await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });

    // The saved policy's plan, newest first, with the reasons.
    const plan = page.locator('.retention-task[data-task="Photos"]');
    const row = (name: string) => plan.locator(`tr[data-snapshot="${name}"]`);
    await expect(plan.locator('tbody tr')).toHaveCount(SNAPSHOTS.length);
    await expect(plan.locator('tbody tr').first()).toHaveAttribute('data-snapshot', SNAPSHOTS[0]);
    await expect(row('2026-11-03_140000')).toHaveAttribute('data-keep', 'true');
    await expect(row('2026-11-03_140000')).toContainText('daily 2026-11-03');
    await expect(row('2026-11-03_140000')).toContainText('newest');
    await expect(row('2026-11-02_020000')).toHaveAttribute('data-keep', 'true');
    await expect(row('2026-11-02_020000')).toContainText('daily 2026-11-02');
    await expect(row('2026-11-03_020000')).toHaveAttribute('data-keep', 'false');
    await expect(row('2026-11-03_020000')).toContainText('prune');
    await expect(plan.locator('.retention-summary')).toHaveText('5 kept, 1 pruned');
    await expect(plan).not.toContainText('notes');

    // A task with its own fields: shown, with the way to change them; no snapshots yet.
    const music = page.locator('.retention-task[data-task="Music"]');
    await expect(music).toContainText('Per-task override from the configuration: daily 14');
    await expect(music.getByRole('link', { name: 'configuration editor' })).toHaveAttribute('href', '/settings/config');
    await expect(music).toContainText('No snapshots yet');

    // Fewer days: the plan follows at once, before anything is saved.
    await page.getByLabel(/^Daily/).fill('1');
    await expect(row('2026-11-02_020000')).toHaveAttribute('data-keep', 'false');
    await expect(row('2026-11-01_020000')).toHaveAttribute('data-keep', 'true'); // still its week's newest
    for (const label of [/^Weekly/, /^Monthly/, /^Yearly/]) {
      await page.getByLabel(label).fill('0');
    }
    await expect(row('2026-11-01_020000')).toHaveAttribute('data-keep', 'false');
    await expect(row('2026-10-15_020000')).toHaveAttribute('data-keep', 'false');
    await expect(row('2026-10-15_020000')).toContainText('pruned by this change');
    await expect(row('2026-11-03_140000')).toHaveAttribute('data-keep', 'true');
    await expect(plan.locator('.retention-summary')).toContainText('1 kept, 5 pruned');
    await expect(plan.locator('tr[data-keep="false"]')).toHaveCount(5);
    await expect(page.getByText('Not saved yet')).toBeVisible();
    expect(readFileSync(configPath, 'utf8')).toBe(original);

    // A duration that is not one: said at the field, and the policy cannot be saved.
    const within = page.getByLabel(/^Keep within/);
    await within.fill('2x');
    await expect(page.locator('#ret-keep-within-error')).toContainText('unknown unit');
    await expect(page.getByRole('button', { name: 'Save policy' })).toBeDisabled();
    await within.fill('');
    await expect(page.locator('#ret-keep-within-error')).toHaveCount(0);

    // Saved: the values change in place, every comment and every other line stays.
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    const saved = readFileSync(configPath, 'utf8');
    expect(saved).toContain('\n  daily: 1       # a week\n');
    expect(saved).toBe(
      original
        .replace('  daily: 7 ', '  daily: 1 ')
        .replace('  weekly: 4\n', '  weekly: 0\n')
        .replace('  monthly: 12\n', '  monthly: 0\n')
        .replace('  yearly: 5\n', '  yearly: 0\n'),
    );
    // Saving deleted nothing: the next run's retention step applies the policy.
    expect(readdirSync(photos).sort()).toEqual(folders);
    for (const name of SNAPSHOTS) {
      expect(readdirSync(join(photos, name))).toEqual(['beach.jpg']);
    }

    // The page opens with the saved policy and its plan.
    await page.reload();
    await expect(page.getByLabel(/^Daily/)).toHaveValue('1');
    await expect(page.getByLabel(/^Weekly/)).toHaveValue('0');
    await expect(plan.locator('.retention-summary')).toHaveText('1 kept, 5 pruned');
    await expect(page.getByText('What the saved policy keeps and prunes today.')).toBeVisible();
  } finally {
    await server.stop();
    server.cleanup();
  }
});
