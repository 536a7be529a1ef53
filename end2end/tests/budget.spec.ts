// The first-load budget (issue 6, counted on the wire since issue 20: ≤ 200 KB): everything the
// browser fetches to show the dashboard and bring its islands to life, each response counted as it
// came over the network — the encoded body in the `Content-Encoding` the browser negotiated (brotli
// or gzip from the server's precompressed files and its compression) plus its headers. The lazy
// settings chunk must not be among them.
import { test, expect } from '@playwright/test';

test('the dashboard loads in at most 200 KB on the wire, compressed, without the settings code', async ({ page }) => {
  const sizes = new Map<string, number>();
  const encodings = new Map<string, string>();
  const pending: Promise<void>[] = [];
  page.on('requestfinished', (req) => {
    const url = new URL(req.url());
    pending.push(
      Promise.all([req.sizes(), req.response()]).then(([s, res]) => {
        sizes.set(url.pathname, s.responseBodySize + s.responseHeadersSize);
        encodings.set(url.pathname, res?.headers()['content-encoding'] ?? 'identity');
      }),
    );
  });
  await page.goto('/');
  await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  await page.waitForLoadState('networkidle');
  await Promise.all(pending);
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const list = [...sizes.entries()]
    .map(([p, n]) => `${p} ${(n / 1000).toFixed(1)} KB ${encodings.get(p)}`)
    .join(', ');
  console.log(`first load: ${(total / 1000).toFixed(1)} KB on the wire (${list})`);
  const wasm = [...sizes.keys()].find((p) => p.includes('/pkg/') && p.endsWith('.wasm'));
  expect(wasm).toBeDefined();
  // The big parts travel compressed: the WASM, the script, the stylesheet and the page.
  for (const [p, enc] of encodings) {
    if (p === '/' || /\.(wasm|js|css)$/.test(p)) expect(['br', 'gzip'], `${p} was sent ${enc}`).toContain(enc);
  }
  expect([...sizes.keys()].filter((p) => p.includes('settings'))).toEqual([]);
  expect(total, list).toBeLessThanOrEqual(200_000);
});

test('the build files are named after their content and cached for a year; pages never', async ({ page }) => {
  const caching = new Map<string, string>();
  page.on('response', (res) => {
    caching.set(new URL(res.url()).pathname, res.headers()['cache-control'] ?? '');
  });
  await page.goto('/');
  await expect(page.locator('.feed')).toHaveAttribute('data-state', 'live', { timeout: 15_000 });
  await page.waitForLoadState('networkidle');
  const build = [...caching.keys()].filter((p) => p.startsWith('/pkg/'));
  expect(build.filter((p) => /\.(wasm|js|css)$/.test(p)).length).toBeGreaterThanOrEqual(3);
  for (const p of build) {
    // cargo-leptos's content hash: 22 characters of URL-safe base64 in the name.
    expect(p, 'a build file without a hash in its name').toMatch(/[.][A-Za-z0-9_-]{22}[.]/);
    expect(caching.get(p), p).toBe('public, max-age=31536000, immutable');
  }
  expect(caching.get('/')).toBe('no-store');
  expect(caching.get('/nav.js')).toBe('no-cache');
});
