// Mnemosynce's service worker (SPEC §9.3): keeps a copy of the app shell (CSS, JS, WASM, icons, the
// offline page) so that, when the server cannot be reached, the offline page shows instead of the
// browser's error. Pages and data always come from the network: they need a session and must be fresh.
//
// The build's files (/pkg/) are named after a hash of their content, so their names are learnt, not
// written here: at install from the sign-in page (a public page that names the current stylesheet,
// script and WASM), later from every /pkg/ file the pages load. A hashed file never changes: it is
// served from the cache first. The offline page is given the newest stylesheet cached.
const CACHE = 'mnemosynce-shell-v2';
const SHELL = [
  '/offline.html',
  '/favicon.ico',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/manifest.webmanifest',
];

async function cacheBuildFiles(cache) {
  const page = await fetch('/login');
  const html = await page.text();
  const named = new Set(html.match(/\/pkg\/[A-Za-z0-9_.-]+/g) || []);
  await cache.addAll([...named]);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL).then(() => cacheBuildFiles(cache).catch(() => {})))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// What a build file is, whatever the build: its name without the hash (`mnemosynce.wasm`). The
// cache keeps one file of each kind, the newest.
function kind(path) {
  return path.replace(/\.[A-Za-z0-9_-]{22}\./, '.');
}

// The offline page, with the stylesheet the cache holds (its name changes with every build).
async function offlinePage() {
  const cache = await caches.open(CACHE);
  const page = await cache.match('/offline.html');
  if (!page) return Response.error();
  const styles = (await cache.keys())
    .map((req) => new URL(req.url).pathname)
    .filter((path) => path.startsWith('/pkg/') && path.endsWith('.css'));
  let html = await page.text();
  if (styles.length > 0) html = html.replace('/pkg/mnemosynce.css', styles[styles.length - 1]);
  return new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;

  if (req.mode === 'navigate') {
    // Network first; the offline page when the server is unreachable.
    event.respondWith(fetch(req).catch(() => offlinePage()));
    return;
  }
  if (url.pathname.startsWith('/pkg/')) {
    // Named after its content: the cached copy is the file. Older builds' files of the same kind
    // are dropped as a newer one arrives.
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const hit = await cache.match(req);
        if (hit) return hit;
        const res = await fetch(req);
        if (res.ok) {
          for (const old of await cache.keys()) {
            const path = new URL(old.url).pathname;
            if (path.startsWith('/pkg/') && kind(path) === kind(url.pathname)) await cache.delete(old);
          }
          await cache.put(req, res.clone());
        }
        return res;
      }),
    );
    return;
  }
  if (SHELL.includes(url.pathname) || url.pathname.startsWith('/icons/')) {
    // Network first, the cached copy when the server is unreachable; every good answer refreshes
    // the cache.
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(CACHE).then((cache) => cache.put(req, copy));
          }
          return res;
        })
        .catch(() => caches.match(req)),
    );
  }
});
