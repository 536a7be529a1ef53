// The setup wizard as a new owner meets it: an empty data directory → configuration (a bad one first:
// its errors at their lines, nothing saved) → schedule → the first backup, followed live in the
// wizard (and a second run cancelled from the wizard) → dashboard; then the same with an SSH source
// against a real sshd (scripts/fixtures/sshd): generate a key, authorize it, trust the host, test,
// run. And a schedule one minute ahead that really starts a run, seen in History.
import { test, expect, Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Fixture, TestServer, TEST_PASSWORD, freePort, hydrated, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

const SHOTS = join('test-results', 'screenshots');

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `wizard-${name}.png`), fullPage: true });
}

/** Replaces the editor's text and checks it. */
async function checkConfig(page: Page, text: string): Promise<void> {
  await hydrated(page);
  const editor = page.getByLabel('backup_config.yml');
  await editor.fill(text);
  await page.getByRole('button', { name: 'Check', exact: true }).click();
}

function folders(server: TestServer): { source: string; store: string } {
  const source = join(server.dataDir, 'photos');
  const store = join(server.dataDir, 'store');
  mkdirSync(source, { recursive: true });
  mkdirSync(store, { recursive: true });
  writeFileSync(join(source, 'beach.jpg'), Buffer.alloc(20_000, 3));
  return { source, store };
}

test('a new owner sets up a local backup with the wizard: bad config refused at its lines, schedule, first backup, dashboard', async ({ page }) => {
  const server = new TestServer(await freePort());
  try {
    await server.start();
    const { source, store } = folders(server);
    await signIn(page, server.url, TEST_PASSWORD);
    const strip = page.locator('.setup-strip');
    await expect(strip).toContainText('Setup is not finished');
    await strip.getByRole('link', { name: 'Continue setup' }).click();

    // Step 1: the template is there, with its comments.
    await expect(page.locator('.wizard-step[data-step="config"]')).toBeVisible();
    await expect(page.getByLabel('backup_config.yml')).toHaveValue(/# /);
    await shot(page, '1-configuration-template');

    // A configuration with errors: each at its line, nothing saved.
    const bad =
      `dir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n` +
      `  - name: Photos\n    dir_source: ${source}\n  - name: Photos\n    dir_source: ${source}\n` +
      `schedule:\n  cron: "0 25 * * *"\n`;
    await checkConfig(page, bad);
    const problems = page.getByRole('list', { name: 'Problems' });
    await expect(problems).toContainText('line 7');
    await expect(problems).toContainText('used twice');
    await expect(problems).toContainText('line 10');
    await expect(page.locator('.gutter span[data-mark="error"]', { hasText: /^7$/ })).toBeVisible();
    await expect(page.locator('.gutter span[data-mark="error"]', { hasText: /^10$/ })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Save', exact: true })).toHaveCount(0);
    await shot(page, '1-configuration-errors');
    expect(existsSync(join(server.dataDir, 'backup_config.yml'))).toBe(false);

    // Fixed: the diff is shown, then saved as written (comments kept).
    const good =
      `# my backups\ndir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\n` +
      `tasks:\n  - name: Photos   # the family pictures\n    dir_source: ${source}\n    bwlimit_kbps: 8\n`;
    await checkConfig(page, good);
    await expect(page.locator('pre.diff span[data-kind="added"]').first()).toBeVisible();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    expect(readFileSync(join(server.dataDir, 'backup_config.yml'), 'utf8')).toBe(good);

    // Steps 2 and 3 are not needed for a local source; the next step is the schedule.
    await page.reload();
    const steps = page.getByRole('list', { name: 'Setup steps' });
    await expect(steps.locator('li[data-state="skipped"]')).toHaveCount(2);
    await expect(steps.locator('li').first()).toHaveAttribute('data-state', 'done');

    // Step 4 (the wizard opens at the first missing step): a preset, its meaning and the next runs,
    // saved into the schedule block only.
    await expect(page.locator('.wizard-step[data-step="schedule"]')).toBeVisible();
    await hydrated(page);
    await page.getByRole('button', { name: 'Weekly, Sunday 03:00' }).click();
    await expect(page.getByLabel(/Cron expression/)).toHaveValue('0 3 * * 0');
    await expect(page.locator('.schedule-meaning')).toContainText('Sunday');
    await expect(page.locator('ol.next-runs li')).toHaveCount(5);
    await expect(page.locator('ol.next-runs li').first()).toContainText('Sun');
    await shot(page, '4-schedule');
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    const saved = readFileSync(join(server.dataDir, 'backup_config.yml'), 'utf8');
    expect(saved.startsWith(good)).toBe(true);
    expect(saved).toContain('cron: "0 3 * * 0"');

    // Step 5: the first backup, run and followed in the wizard (20 KB at 8 KiB/s: a few seconds).
    await page.getByRole('link', { name: 'Next: First backup' }).click();
    await expect(page.locator('.wizard-step[data-step="first-run"]')).toBeVisible();
    await hydrated(page);
    await page.getByRole('button', { name: 'Run the first backup' }).click();
    await expect(page).toHaveURL(/\/welcome\?step=first-run$/);
    const live = page.locator('.first-run[data-state="running"]');
    await expect(live.locator('.live-task[data-task="Photos"]')).toBeVisible({ timeout: 15_000 });
    await expect(live.getByRole('button', { name: 'Cancel' })).toBeVisible();
    await shot(page, '5-first-backup-running');
    const result = page.locator('.first-run[data-state="done"]');
    await expect(result).toContainText('Your first snapshot is there.', { timeout: 30_000 });
    await expect(result).toContainText('20.0 KB');
    await expect(result.getByRole('link', { name: /^20\d\d-/ })).toBeVisible();
    await shot(page, '5-first-backup-done');

    // *Run again* with a new, bigger file (200 KB at 8 KiB/s), cancelled from the wizard itself: the
    // wizard comes back to this step, the run ends cancelled, the first snapshot is still shown.
    writeFileSync(join(source, 'video.bin'), Buffer.alloc(200_000, 5));
    await page.getByRole('button', { name: 'Run again' }).click();
    const again = page.locator('.first-run[data-state="running"]');
    await expect(again.locator('.live-task[data-task="Photos"]')).toBeVisible({ timeout: 15_000 });
    const cancelledRun = (await again.getByRole('link', { name: 'Open the run' }).getAttribute('href')) ?? '';
    await again.getByRole('button', { name: 'Cancel' }).click();
    await expect(page).toHaveURL(/\/welcome\?step=first-run$/);
    await expect(result).toContainText('Your first snapshot is there.', { timeout: 30_000 });
    await expect(page.locator('.first-run[data-state="running"]')).toHaveCount(0);
    const cancelled = await page.request.get(server.url + cancelledRun);
    expect(await cancelled.text()).toMatch(/data-status="cancelled"/);

    // Done: the dashboard without the strip, the task listed.
    await expect(page.locator('.wizard-steps li[data-state="todo"]')).toHaveCount(0);
    await page.getByRole('link', { name: /go to the dashboard/ }).click();
    await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
    await expect(page.locator('.card', { hasText: 'Photos' }).first()).toBeVisible();
    await expect(page.locator('.setup-strip')).toHaveCount(0);
    await shot(page, '6-dashboard');
  } finally {
    await server.stop();
  }
});

test('a schedule one minute ahead starts a run that appears in History', async ({ page }) => {
  test.setTimeout(150_000);
  const server = new TestServer(await freePort());
  try {
    await server.start();
    const { source, store } = folders(server);
    writeFileSync(
      join(server.dataDir, 'backup_config.yml'),
      `dir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n  - name: Photos\n    dir_source: ${source}\n`,
    );
    await signIn(page, server.url, TEST_PASSWORD);
    await page.goto(server.url + '/settings/schedule');
    await hydrated(page);
    // The next whole minute at least 15 s away, in UTC (the configured zone).
    let due = new Date(Math.ceil((Date.now() + 1000) / 60_000) * 60_000);
    if (due.getTime() - Date.now() < 15_000) due = new Date(due.getTime() + 60_000);
    const cron = `${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
    const input = page.getByLabel(/Cron expression/);
    await expect(page.locator('.schedule-meaning')).toContainText('every day at 02:00');
    await input.fill(cron);
    await expect(page.locator('.schedule-meaning')).toContainText(
      `every day at ${String(due.getUTCHours()).padStart(2, '0')}:${String(due.getUTCMinutes()).padStart(2, '0')}`,
    );
    await page.getByRole('button', { name: 'Save schedule' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();

    await page.goto(server.url + '/history');
    await expect(async () => {
      await page.reload();
      await expect(page.locator('table.runs tbody tr', { hasText: 'schedule' }).first()).toContainText('success');
    }).toPass({ timeout: due.getTime() - Date.now() + 60_000, intervals: [2_000] });
  } finally {
    await server.stop();
  }
});

/** A real sshd on a free loopback port (scripts/fixtures/sshd) that accepts the keys appended to
 * `authorizedKeys`. */
class Sshd extends Fixture {
  readonly authorizedKeys = join(this.dir, 'authorized_keys');

  constructor() {
    super('sshd');
  }

  async listen(): Promise<void> {
    writeFileSync(this.authorizedKeys, '');
    await this.start([this.dir, this.authorizedKeys]);
    // The port file comes just before sshd binds: wait until it answers.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        execFileSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${this.port}`]);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error('sshd fixture does not listen');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** The host key's fingerprint as `ssh-keygen -lf` prints it. */
  fingerprint(): string {
    const out = execFileSync('ssh-keygen', ['-lf', join(this.dir, 'host_ed25519.pub')], { encoding: 'utf8' });
    return out.split(' ')[1];
  }
}

test('an SSH source: generate a key, authorize it, trust the host, test, run', async ({ page }) => {
  test.setTimeout(120_000);
  const server = new TestServer(await freePort());
  const sshd = new Sshd();
  try {
    await sshd.listen();
    await server.start();
    const remote = join(sshd.dir, 'remote-photos');
    mkdirSync(remote);
    writeFileSync(join(remote, 'mountain.jpg'), Buffer.alloc(10_000, 9));
    const store = join(server.dataDir, 'store');
    mkdirSync(store);
    const endpoint = `ssh://${userInfo().username}@127.0.0.1:${sshd.port}${remote}`;
    await signIn(page, server.url, TEST_PASSWORD);
    await page.goto(server.url + '/welcome');
    await checkConfig(
      page,
      `dir_backup_local: ${store}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n  - name: Remote\n    dir_source: ${endpoint}\n`,
    );
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
    await page.reload();
    await expect(page.locator('.wizard-steps li[data-state="skipped"]')).toHaveCount(0);

    // Step 2 (the first missing one): a key, its line put into the fixture's authorized_keys.
    await expect(page.locator('.wizard-step[data-step="keys"]')).toBeVisible();
    await hydrated(page);
    await page.getByLabel('Name').fill('e2e');
    await page.getByRole('button', { name: 'Generate key' }).click();
    const card = page.locator('li.key[data-key="e2e"]');
    await expect(card).toBeVisible();
    const line = await card.getByLabel('Line for authorized_keys').inputValue();
    expect(line).toMatch(/^ssh-ed25519 AAAA/);
    await shot(page, '2-ssh-keys');
    appendFileSync(sshd.authorizedKeys, line + '\n');

    // Step 3: unknown host key with its fingerprint → trust → the test passes.
    await page.reload();
    await expect(page.locator('.wizard-step[data-step="connections"]')).toBeVisible();
    const row = page.locator('li.connection', { hasText: endpoint });
    await hydrated(page);
    await row.getByRole('button', { name: 'Test connection' }).click();
    await expect(row.locator('.verdict')).toContainText('Not working yet', { timeout: 30_000 });
    await expect(row).toContainText(sshd.fingerprint());
    await row.getByRole('button', { name: 'Trust this host' }).click();
    await expect(row.locator('.verdict')).toContainText('Connection works', { timeout: 30_000 });
    await shot(page, '3-connections');
    await page.reload();
    await expect(page.locator('.wizard-steps li[data-state="done"]')).toHaveCount(3);

    // A run over SSH succeeds.
    await page.goto(server.url + '/');
    await hydrated(page);
    await page.getByRole('button', { name: 'Run now' }).click();
    await expect(page).toHaveURL(/\/runs\/\d+$/, { timeout: 15_000 });
    await expect(page.locator('.run-meta .badge')).toHaveText(/success/, { timeout: 30_000 });
    expect(existsSync(join(store, 'Remote', 'latest', 'mountain.jpg'))).toBe(true);
  } finally {
    await server.stop();
    sshd.stop();
  }
});
