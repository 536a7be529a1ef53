// Look and feel: the pages fit a 360 px phone without sideways scrolling, in light and dark, with
// headings that never skip a level; the keyboard reaches the navigation with a visible focus ring. Screenshots of each combination are kept
// in test-results/screenshots/ for a human to look at.
import { test, expect } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestServer, TEST_PASSWORD, freePort, signIn } from './server';

test.use({ storageState: { cookies: [], origins: [] } });

const SHOTS = join(__dirname, '..', 'test-results', 'screenshots');

test('every page fits phone and desktop widths in both themes', async ({ browser }) => {
  const server = new TestServer(await freePort());
  const source = join(server.dataDir, 'src');
  mkdirSync(join(source, 'photos'), { recursive: true });
  writeFileSync(join(source, 'photos', 'a.jpg'), 'a photo');
  mkdirSync(join(server.dataDir, 'store'));
  writeFileSync(
    join(server.dataDir, 'backup_config.yml'),
    `dir_backup_local: ${join(server.dataDir, 'store')}\nemail: {enabled: false}\ntimezone: UTC\n` +
      `tasks:\n  - name: Photos\n    dir_source: ${source}\n  - name: Documents-and-a-long-task-name\n    dir_source: ${source}\n`,
  );
  mkdirSync(SHOTS, { recursive: true });
  try {
    await server.start();
    for (const scheme of ['light', 'dark'] as const) {
      for (const [label, width, height] of [['phone', 360, 780], ['desktop', 1280, 860]] as const) {
        const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme });
        const page = await context.newPage();
        await signIn(page, server.url, TEST_PASSWORD);
        if (scheme === 'light' && label === 'phone') {
          // One run, so the pages have rows to show.
          await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
          await page.getByRole('button', { name: 'Run now' }).click();
          await expect(page.locator('.run-meta .badge')).toHaveText(/success/, { timeout: 30_000 });
        }
        for (const path of ['/', '/history', '/runs/1', '/settings/connections', '/login']) {
          await page.goto(server.url + path);
          await page.waitForLoadState('networkidle');
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
          );
          expect(overflow, `${path} scrolls sideways at ${width} px (${scheme})`).toBeLessThanOrEqual(0);
          // Headings go down one level at a time (h1, then h2 …): screen readers list them as an outline.
          const levels = await page.evaluate(() =>
            [...document.querySelectorAll('main h1, main h2, main h3, main h4')].map((h) => Number(h.tagName[1])),
          );
          levels.forEach((level, i) => {
            const before = i === 0 ? 0 : levels[i - 1];
            expect(level - before, `${path}: headings ${levels.join(' ')} skip a level`).toBeLessThanOrEqual(1);
          });
          const name = `${label}-${scheme}${path.replace(/\//g, '_') || '_'}.png`;
          writeFileSync(join(SHOTS, name), await page.screenshot({ fullPage: true }));
        }
        await context.close();
      }
    }
  } finally {
    await server.stop();
    server.cleanup();
  }
});

test('the keyboard reaches the navigation and the focus is visible', async ({ page }) => {
  const server = new TestServer(await freePort());
  try {
    await server.start();
    await signIn(page, server.url, TEST_PASSWORD);
    await page.keyboard.press('Tab'); // brand
    await page.keyboard.press('Tab'); // first navigation link
    const focused = page.locator(':focus');
    await expect(focused).toHaveText('Dashboard');
    const outline = await focused.evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Tab');
    await expect(page.locator(':focus')).toHaveText('History');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { name: 'History' })).toBeVisible();
  } finally {
    await server.stop();
    server.cleanup();
  }
});
