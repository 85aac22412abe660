// Every page: registers the service worker, offers a new version, marks offline copies,
// says what waits in the outbox, and asks the worker to send it at the right moments.

import { ask, onWorkerMessage, personOnPage, whenParsed } from '/static/worker-client.js';
import '/static/outbox-forms.js';

const WORKER_URL = '/sw.js';
const SESSION_URL = '/session.json';
const REPLAY_EVERY_MS = 15_000; // while the page is open and something waits
const UPDATE_CHECK_EVERY_MS = 60 * 60_000;

let waiting = 0;

guardForms();
whenParsed(() => {
  markOfflineCopy();
  if ('serviceWorker' in navigator) start();
});

async function start() {
  navigator.serviceWorker.startMessages();
  onWorkerMessage('outbox-changed', showOutbox);
  onWorkerMessage('outbox-sent', showOutbox);
  let registration = null;
  try {
    registration = await navigator.serviceWorker.register(WORKER_URL, {
      type: 'module',
      scope: '/',
      updateViaCache: 'none',
    });
  } catch (error) {
    console.warn('the service worker did not register; forms post directly', error);
    return;
  }
  offerUpdates(registration);
  await showOutbox();
  replay('page-load');
  window.addEventListener('online', () => replay('online'));
  setInterval(() => {
    if (waiting && document.visibilityState === 'visible') replay('timer', true);
  }, REPLAY_EVERY_MS);
  setInterval(() => registration.update().catch(() => undefined), UPDATE_CHECK_EVERY_MS);
}

function replay(reason, dueOnly = false) {
  ask('replay', { reason, dueOnly }, { timeoutMs: 5 * 60_000 }).catch(() => undefined);
}

/** The outbox line on every page: what waits, and what needs the partner. */
async function showOutbox() {
  const line = document.querySelector('[data-outbox-status]');
  let summary;
  try {
    summary = await ask('summary', { person: personOnPage() });
  } catch {
    return;
  }
  waiting = summary.queued;
  if (!line) return;
  const parts = [];
  const mine = summary.queued + summary.attention;
  if (personOnPage() === '' && summary.others) {
    parts.push('Forms saved on this phone wait to be sent. Sign in to send them.');
  } else if (summary.signInNeeded && mine) {
    parts.push(`${count(mine, 'form')} saved on this phone.`);
    parts.push('Sign in again to send them; nothing is lost.');
    parts.push(link('/sign-in', 'Sign in'));
  } else if (mine) {
    if (summary.queued) {
      parts.push(
        `${count(summary.queued, 'form')} saved on this phone, ` +
          'will be sent automatically.',
      );
    }
    if (summary.attention) {
      const verb = summary.attention === 1 ? 'needs' : 'need';
      parts.push(`${count(summary.attention, 'form')} ${verb} your attention.`);
    }
    parts.push(link('/#saved', 'See them'));
  }
  line.replaceChildren(...parts.flatMap((part, i) => (i ? [' ', part] : [part])));
  line.dataset.pending = String(mine);
  line.hidden = parts.length === 0;
}

function count(number, noun) {
  return `${number} ${noun}${number === 1 ? '' : 's'}`;
}

function link(href, text) {
  const anchor = document.createElement('a');
  anchor.href = href;
  anchor.textContent = text;
  return anchor;
}

/** A page the worker served from this phone says so, and when it was fetched. */
function markOfflineCopy() {
  const fetchedAt = document.documentElement.dataset.offlineCopy;
  const notice = document.querySelector('[data-offline-notice]');
  if (!fetchedAt || !notice) return;
  const time = notice.querySelector('time');
  time.dateTime = fetchedAt;
  time.textContent = new Date(fetchedAt).toLocaleString([], {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  notice.hidden = false;
}

/** A new version is offered, and taken only when the partner says so. */
function offerUpdates(registration) {
  const notice = document.querySelector('[data-update-offer]');
  let accepted = false;
  const offer = (worker) => {
    if (!notice || !navigator.serviceWorker.controller) return;
    notice.hidden = false;
    notice.querySelector('button').onclick = () => {
      accepted = true;
      worker.postMessage({ type: 'skip-waiting' });
    };
  };
  if (registration.waiting) offer(registration.waiting);
  registration.addEventListener('updatefound', () => {
    const worker = registration.installing;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'installed') offer(worker);
    });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!accepted) return;
    accepted = false; // the event can come twice: on activation, and on claim
    window.location.reload();
  });
}

/**
 * Signing out warns about forms not sent yet and forgets the offline copies. A form in an
 * offline copy has no CSRF token: it gets a fresh one before it posts.
 */
function guardForms() {
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (event.defaultPrevented || form.matches('[data-outbox]')) return;
    const signOut = form.matches('[data-sign-out]');
    const token = form.querySelector('input[name="csrf_token"]');
    if (!signOut && !(token && !token.value)) return;
    event.preventDefault();
    prepare(form, signOut, token).then((ready) => {
      if (ready) form.submit();
      else delete form.dataset.sending;
    });
  });
}

async function prepare(form, signOut, token) {
  if (signOut) {
    const summary = await ask(
      'summary',
      { person: personOnPage() },
      { timeoutMs: 2000 },
    ).catch(() => null);
    const left = summary ? summary.queued + summary.attention : 0;
    const warning =
      `${count(left, 'form')} saved on this phone ` +
      `${left === 1 ? 'is' : 'are'} not sent yet. ` +
      'They stay on this phone and are sent when you sign in again. Sign out anyway?';
    if (left && !window.confirm(warning)) return false;
    await ask('signed-out').catch(() => undefined);
  }
  if (token && !token.value) {
    const session = await fetch(SESSION_URL, {
      headers: { Accept: 'application/json' },
      cache: 'no-store',
    })
      .then((response) => response.json())
      .catch(() => null);
    if (!session) {
      window.alert('This needs the connection: try again when you are back online.');
      return false;
    }
    if (!session.csrf_token) {
      window.location.assign('/sign-in'); // the session ended meanwhile
      return false;
    }
    token.value = session.csrf_token;
  }
  return true;
}
