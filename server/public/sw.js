// Mnemosynce's service worker (SPEC §9.3): keeps a copy of the app shell (CSS, JS, WASM, icons, the
// offline page) so that, when the server cannot be reached, the offline page shows instead of the
// browser's error. Pages and data always come from the network: they need a session and must be fresh.
const CACHE = 'mnemosynce-shell-v1';
// cargo-leptos names the outputs after LEPTOS_OUTPUT_NAME (mnemosynce): .css, .js and .wasm.
const SHELL = [
  '/offline.html',
  '/pkg/mnemosynce.css',
  '/pkg/mnemosynce.js',
  '/pkg/mnemosynce.wasm',
  '/favicon.ico',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/manifest.webmanifest',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()),
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

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;

  if (req.mode === 'navigate') {
    // Network first; the offline page when the server is unreachable.
    event.respondWith(fetch(req).catch(() => caches.match('/offline.html')));
    return;
  }
  if (SHELL.includes(url.pathname) || url.pathname.startsWith('/icons/')) {
    // Network first (after an upgrade the WASM must match the server's HTML), the cached copy when
    // the server is unreachable; every good answer refreshes the cache.
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
