// The first-load budget (issue 6: ≤ 200 KB gzip): everything the browser fetches to show the dashboard
// and bring its islands to life, each body gzipped as the server could send it. The lazy settings
// chunk must not be among them.
import { test, expect } from '@playwright/test';
import { gzipSync } from 'node:zlib';

test('the dashboard loads in at most 200 KB gzip, without the settings code', async ({ page }) => {
  const sizes = new Map<string, number>();
  const pending: Promise<void>[] = [];
  page.on('response', (res) => {
    const url = new URL(res.url());
    pending.push(
      res
        .body()
        .then((body) => {
          sizes.set(url.pathname, gzipSync(body, { level: 6 }).length);
        })
        .catch(() => {}),
    );
  });
  await page.goto('/');
  await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  await page.waitForLoadState('networkidle');
  await Promise.all(pending);
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const list = [...sizes.entries()].map(([p, n]) => `${p} ${(n / 1000).toFixed(1)} KB`).join(', ');
  console.log(`first load: ${(total / 1000).toFixed(1)} KB gzip (${list})`);
  expect([...sizes.keys()].some((p) => p.includes('/pkg/') && p.endsWith('.wasm'))).toBe(true);
  expect([...sizes.keys()].filter((p) => p.includes('settings'))).toEqual([]);
  expect(total, list).toBeLessThanOrEqual(200_000);
});
