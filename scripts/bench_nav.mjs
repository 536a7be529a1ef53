// Client-side navigation, measured in Debian's Chromium (issue 20): a click from the dashboard to
// History and back, until the next page's heading is on screen, p50/p95 over ROUNDS clicks each
// way — against the baseline measured in the same run: the same two pages opened as document loads
// (what every click cost before nav.js). Target: p95 <= 150 ms on this machine.
//
// Usage: scripts/bench nav [ROUNDS]   (node scripts/bench_nav.mjs BIN SITE ROUNDS)
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORD, startServer } from './bench_server.mjs';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(top, 'end2end', 'package.json'));
const { chromium } = require('playwright');

const [bin, site, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg || 30);

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// A few runs, so History and the dashboard have rows to show.
const { url, stop } = await startServer(bin, site, 5);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
try {
  const page = await browser.newPage();
  await page.goto(`${url}/login`);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('.feed[data-state="live"]').waitFor({ timeout: 15_000 });

  // The baseline: each page as a document load, until its heading is there.
  const documentLoads = [];
  for (let i = 0; i < rounds; i++) {
    for (const [path, name] of [['/history', 'History'], ['/', 'Dashboard']]) {
      const t0 = Date.now();
      await page.goto(url + path, { waitUntil: 'commit' });
      await page.getByRole('heading', { level: 1, name }).waitFor();
      documentLoads.push(Date.now() - t0);
    }
  }
  await page.locator('.feed[data-state="live"]').waitFor({ timeout: 15_000 });

  // Client-side: a click on the header's link, timed in the page until the heading is painted.
  const clicks = [];
  for (let i = 0; i < rounds; i++) {
    for (const name of ['History', 'Dashboard']) {
      clicks.push(
        await page.evaluate(async (name) => {
          const link = [...document.querySelectorAll('nav[aria-label="Main"] a')].find((a) => a.textContent === name);
          const t0 = performance.now();
          link.click();
          await new Promise((resolve) => {
            const check = () => {
              const h1 = document.querySelector('main h1');
              if (h1 && h1.textContent === name) requestAnimationFrame(() => resolve());
              else requestAnimationFrame(check);
            };
            check();
          });
          return performance.now() - t0;
        }, name),
      );
    }
  }
  const f = (v) => `${v.toFixed(1)} ms`;
  console.log(`navigation, ${rounds} round trips dashboard <-> History (Chromium, localhost)`);
  console.log(`  document loads (baseline): p50 ${f(percentile(documentLoads, 50))}, p95 ${f(percentile(documentLoads, 95))}`);
  console.log(`  client-side clicks:        p50 ${f(percentile(clicks, 50))}, p95 ${f(percentile(clicks, 95))}  (target p95 <= 150 ms)`);
  console.log(`  ratio p95 click / p95 document load: ${(percentile(clicks, 95) / percentile(documentLoads, 95)).toFixed(2)}`);
} finally {
  await browser.close();
  stop();
}
