// Playwright configuration for Mnemosynce's browser tests: Debian's Chromium, headless, one worker.
// scripts/test starts the server and passes its address in BASE_URL.
import { defineConfig } from '@playwright/test';
import { STORAGE_STATE } from './global-setup';

const baseURL = process.env.BASE_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  globalSetup: './global-setup.ts',
  timeout: 60_000,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: './test-results',
  use: {
    baseURL,
    // Signed in by global-setup.ts; tests of signing in use a fresh context of their own.
    storageState: STORAGE_STATE,
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
