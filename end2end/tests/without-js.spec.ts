// The settings pages and the wizard are rendered by the server with their data: without JavaScript
// they read in full (no "Loading…"), and the plain forms among them work — a key is generated and
// listed, email settings are saved into the file. With JavaScript the same page is what the island
// takes over (no second rendering: the key listed by the server is the one on screen).
import { test, expect } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, TEST_PASSWORD, freePort, hydrated, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

test('settings pages and the wizard read and save without JavaScript', async ({ browser }) => {
  const server = new TestServer(await freePort());
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    await server.start();
    const store = join(server.dataDir, 'store');
    const source = join(server.dataDir, 'photos');
    mkdirSync(store, { recursive: true });
    mkdirSync(source, { recursive: true });
    writeFileSync(
      join(server.dataDir, 'backup_config.yml'),
      `# kept\ndir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\n` +
        `tasks:\n  - name: Photos\n    dir_source: ${source}\n` +
        `schedule:\n  cron: "30 2 * * *"\n`,
    );
    const page = await context.newPage();
    await signIn(page, server.url, TEST_PASSWORD);

    // The editor holds the file as it is on disk.
    await page.goto(server.url + '/settings/config');
    await expect(page.getByLabel('backup_config.yml')).toHaveValue(/# kept/);
    await expect(page.getByText('Loading…')).toHaveCount(0);

    // The schedule shows the saved expression; retention its form; connections its empty state.
    await page.goto(server.url + '/settings/schedule');
    await expect(page.locator('input[value="30 2 * * *"]')).toHaveCount(1);
    await page.goto(server.url + '/settings/retention');
    await expect(page.getByRole('heading', { name: 'Retention', level: 1 })).toBeVisible();
    await expect(page.getByText('Loading…')).toHaveCount(0);
    await page.goto(server.url + '/settings/connections');
    await expect(page.getByText('No SSH endpoints in the configuration')).toBeVisible();

    // A key generated through the plain form is listed when the page comes back.
    await page.goto(server.url + '/settings/keys');
    await expect(page.getByText('No keys yet')).toBeVisible();
    await page.getByLabel('Name').fill('nas');
    await page.getByRole('button', { name: 'Generate key' }).click();
    const card = page.locator('.key[data-key="nas"]');
    await expect(card).toBeVisible();
    await expect(card.getByLabel('Line for authorized_keys')).toHaveValue(/^ssh-ed25519 /);

    // Email settings saved through the plain form reach the file, comments kept.
    await page.goto(server.url + '/settings/email');
    await page.getByLabel('From (email_sender)').fill('backup@example.test');
    await page.getByLabel('To (email_report)').fill('owner@example.test');
    await page.getByRole('button', { name: 'Save email settings' }).click();
    await expect(page.getByLabel('To (email_report)')).toHaveValue('owner@example.test');
    const file = readFileSync(join(server.dataDir, 'backup_config.yml'), 'utf8');
    expect(file).toContain('owner@example.test');
    expect(file).toContain('# kept');

    // The wizard's step is there with its panel.
    await page.goto(server.url + '/welcome?step=keys');
    await expect(page.locator('.wizard-step[data-step="keys"] .key[data-key="nas"]')).toBeVisible();

    // With JavaScript, the island takes over the page the server made: the same key, now live.
    const live = await browser.newPage();
    await signIn(live, server.url, TEST_PASSWORD);
    await live.goto(server.url + '/settings/keys');
    await hydrated(live);
    await expect(live.locator('.key[data-key="nas"]')).toHaveCount(1);
    await live.getByRole('button', { name: 'Copy line' }).click();
    await expect(live.locator('.key[data-key="nas"] [role=status]')).toContainText(/Copied|select the text/);
    await live.close();
  } finally {
    await context.close();
    await server.stop();
    server.cleanup();
  }
});
