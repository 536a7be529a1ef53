// The PWA: a valid manifest with installable icons, a service worker that registers, and the offline
// page when the server cannot be reached.
import { test, expect } from '@playwright/test';

test('the manifest is valid and its icons are served', async ({ page, request, baseURL }) => {
  await page.goto('/');
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBe('/manifest.webmanifest');
  const res = await request.get(`${baseURL}${href}`);
  expect(res.status()).toBe(200);
  const manifest = await res.json();
  expect(manifest.name).toBe('Mnemosynce');
  expect(manifest.start_url).toBe('/');
  expect(manifest.display).toBe('standalone');
  const sizes = manifest.icons.map((i: { sizes: string }) => i.sizes);
  expect(sizes).toContain('192x192');
  expect(sizes).toContain('512x512');
  expect(manifest.icons.some((i: { purpose?: string }) => i.purpose === 'maskable')).toBe(true);
  for (const icon of manifest.icons) {
    const img = await request.get(`${baseURL}${icon.src}`);
    expect(img.status(), icon.src).toBe(200);
    expect(img.headers()['content-type']).toContain('image/png');
  }
});

test('the service worker registers and shows the offline page without the server', async ({ page, context }) => {
  await page.goto('/');
  await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toMatch(/\/$/);
  // Wait until the shell is cached (install finished and the worker controls a fresh load).
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await context.setOffline(true);
  try {
    await page.goto('/history');
    await expect(page.getByRole('heading', { name: 'The server cannot be reached' })).toBeVisible();
  } finally {
    await context.setOffline(false);
  }
});
