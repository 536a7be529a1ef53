// Lighthouse's verdict on every page of the navigation (issue 20): performance, accessibility and
// best practices with its default mobile preset (simulated slow 4G and a 4x slower CPU), driving
// Debian's Chromium against a real `mnemosynce serve` on localhost, signed in. Targets: performance
// >= 98, accessibility 100, best practices 100 on every page. Prints each page's scores, its largest
// contentful paint and what Lighthouse flagged.
//
// Usage: scripts/bench lighthouse   (node scripts/bench_lighthouse.mjs BIN SITE)
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(top, 'scripts', 'lighthouse', 'package.json'));
const lighthouse = (await import(require.resolve('lighthouse'))).default;
const chromeLauncher = await import(require.resolve('chrome-launcher'));

const [bin, site] = process.argv.slice(2);
const PASSWORD = 'bench password 123';
const PAGES = [
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

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const data = mkdtempSync(join(tmpdir(), 'mnemosynce-bench-lighthouse-'));
const source = join(data, 'photos');
mkdirSync(source);
mkdirSync(join(data, 'store'));
for (let i = 0; i < 50; i++) writeFileSync(join(source, `photo-${i}.jpg`), `photo ${i}\n`);
writeFileSync(
  join(data, 'backup_config.yml'),
  `dir_backup_local: ${join(data, 'store')}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n  - name: Photos\n    dir_source: ${source}\n`,
);
for (let i = 0; i < 3; i++) execFileSync(bin, ['run', '--data', data], { stdio: 'ignore' });

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const server = spawn(bin, ['serve', '--data', data, '--addr', `127.0.0.1:${port}`, '--site', site], {
  env: { ...process.env, MNEMOSYNCE_ADMIN_PASSWORD: PASSWORD },
  stdio: 'ignore',
});
let chrome;
try {
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/healthz`);
      break;
    } catch {
      if (i > 100) throw new Error('the server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
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
  }
  const worst = (k) => Math.min(...rows.map((r) => r[k]));
  console.log(
    `worst: performance ${worst('performance')} (target >= 98), accessibility ${worst('accessibility')} (100), best practices ${worst('bestPractices')} (100)`,
  );
} finally {
  if (chrome) await chrome.kill();
  server.kill();
  rmSync(data, { recursive: true, force: true });
}
