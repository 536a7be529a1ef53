// Starts and stops extra `mnemosynce serve` processes for tests that need their own server (e.g. to
// restart it). Each gets a free loopback port and a temporary data directory; stopping is by PID.
import { spawn, ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { expect, Page } from '@playwright/test';

/** Signs in on the sign-in page of `url`. */
export async function signIn(page: Page, url: string, password: string): Promise<void> {
  await page.goto(url + '/login');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The admin password of test servers started with one. */
export const TEST_PASSWORD = 'test server password';

export class TestServer {
  child?: ChildProcess;
  readonly dataDir: string;
  /** `password`: the admin password to start with; `null` for a first start (setup code). */
  constructor(
    readonly port: number,
    readonly password: string | null = TEST_PASSWORD,
  ) {
    this.dataDir = mkdtempSync(join(tmpdir(), 'mnemosynce-e2e-'));
  }

  /** The one-time setup code of a first start. */
  setupCode(): string {
    return readFileSync(join(this.dataDir, 'setup-code'), 'utf8').trim();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const bin = process.env.MNEMOSYNCE_BIN;
    if (!bin) throw new Error('MNEMOSYNCE_BIN must be set (scripts/test sets it)');
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.MNEMOSYNCE_ADMIN_PASSWORD;
    if (this.password !== null) env.MNEMOSYNCE_ADMIN_PASSWORD = this.password;
    this.child = spawn(bin, ['serve', '--data', this.dataDir, '--addr', `127.0.0.1:${this.port}`], {
      // Not the checkout: the binary must find its site folder from anywhere.
      cwd: this.dataDir,
      stdio: 'ignore',
      env,
    });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`test server on port ${this.port} did not start`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    this.child = undefined;
  }

  cleanup(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Waits until the page is hydrated (the feed indicator goes live only in the browser's app): typing
 * into a server-rendered field before that would not reach the app. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  // A lazy page (settings, wizard) renders once its own code has arrived.
  await expect(page.locator('.lazy-page[data-hydrated="false"]')).toHaveCount(0, { timeout: 15_000 });
}

/** A test fixture process from scripts/fixtures (`sshd`, `smtpd`) with a temporary folder of its own:
 * ready once it has written `<dir>/port`, stopped by PID, its folder removed. */
export class Fixture {
  child?: ChildProcess;
  readonly dir: string;
  port = 0;

  constructor(readonly name: 'sshd' | 'smtpd') {
    this.dir = mkdtempSync(join(tmpdir(), `mnemosynce-e2e-${name}-`));
  }

  async start(args: string[]): Promise<void> {
    const script = resolve(__dirname, '..', '..', 'scripts', 'fixtures', this.name);
    this.child = spawn(script, args, { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    while (!existsSync(join(this.dir, 'port'))) {
      if (Date.now() > deadline) throw new Error(`the ${this.name} fixture did not start`);
      await new Promise((r) => setTimeout(r, 100));
    }
    this.port = Number(readFileSync(join(this.dir, 'port'), 'utf8').trim());
  }

  stop(): void {
    if (this.child?.pid) {
      try {
        process.kill(this.child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
