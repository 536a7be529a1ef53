// What the browser benchmarks (bench_nav.mjs, bench_lighthouse.mjs) share: a real `mnemosynce serve`
// on a free loopback port, over a temporary data directory holding one task (`Photos`, 50 small
// files) and a few runs of it made with `mnemosynce run`, so the pages have rows to show. Stopped
// (by its process) and its data removed by `stop()`.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PASSWORD = 'bench password 123';

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

/** Starts the server (`bin` serving `site`) after `runs` runs; resolves once `/healthz` answers. */
export async function startServer(bin, site, runs) {
  const data = mkdtempSync(join(tmpdir(), 'mnemosynce-bench-'));
  const source = join(data, 'photos');
  mkdirSync(source);
  mkdirSync(join(data, 'store'));
  for (let i = 0; i < 50; i++) writeFileSync(join(source, `photo-${i}.jpg`), `photo ${i}\n`);
  writeFileSync(
    join(data, 'backup_config.yml'),
    `dir_backup_local: ${join(data, 'store')}\nemail: {enabled: false}\ntimezone: UTC\ntasks:\n  - name: Photos\n    dir_source: ${source}\n`,
  );
  for (let i = 0; i < runs; i++) execFileSync(bin, ['run', '--data', data], { stdio: 'ignore' });

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ['serve', '--data', data, '--addr', `127.0.0.1:${port}`, '--site', site], {
    env: { ...process.env, MNEMOSYNCE_ADMIN_PASSWORD: PASSWORD },
    stdio: 'ignore',
  });
  const stop = () => {
    child.kill();
    rmSync(data, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/healthz`);
      return { url, stop };
    } catch {
      if (i > 100) {
        stop();
        throw new Error('the server did not start');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
