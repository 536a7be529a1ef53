// Lighthouse's verdict on every page of the navigation (issue 20): performance, accessibility and
// best practices with its default mobile preset (simulated slow 4G and a 4x slower CPU), driving
// Debian's Chromium against a real `mnemosynce serve` on localhost, signed in. Targets: performance
// >= 98, accessibility 100, best practices 100 on every page. Prints each page's scores, its largest
// contentful paint and what Lighthouse flagged.
//
// Usage: scripts/bench lighthouse [PATH...]   (node scripts/bench_lighthouse.mjs BIN SITE [PATH...]);
// with paths, only those pages, with their timings (total blocking time, time to interactive).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PASSWORD, startServer } from './bench_server.mjs';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(top, 'scripts', 'lighthouse', 'package.json'));
const lighthouse = (await import(require.resolve('lighthouse'))).default;
const chromeLauncher = await import(require.resolve('chrome-launcher'));

const [bin, site, ...only] = process.argv.slice(2);
const ALL = [
  '/',
  '/history',
  '/snapshots',
  '/settings',
  '/settings/config',
  '/settings/keys',
  '/settings/connections',
  '/settings/schedule',
  '/settings/retention',
  '/settings/email',
  '/settings/password',
  '/runs/1',
];
const PAGES = only.length ? only : ALL;

const { url, stop } = await startServer(bin, site, 3);
let chrome;
try {
  const signIn = await fetch(`${url}/auth/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: url },
    body: new URLSearchParams({ password: PASSWORD }),
  });
  const cookie = signIn.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  if (!cookie) throw new Error(`sign-in gave no cookie (${signIn.status})`);

  chrome = await chromeLauncher.launch({
    chromePath: '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox'],
  });
  const rows = [];
  for (const path of PAGES) {
    const result = await lighthouse(`${url}${path}`, {
      port: chrome.port,
      logLevel: 'error',
      output: 'json',
      onlyCategories: ['performance', 'accessibility', 'best-practices'],
      extraHeaders: { Cookie: cookie },
    });
    const lhr = result.lhr;
    const score = (id) => Math.round((lhr.categories[id].score ?? 0) * 100);
    const flagged = Object.values(lhr.audits)
      .filter((a) => a.score !== null && a.score < 0.9 && !['informative', 'notApplicable', 'manual'].includes(a.scoreDisplayMode))
      .map((a) => a.id);
    rows.push({
      path,
      performance: score('performance'),
      accessibility: score('accessibility'),
      bestPractices: score('best-practices'),
      lcp: lhr.audits['largest-contentful-paint'].displayValue,
      flagged,
    });
    console.log(
      `${path.padEnd(24)} performance ${String(score('performance')).padStart(3)}  accessibility ${String(score('accessibility')).padStart(3)}  best practices ${String(score('best-practices')).padStart(3)}  LCP ${lhr.audits['largest-contentful-paint'].displayValue}  ${flagged.join(', ')}`,
    );
    if (only.length) {
      const shown = ['first-contentful-paint', 'speed-index', 'total-blocking-time', 'interactive', 'max-potential-fid'];
      console.log('  ' + shown.map((id) => `${id} ${lhr.audits[id].displayValue}`).join(', '));
    }
  }
  const worst = (k) => Math.min(...rows.map((r) => r[k]));
  console.log(
    `worst: performance ${worst('performance')} (target >= 98), accessibility ${worst('accessibility')} (100), best practices ${worst('bestPractices')} (100)`,
  );
} finally {
  if (chrome) await chrome.kill();
  stop();
}
