// Waits until the server under test answers /healthz (a started server may still be binding its port),
// then signs in once with E2E_PASSWORD and saves the session cookie for every test (storageState).
import { request } from '@playwright/test';

export const STORAGE_STATE = './test-results/.auth.json';

export default async function globalSetup(): Promise<void> {
  const base = process.env.BASE_URL ?? 'http://127.0.0.1:3000';
  const deadline = Date.now() + 30_000;
  let last = '';
  let up = false;
  while (Date.now() < deadline && !up) {
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) up = true;
      else last = `HTTP ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  if (!up) throw new Error(`the server at ${base} did not answer /healthz within 30 s (${last})`);

  const password = process.env.E2E_PASSWORD;
  if (!password) throw new Error('E2E_PASSWORD must be set (scripts/test sets it)');
  const ctx = await request.newContext({ baseURL: base });
  const res = await ctx.post('/auth/login', {
    form: { password },
    headers: { Origin: base },
    maxRedirects: 0,
  });
  if (res.status() !== 303 || res.headers()['location'] !== '/') {
    throw new Error(`sign-in failed: HTTP ${res.status()} to ${res.headers()['location']}`);
  }
  await ctx.storageState({ path: STORAGE_STATE });
  await ctx.dispose();
}
