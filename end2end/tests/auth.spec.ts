// Signing in as a new owner does: the first start's setup code, the password, signing out and in;
// and what a page says when its session ends or its file changes under it.
import { test, expect } from '@playwright/test';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, TEST_PASSWORD, freePort, hydrated, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

test('a first start asks for the setup code, then the password signs in and out', async ({ page }) => {
  const server = new TestServer(await freePort(), null);
  try {
    await server.start();
    // Nothing is reachable yet: every page leads to the create-password page.
    await page.goto(server.url + '/history');
    await expect(page).toHaveURL(/\/setup$/);
    await expect(page.getByRole('heading', { name: 'Create the admin password' })).toBeVisible();

    await page.getByLabel('Setup code').fill('WRONG-CODE-0000');
    await page.getByLabel('New password (at least 10 characters)').fill('the owner password');
    await page.getByLabel('The same password again').fill('the owner password');
    await page.getByRole('button', { name: 'Create password and sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('setup code is not right');

    await page.getByLabel('Setup code').fill(server.setupCode());
    await page.getByLabel('New password (at least 10 characters)').fill('the owner password');
    await page.getByLabel('The same password again').fill('the owner password');
    await page.getByRole('button', { name: 'Create password and sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByText('You are signed out.')).toBeVisible();
    await page.goto(server.url + '/history');
    await expect(page).toHaveURL(/\/login\?next=\/history$/);

    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainText('password is not right');
    await page.getByLabel('Password').fill('the owner password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back where the owner wanted to go.
    await expect(page).toHaveURL(/\/history$/);
    await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('a page says when the file changed under it or the session ended, and offers the way on', async ({ page, context }) => {
  const server = new TestServer(await freePort());
  try {
    await server.start();
    const store = join(server.dataDir, 'store');
    const source = join(server.dataDir, 'photos');
    mkdirSync(store, { recursive: true });
    mkdirSync(source, { recursive: true });
    const file = join(server.dataDir, 'backup_config.yml');
    writeFileSync(file, `dir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n  - name: Photos\n    dir_source: ${source}\n`);
    await signIn(page, server.url, TEST_PASSWORD);
    await page.goto(server.url + '/settings/schedule');
    await hydrated(page);

    // Edited by hand while the page is open: the save is refused, with a way to see the file now.
    appendFileSync(file, '# edited by hand\n');
    await page.getByLabel(/Cron expression/).fill('0 4 * * *');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'changed since this page read it' });
    await expect(alert).toContainText('Not saved:');
    await alert.getByRole('link', { name: 'Reload the page' }).click();
    await hydrated(page);
    await page.getByLabel(/Cron expression/).fill('0 4 * * *');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();

    // Signed out elsewhere (here: the cookie is gone): the page says so and links to sign-in.
    await context.clearCookies();
    await page.getByLabel(/Cron expression/).fill('0 5 * * *');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    const ended = page.getByRole('alert').filter({ hasText: 'your session has ended' });
    await expect(ended).toBeVisible();
    await ended.getByRole('link', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  } finally {
    await server.stop();
    server.cleanup();
  }
});
