// Mnemosynce's client-side navigation: the pages are rendered by the server, and this script turns
// moving between them into single-page navigation (README, "The web app").
//
// A click on a same-origin link, a plain form's submit and the browser's back/forward are caught;
// the next page's HTML is fetched, and the document's <body> is
// swapped for the new one, except for the islands (the live, WASM-driven parts) that the new page
// has too, with the same props: those stay, with their state — the header's feed indicator, and
// with it the tab's one WebSocket, lives for the whole visit. New islands are hydrated; the ones
// that left are disposed by the app when it hears `mnemosynce:navigated`.
//
// Invariants:
// - Only the newest navigation applies (a slow answer never overwrites a newer page).
// - Anything that is not an HTML answer, and any network failure, falls back to an ordinary
//   navigation, so downloads still download and the service worker's offline page still shows.
// - Forms inside an island belong to the island's code (their own submit handlers) unless they say
//   `data-navigate`; links with `download`, a `target` or `rel="external"` are left to the browser,
//   and so is anything marked `data-reload` (the Find form: its page streams as it searches).
// - The address bar is updated before new islands hydrate, so they read the new address.
// - Scroll: a new page starts at its top (or its #fragment), back/forward restores where the page
//   was left, a refresh (`mnemosynce:refresh`, sent when a run ends) keeps the scroll position.

const hydrated = new WeakSet(document.querySelectorAll('leptos-island'));
let latest = 0;
// Navigations still waiting for their answer: a refresh never overtakes one (the page it would
// refresh is on its way out, and the new one comes fresh).
let inFlight = 0;
// The address (without #fragment) whose page the body shows: back/forward between fragments of one
// page only scrolls.
let shownPage = location.pathname + location.search;

history.scrollRestoration = 'manual';

function sameDocumentHash(url) {
  return url.hash !== '' && url.pathname === location.pathname && url.search === location.search;
}

function linkTarget(ev) {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) {
    return null;
  }
  const a = ev.target instanceof Element ? ev.target.closest('a[href]') : null;
  if (!a || a.hasAttribute('download') || a.hasAttribute('data-reload')) return null;
  if (a.target && a.target !== '_self') return null;
  if ((a.getAttribute('rel') || '').split(/\s+/).includes('external')) return null;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || sameDocumentHash(url)) return null;
  return url;
}

function formRequest(ev) {
  const form = ev.target;
  if (ev.defaultPrevented || !(form instanceof HTMLFormElement)) return null;
  if (form.closest('leptos-island') && !form.hasAttribute('data-navigate')) return null;
  if (form.hasAttribute('data-reload')) return null;
  if (form.target && form.target !== '_self') return null;
  const submitter = ev.submitter;
  const method = (submitter?.getAttribute('formmethod') || form.method || 'get').toUpperCase();
  const url = new URL(submitter?.getAttribute('formaction') || form.action, location.href);
  if (url.origin !== location.origin || (method !== 'GET' && method !== 'POST')) return null;
  const data = new FormData(form, submitter);
  if (method === 'GET') {
    url.search = new URLSearchParams(data).toString();
    return { url, method, body: null, form };
  }
  const multipart = form.enctype === 'multipart/form-data';
  return { url, method, body: multipart ? data : new URLSearchParams(data), form };
}

// The islands of `next` that the current page has with the same component and props are replaced
// by the current ones, which keep their state. A reload (a link to the page shown: "Reload the
// page") keeps only the header's: the page itself starts afresh and reads its data again.
function keepIslands(next, mode) {
  const within = mode === 'reload' ? 'body > :not(main) leptos-island' : 'leptos-island';
  const old = [...document.body.querySelectorAll(within)];
  for (const island of next.querySelectorAll('leptos-island')) {
    const i = old.findIndex(
      (o) => o.dataset.component === island.dataset.component && o.dataset.props === island.dataset.props,
    );
    if (i >= 0) {
      island.replaceWith(old[i]);
      old.splice(i, 1);
    }
  }
}

// What Leptos serialised for the server-rendered parts of the *first* document. No island hydrates
// from it (the settings island gets its data in its props: app/src/pages/panel.rs), and a
// resource made later must not find another page's data under a reused id.
function forgetSerializedData() {
  for (const name of ['__RESOLVED_RESOURCES', '__SERIALIZED_ERRORS', '__INCOMPLETE_CHUNKS']) {
    if (Array.isArray(window[name])) window[name].length = 0;
  }
}
forgetSerializedData();

function hydrateNewIslands() {
  // Before the WASM is ready, Leptos hydrates whatever the body then holds by itself.
  if (typeof window.__hydrateIsland !== 'function' || !window.__mnemosynceLive) return;
  for (const island of document.body.querySelectorAll('leptos-island')) {
    if (hydrated.has(island)) continue;
    hydrated.add(island);
    // Islands inside an island are hydrated by their parent.
    if (island.parentElement?.closest('leptos-island')) continue;
    window.__hydrateIsland(island, island.dataset.component);
  }
}

function swap(doc, mode) {
  document.title = doc.title;
  const next = document.adoptNode(doc.body);
  // Inline scripts of the new page never run (a swapped-in script is inert, and the page's CSP
  // nonce is not this document's): drop them.
  for (const script of next.querySelectorAll('script')) script.remove();
  keepIslands(next, mode);
  for (const { name } of [...document.body.attributes]) document.body.removeAttribute(name);
  for (const { name, value } of next.attributes) document.body.setAttribute(name, value);
  document.body.replaceChildren(...next.childNodes);
  forgetSerializedData();
  hydrateNewIslands();
}

function scrollAfter(mode, url, state) {
  if (mode === 'refresh' || mode === 'reload') return;
  if (mode === 'pop') {
    window.scrollTo(0, state?.scroll || 0);
    return;
  }
  const target = url.hash && document.getElementById(decodeURIComponent(url.hash.slice(1)));
  if (target) target.scrollIntoView();
  else window.scrollTo(0, 0);
}

async function navigate(url, options) {
  inFlight += 1;
  try {
    await load(url, options);
  } finally {
    inFlight -= 1;
  }
}

async function load(url, { method = 'GET', body = null, mode = 'push', fallback }) {
  const id = ++latest;
  let answer;
  let html;
  try {
    answer = await fetch(url, {
      method,
      body,
      headers: { Accept: 'text/html' },
      credentials: 'same-origin',
    });
    if (id !== latest) return;
    if (!(answer.headers.get('content-type') || '').startsWith('text/html')) {
      answer.body?.cancel();
      fallback();
      return;
    }
    html = await answer.text();
  } catch {
    if (id === latest) fallback();
    return;
  }
  if (id !== latest) return;
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const shown = new URL(answer.redirected ? answer.url : url, location.href);
  shown.hash = answer.redirected ? '' : new URL(url, location.href).hash;
  const keepScroll = mode === 'refresh' || mode === 'reload';
  const state = mode === 'pop' ? history.state : { scroll: keepScroll ? window.scrollY : 0 };
  if (mode === 'push') {
    history.replaceState({ ...history.state, scroll: window.scrollY }, '');
    history.pushState(state, '', shown);
  } else {
    history.replaceState(state ?? {}, '', shown);
  }
  shownPage = shown.pathname + shown.search;
  swap(doc, mode);
  scrollAfter(mode, shown, state);
  window.dispatchEvent(new CustomEvent('mnemosynce:navigated', { detail: { url: shown.href, mode } }));
}

window.addEventListener('click', (ev) => {
  const url = linkTarget(ev);
  if (!url) return;
  ev.preventDefault();
  const mode = url.pathname + url.search === shownPage ? 'reload' : 'push';
  navigate(url, { mode, fallback: () => location.assign(url) });
});

window.addEventListener('submit', (ev) => {
  const req = formRequest(ev);
  if (!req) return;
  ev.preventDefault();
  const { url, method, body, form } = req;
  const fallback = () => (method === 'GET' ? location.assign(url) : HTMLFormElement.prototype.submit.call(form));
  navigate(url, { method, body, fallback });
});

window.addEventListener('popstate', () => {
  const url = new URL(location.href);
  if (url.pathname + url.search === shownPage) {
    scrollAfter(url.hash ? 'push' : 'pop', url, history.state);
    return;
  }
  navigate(url, { mode: 'pop', fallback: () => location.reload() });
});

window.addEventListener('mnemosynce:refresh', () => {
  if (inFlight > 0) return;
  const url = new URL(location.href);
  navigate(url, { mode: 'refresh', fallback: () => {} });
});
