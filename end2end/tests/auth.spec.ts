// Signing in as a new owner does: the first start's setup code, the password, signing out and in.
import { test, expect } from '@playwright/test';
import { TestServer, freePort } from './server';

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
