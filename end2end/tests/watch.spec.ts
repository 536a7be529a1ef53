// The dev loop the README describes: under `cargo leptos watch` the page connects to the reload port
// (the Content-Security-Policy allows it in watch mode only) and a changed stylesheet reaches the open
// page without a manual reload. Runs only from scripts/dev-check, which starts the watch and names
// the stylesheet it may touch in WATCH_STYLE; skipped in the ordinary browser run.
import { test, expect } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';

const style = process.env.WATCH_STYLE;

test('under cargo leptos watch a changed stylesheet reaches the open page', async ({ page }) => {
  test.skip(!style, 'runs under scripts/dev-check only');
  const refused: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|live_reload/.test(m.text())) refused.push(m.text());
  });
  const reload = page.waitForEvent('websocket', {
    predicate: (ws) => ws.url().endsWith('/live_reload'),
    timeout: 15_000,
  });
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  const ws = await reload;
  // The watch sends its messages on this socket: wait for the message that follows the change.
  const message = ws.waitForEvent('framereceived', { timeout: 120_000 });
  await expect(page.locator('link[href*="version="]')).toHaveCount(0);

  // Change the stylesheet (a custom property: a comment would be minified away, and cargo-leptos
  // sends nothing for a build that comes out the same), then put it back as it was.
  const original = readFileSync(style!);
  try {
    writeFileSync(style!, Buffer.concat([original, Buffer.from(`\n:root { --dev-check: ${Date.now()}; }\n`)]));
    const frame = await message;
    expect(String(frame.payload)).toContain('css');
    await expect(page.locator('link[rel="stylesheet"][href*="version="]')).toHaveCount(1, { timeout: 30_000 });
  } finally {
    writeFileSync(style!, original);
  }
  expect(refused).toEqual([]);
});
