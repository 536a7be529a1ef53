// Email settings as an owner fills them in, against a real SMTP server (scripts/fixtures/smtpd, a
// plain LAN relay with AUTH): the form lands in backup_config.yml, the password is stored on the
// server only (0600, never in the file, never sent back to the page), and the test email passes
// connect, login and send and really arrives.
import { test, expect } from '@playwright/test';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fixture, TestServer, TEST_PASSWORD, freePort, hydrated, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

const SMTP_USER = 'backup@example.test';
const SMTP_PASSWORD = 'relay pass 7f3a';

/** The SMTP fixture: a plain LAN relay with AUTH. */
async function startSmtpd(): Promise<Fixture> {
  const smtpd = new Fixture('smtpd');
  await smtpd.start(['--dir', smtpd.dir, '--mode', 'none', '--user', SMTP_USER, '--password', SMTP_PASSWORD]);
  return smtpd;
}

test('email settings: saved into the file, the password write-only, the test email arrives', async ({ page }) => {
  const server = new TestServer(await freePort());
  const smtpd = await startSmtpd();
  try {
    await server.start();
    const source = join(server.dataDir, 'photos');
    mkdirSync(source, { recursive: true });
    const configPath = join(server.dataDir, 'backup_config.yml');
    writeFileSync(
      configPath,
      `# mine\ndir_backup_local: ${join(server.dataDir, 'store')}\nemail: {enabled: false}\ntimezone: UTC\n` +
        `tasks:\n  - name: Photos   # keep this comment\n    dir_source: ${source}\n`,
    );
    await signIn(page, server.url, TEST_PASSWORD);
    await page.goto(server.url + '/settings/email');
    await hydrated(page);

    await page.getByLabel('Send a report after every run').check();
    await page.getByLabel('From (email_sender)').fill(SMTP_USER);
    await page.getByLabel('To (email_report)').fill('owner@example.test');
    await page.getByLabel('SMTP server').fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill(String(smtpd.port));
    await page.getByLabel('Security', { exact: true }).selectOption('none');
    await page.getByLabel('Password', { exact: true }).fill(SMTP_PASSWORD);
    await page.getByRole('button', { name: 'Save email settings' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();

    // In the file: the settings, the comments, not the password. The password: 0600 in secrets/.
    const text = readFileSync(configPath, 'utf8');
    expect(text).toContain('# keep this comment');
    expect(text).toContain(`email_sender: "${SMTP_USER}"`);
    expect(text).toContain('security: none');
    expect(text).not.toContain(SMTP_PASSWORD);
    const secret = join(server.dataDir, 'secrets', 'smtp_password');
    expect(readFileSync(secret, 'utf8').trim()).toBe(SMTP_PASSWORD);
    expect(statSync(secret).mode & 0o777).toBe(0o600);

    // Never sent back: not in the page (nor its hydration data) after a reload; the field says stored.
    await page.reload();
    await expect(page.getByLabel('Password', { exact: true })).toHaveAttribute('placeholder', /stored/);
    await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
    expect(await page.content()).not.toContain(SMTP_PASSWORD);

    // The test email, step by step, arrives with AUTH as the sender.
    await hydrated(page);
    await page.getByRole('button', { name: 'Send test email' }).click();
    const steps = page.locator('ol.checks');
    await expect(steps.locator('li[data-verdict="pass"]', { hasText: 'send' })).toBeVisible({ timeout: 20_000 });
    await expect(steps.locator('li[data-verdict="fail"]')).toHaveCount(0);
    await expect.poll(() => existsSync(join(smtpd.dir, 'mail', '1.json')), { timeout: 10_000 }).toBe(true);
    const envelope = JSON.parse(readFileSync(join(smtpd.dir, 'mail', '1.json'), 'utf8'));
    expect(envelope.auth_user).toBe(SMTP_USER);
    expect(envelope.rcpt_tos).toContain('owner@example.test');
  } finally {
    await server.stop();
    smtpd.stop();
  }
});
