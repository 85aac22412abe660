// Network strategies: the app shell from its versioned precache, the pages a partner
// opened network-first with an offline copy for when the network fails, everything else
// straight to the network.
//
// Offline copies belong to one person. The portal names the signed-in person in a header
// on every page; when someone else (or nobody) is named, every other person's copies go.
// A copy never keeps a CSRF token or a submission key: forms in a copy get fresh ones.

const SHELL_CACHE_PREFIX = 'shell-';
const PAGES_CACHE_PREFIX = 'pages-';
const PERSON_HEADER = 'X-Portal-Person';
const OFFLINE_URL = '/offline';
const STATIC_PREFIX = '/static/';
// The digest in a static file's name: `app.0123456789ab.css`.
const DIGEST = /\.([0-9a-f]{12})\./;
const FORM_URL = '/registrations/new';

// After this long a page comes from its offline copy; the network may still answer later.
const NAVIGATION_TIMEOUT_MS = 6_000;
const MAX_OFFLINE_PAGES = 60; // per person; the least recently fetched go first

/** The pages kept for reading offline: My Deals, the registration form, registrations. */
const OFFLINE_PAGES = [
  /^\/$/,
  /^\/registrations\/new$/,
  /^\/registrations\/[A-Za-z0-9]{15,18}$/,
];

/** The headers of a page its offline copy keeps. */
const KEPT_HEADERS = [
  'Content-Security-Policy',
  'Permissions-Policy',
  'Referrer-Policy',
  'X-Content-Type-Options',
  'X-Frame-Options',
];

/** Hidden inputs whose values must not outlive the page they were rendered in. */
const ONE_USE_INPUT = /\bname="(csrf_token|submission_key|action_key)"/;

export function shellCacheName(shell) {
  return SHELL_CACHE_PREFIX + shell.version;
}

/**
 * Keeps this version's shell; the worker installs only if all of it arrived. The shell is
 * the same for everyone, so what goes to the network goes without cookies: a signed-in
 * session's cookie, refreshed by every answer, could otherwise land after a sign-in and
 * undo it. Static files the page already loaded are taken from the browser's cache.
 */
export async function precache(shell) {
  const cache = await caches.open(shellCacheName(shell));
  await Promise.all(
    shell.assets.map(async (url) => {
      const response =
        (await heldCopy(url)) ??
        (await fetch(new Request(url, { cache: 'reload', credentials: 'omit' })));
      if (!response.ok) throw new Error(`the shell's ${url} answered ${response.status}`);
      if (!isTheNamedFile(url, response)) {
        // A server still on the previous release answered: install again later.
        throw new Error(`the shell's ${url} answered with other content`);
      }
      await cache.put(url, response);
    }),
  );
}

/** A digested name's answer carries that digest as its ETag (with any encoding after it). */
function isTheNamedFile(url, response) {
  const named = new URL(url, self.location.origin).pathname.match(DIGEST);
  if (!named) return true;
  const etag = response.headers.get('ETag') ?? '';
  return etag.replace(/^W\//, '').startsWith(`"${named[1]}`);
}

/**
 * The browser's own copy of a static file, if it has one; nothing goes to the network.
 * Static files are named by a digest of their content, so a copy held is the right one;
 * the offline page and the manifest keep their names and are always fetched anew.
 */
async function heldCopy(url) {
  if (!url.startsWith(STATIC_PREFIX)) return null;
  try {
    const response = await fetch(url, { cache: 'only-if-cached', mode: 'same-origin' });
    return response.ok ? response : null;
  } catch {
    return null; // not held: fetched from the network instead
  }
}

/** Deletes the shells of earlier versions; offline copies and the outbox stay. */
export async function dropOldShells(shell) {
  const names = await caches.keys();
  const old = names.filter(
    (n) => n.startsWith(SHELL_CACHE_PREFIX) && n !== shellCacheName(shell),
  );
  await Promise.all(old.map((name) => caches.delete(name)));
}

/** Deletes every offline copy: someone signed out. */
export async function forgetPages() {
  const names = await caches.keys();
  await Promise.all(
    names
      .filter((n) => n.startsWith(PAGES_CACHE_PREFIX))
      .map((name) => caches.delete(name)),
  );
}

/**
 * The answer to a fetch event, or null to let the browser go to the network itself.
 * @param {FetchEvent} event
 * @param {{version: string, assets: string[]}} shell
 */
export function respond(event, shell) {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return null;
  if (request.mode === 'navigate') return page(event, shell);
  if (shell.assets.includes(url.pathname)) return fromShell(request, shell);
  if (url.pathname.startsWith(STATIC_PREFIX)) return earlierStatic(request, shell);
  return null;
}

/**
 * A static file of another release, named by a digest this shell does not hold: an offline
 * copy saved before an update asks for the files it was made with. The network may still
 * have it; if not, this shell's file of the same name is the closest there is.
 */
async function earlierStatic(request, shell) {
  try {
    const response = await fetch(request);
    if (response.ok) return response;
  } catch {
    // offline: this shell's file of the same name
  }
  const current = shell.assets.find(
    (url) => url.startsWith(STATIC_PREFIX) && plainName(url) === plainName(request.url),
  );
  return current ? fromShell(new Request(current), shell) : Response.error();
}

/** `/static/app.css` for `/static/app.0123456789ab.css`. */
function plainName(url) {
  return new URL(url, self.location.origin).pathname.replace(DIGEST, '.');
}

async function fromShell(request, shell) {
  const cache = await caches.open(shellCacheName(shell));
  return (await cache.match(request, { ignoreSearch: true })) ?? fetch(request);
}

async function page(event, shell) {
  const { request } = event;
  const network = fetch(request);
  // Registered first, so the copy is taken before the browser reads the body.
  event.waitUntil(
    network
      .then((response) => remember(request.url, response.clone()))
      .catch(() => undefined),
  );
  const timeout = new Promise((resolve) => {
    setTimeout(resolve, NAVIGATION_TIMEOUT_MS, null);
  });
  try {
    const answer = await Promise.race([network, timeout]);
    if (answer && answer.status < 500) return answer;
    // Too slow, or the portal cannot reach the deal records: the copy is more use.
    return (await offlineCopy(request.url)) ?? answer ?? (await network);
  } catch {
    return (await offlineCopy(request.url)) ?? (await offlinePage(shell));
  }
}

async function offlinePage(shell) {
  const cache = await caches.open(shellCacheName(shell));
  return (await cache.match(OFFLINE_URL)) ?? Response.error();
}

/** The signed-in person's copy of a page, or null. */
async function offlineCopy(address) {
  const url = new URL(address);
  if (!isOfflinePage(url)) return null;
  const names = (await caches.keys()).filter((name) =>
    name.startsWith(PAGES_CACHE_PREFIX),
  );
  // Copies of exactly one person exist, or none are shown.
  if (names.length !== 1) return null;
  const cache = await caches.open(names[0]);
  return (await cache.match(pageKey(url))) ?? null;
}

/** Keeps a page the person fetched, and forgets everyone else's. */
async function remember(address, response) {
  const person = response.headers.get(PERSON_HEADER);
  if (person === null) return; // a redirect, or not one of the portal's pages
  await forgetOthers(person);
  const url = new URL(address);
  if (!person || response.status !== 200 || !isOfflinePage(url)) return;

  const cache = await caches.open(PAGES_CACHE_PREFIX + person);
  await cache.put(pageKey(url), await offlineVersion(response));
  await trim(cache);
  if (url.pathname === '/' && !(await cache.match(pageKey(new URL(FORM_URL, url))))) {
    // So a partner can register a deal offline without having opened the form before.
    const form = await fetch(FORM_URL, {
      credentials: 'same-origin',
      headers: { Purpose: 'prefetch' }, // not a person opening the form: not counted
    }).catch(() => null);
    if (form) await remember(new URL(FORM_URL, url).href, form);
  }
}

async function forgetOthers(person) {
  const names = await caches.keys();
  const others = names.filter(
    (name) => name.startsWith(PAGES_CACHE_PREFIX) && name !== PAGES_CACHE_PREFIX + person,
  );
  await Promise.all(others.map((name) => caches.delete(name)));
}

async function offlineVersion(response) {
  const fetchedAt = new Date().toISOString();
  const html = (await response.text())
    .replace(/(<meta name="csrf-token" content=")[^"]*"/, '$1"')
    .replace(/<input\b[^>]*>/g, (tag) =>
      ONE_USE_INPUT.test(tag) ? tag.replace(/\svalue="[^"]*"/, ' value=""') : tag,
    )
    .replace(/<html\b/, `<html data-offline-copy="${fetchedAt}"`);
  const headers = { 'Content-Type': 'text/html; charset=utf-8' };
  // The copy is shown as the page was: under the page's own security headers.
  for (const name of KEPT_HEADERS) {
    const value = response.headers.get(name);
    if (value) headers[name] = value;
  }
  return new Response(html, { headers });
}

async function trim(cache) {
  const keys = await cache.keys();
  const excess = keys.slice(0, Math.max(0, keys.length - MAX_OFFLINE_PAGES));
  await Promise.all(excess.map((key) => cache.delete(key)));
}

function isOfflinePage(url) {
  return OFFLINE_PAGES.some((pattern) => pattern.test(url.pathname));
}

function pageKey(url) {
  return url.origin + url.pathname;
}
