// The outbox's queue behaviour: what is sent when, in whose session, and what each answer
// from the server means for the item. Runs in the service worker only; pages ask it
// through messages (portal/static/worker-client.js).
//
// Guarantees: an item leaves only when the server confirmed it (a 2xx JSON answer naming
// the record); items are sent oldest first, one replay at a time across every page and
// worker of the origin (a Web Lock); an item is sent only in its owner's session. The
// server makes a repeated submission key land on the same record, as a second guarantee.

import * as store from '/static/sw/store.js';
import { toRequest } from '/static/sw/serialise.js';

export const SYNC_TAG = 'outbox';
const LOCK_NAME = 'portal-outbox-replay';
const SESSION_URL = '/session.json';

// A send that takes longer than this is given up and retried: a stalled connection on a
// phone often ends in silence, not in an error.
const SEND_TIMEOUT_MS = 30_000;
const SEND_TIMEOUT_PER_MB_MS = 8_000; // plus this per megabyte of files: ~1 Mbit/s uplink
const SESSION_TIMEOUT_MS = 15_000;
const RETRY_FIRST_MS = 5_000; // after the first failure; doubles with each one after
const RETRY_LONGEST_MS = 5 * 60_000;
const RETRY_JITTER = 0.2; // ± a fifth, so phones that failed together retry apart
const RECENT_OUTCOMES = 50; // answers kept for pages waiting on their submission

export const QUEUED = 'queued';
export const ATTENTION = 'attention';

export class OutboxError extends Error {
  /** @param {string} code kebab-case reason, e.g. 'network', 'timeout' */
  constructor(code, message) {
    super(message ?? code);
    this.name = 'OutboxError';
    this.code = code;
  }
}

// What the last replay learnt about the session; pages show it ("sign in again to send").
let signInNeeded = false;
const recentOutcomes = new Map();
let chain = Promise.resolve();

/** Saves an item a page submitted; it is sent by the next replay. */
export async function save(item) {
  const existing = (await store.list()).find((saved) => saved.key === item.key);
  const now = Date.now();
  await store.put({
    ...item,
    createdAt: existing?.createdAt ?? now,
    savedAt: now,
    state: QUEUED,
    attempts: 0,
    nextAttemptAt: 0,
    problem: null,
  });
  recentOutcomes.delete(item.key);
  await announce({ type: 'outbox-changed' });
  await askForSync();
  return { key: item.key };
}

/** Sends at once (after any replay in progress) and tells how the item fared. */
export async function sendNow(key) {
  const report = await replay('submit');
  if (recentOutcomes.has(key)) return recentOutcomes.get(key);
  const left = (await store.list()).find((item) => item.key === key);
  if (!left) return { code: 'sent' };
  if (left.state === ATTENTION) return { ...left.problem };
  return { code: report.stopped === 'sign-in-required' ? report.stopped : 'queued' };
}

/**
 * One replay of the outbox, after any replay already running anywhere in the origin.
 * @param {string} reason what asked: 'page-load', 'online', 'sync', 'timer', ...
 * @param {{dueOnly?: boolean}} options the timer respects each item's backoff; a person,
 *   the network coming back or a sync event do not
 * @returns {Promise<object>} what happened: sent keys, and why it stopped if it did
 */
export function replay(reason, { dueOnly = false } = {}) {
  const run = () => drain(reason, dueOnly);
  if (self.navigator.locks) return self.navigator.locks.request(LOCK_NAME, run);
  // No Web Locks (Safari before 15.4): one worker at a time still holds for this worker.
  const next = chain.then(run, run);
  chain = next.catch(() => undefined);
  return next;
}

/** For a sync event: fails while items still wait, so the browser tries again later. */
export async function replayForSync() {
  const report = await replay('sync');
  if (
    ['network', 'timeout', 'server-busy', 'unexpected-answer'].includes(report.stopped)
  ) {
    throw new OutboxError(report.stopped, 'items still wait for the network');
  }
}

async function drain(reason, dueOnly) {
  const report = { reason, sent: [], stopped: null };
  const tried = new Set();
  let session = null;
  for (;;) {
    const now = Date.now();
    const next = (await store.list()).find(
      (item) =>
        item.state === QUEUED &&
        !tried.has(item.key) &&
        (!dueOnly || item.nextAttemptAt <= now) &&
        (!session || item.owner === session.person.id),
    );
    if (!next) break;
    tried.add(next.key);
    if (!session) {
      try {
        session = await currentSession();
      } catch (error) {
        report.stopped = error.code;
        break;
      }
      signInNeeded = !session.person;
      if (!session.person) {
        report.stopped = 'sign-in-required';
        break;
      }
      if (next.owner !== session.person.id) continue; // it waits for its owner
    }
    const outcome = await send(next, session);
    await settle(next, outcome);
    if (outcome.code === 'sent') report.sent.push(next.key);
    if (outcome.stop) {
      report.stopped = outcome.code;
      break;
    }
  }
  if (tried.size) await announce({ type: 'outbox-changed' });
  return report;
}

/** Who is signed in, and a CSRF token of that session. */
async function currentSession() {
  const response = await fetchWithin(
    new Request(SESSION_URL, {
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
    }),
    SESSION_TIMEOUT_MS,
  );
  const body = response.ok ? await jsonOf(response) : null;
  if (!body) {
    throw new OutboxError(response.status >= 500 ? 'server-busy' : 'unexpected-answer');
  }
  return { person: body.person, csrfToken: body.csrf_token };
}

/** Sends one item; an expired CSRF token is replaced once with a fresh one. */
async function send(item, session) {
  const full = await store.get(item.key);
  if (!full || full.savedAt !== item.savedAt) return { code: 'changed' };
  let outcome = await attempt(full, session.csrfToken);
  if (outcome.code !== 'csrf-expired') return outcome;

  let fresh;
  try {
    fresh = await currentSession();
  } catch (error) {
    return retry(error.code);
  }
  if (!fresh.person) return { code: 'sign-in-required', stop: true };
  if (fresh.person.id !== item.owner) return { code: 'wrong-person' };
  session.csrfToken = fresh.csrfToken;
  outcome = await attempt(full, fresh.csrfToken);
  return outcome.code === 'csrf-expired' ? retry('csrf-expired') : outcome;
}

async function attempt(item, csrfToken) {
  const megabytes = item.files.reduce((sum, file) => sum + file.size, 0) / (1024 * 1024);
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(),
    SEND_TIMEOUT_MS + megabytes * SEND_TIMEOUT_PER_MB_MS,
  );
  try {
    const response = await fetch(toRequest(item, csrfToken, timeout.signal));
    return await outcomeOf(response);
  } catch (error) {
    return retry(timeout.signal.aborted ? 'timeout' : 'network');
  } finally {
    clearTimeout(timer);
  }
}

/** What an answer from the server means for the item. */
async function outcomeOf(response) {
  if (
    response.type === 'opaqueredirect' ||
    (response.status >= 300 && response.status < 400)
  ) {
    // A page for people (the sign-in page), not a confirmation.
    return { code: 'sign-in-required', stop: true };
  }
  const body = await jsonOf(response);
  const status = response.status;
  if (response.ok) {
    const record = body?.registration;
    if (record?.id && record?.url) return { code: 'sent', record };
    return attention(
      'unexpected-answer',
      'The portal gave an answer this phone cannot read.',
    );
  }
  if (status === 401) return { code: 'sign-in-required', stop: true };
  if (status === 400 && body?.error === 'form-expired') return { code: 'csrf-expired' };
  if (status === 403 && body?.error === 'wrong-person') return { code: 'wrong-person' };
  if (status === 400 || status === 422) {
    const code = body?.error ?? 'validation-failed';
    return attention(code, body?.message, body?.fields, body?.form);
  }
  if (status === 413) return attention('too-large', body?.message);
  if (status === 415) return attention('unsupported-type', body?.message);
  if (status === 408 || status === 429 || status >= 500) {
    return retry('server-busy', Number(response.headers.get('Retry-After')) * 1000 || 0);
  }
  return attention(body?.error ?? `refused-${status}`, body?.message);
}

async function jsonOf(response) {
  const type = response.headers.get('Content-Type') ?? '';
  if (!type.includes('application/json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function retry(code, waitMs = 0) {
  return { code, retry: true, stop: true, waitMs };
}

function attention(code, message, fields = {}, form = []) {
  return {
    code,
    attention: true,
    message: message || 'The portal did not accept this. Open it to see why.',
    fields: fields ?? {},
    form: form ?? [],
  };
}

async function settle(item, outcome) {
  remember(item.key, outcome);
  if (outcome.code === 'sent') {
    await store.remove(item.key, item.savedAt);
    await announce({
      type: 'outbox-sent',
      key: item.key,
      title: item.title,
      url: outcome.record.url,
    });
  } else if (outcome.retry) {
    const attempts = item.attempts + 1;
    const waitMs = Math.max(backoff(attempts), outcome.waitMs);
    await store.update(item.key, item.savedAt, {
      attempts,
      nextAttemptAt: Date.now() + waitMs,
    });
    await askForSync();
  } else if (outcome.attention) {
    const { code, message, fields, form } = outcome;
    await store.update(item.key, item.savedAt, {
      state: ATTENTION,
      problem: { code, message, fields, form },
    });
  } else if (outcome.code === 'sign-in-required') {
    signInNeeded = true;
  }
}

/** How long to wait after the `attempts`-th failure: doubling, capped, with jitter. */
function backoff(attempts) {
  const base = Math.min(RETRY_LONGEST_MS, RETRY_FIRST_MS * 2 ** (attempts - 1));
  return Math.round(base * (1 + RETRY_JITTER * (2 * Math.random() - 1)));
}

function remember(key, outcome) {
  recentOutcomes.delete(key);
  recentOutcomes.set(key, {
    code: outcome.code,
    url: outcome.record?.url,
    message: outcome.message,
    fields: outcome.fields,
    form: outcome.form,
  });
  if (recentOutcomes.size > RECENT_OUTCOMES) {
    recentOutcomes.delete(recentOutcomes.keys().next().value);
  }
}

/**
 * What waits on this phone, as a page shows it.
 * @param {string|null} person the ID of the person the page is for; '' when nobody is
 *   signed in; null on a page for everyone, which counts every item as the person's
 */
export async function summary(person) {
  const items = await store.list();
  const mine = items.filter((item) => person === null || item.owner === person);
  return {
    queued: mine.filter((item) => item.state === QUEUED).length,
    attention: mine.filter((item) => item.state === ATTENTION).length,
    others: items.length - mine.length,
    signInNeeded: items.length > 0 && (signInNeeded || !person),
  };
}

/** The person's items without file content, oldest first. */
export async function itemsOf(person) {
  return (await store.list()).filter((item) => item.owner === person);
}

/** One of the person's items with its files, to fix it. */
export async function itemOf(person, key) {
  const item = await store.get(key);
  return item?.owner === person ? item : null;
}

/** Drops an item that needs attention: the partner decided not to send it. */
export async function discard(person, key) {
  const item = (await itemsOf(person)).find((saved) => saved.key === key);
  if (!item || item.state !== ATTENTION) return false;
  const removed = await store.remove(key, item.savedAt);
  await announce({ type: 'outbox-changed' });
  return removed;
}

async function askForSync() {
  try {
    await self.registration.sync?.register(SYNC_TAG);
  } catch {
    // Background Sync is refused or missing (iOS): the other triggers still replay.
  }
}

async function announce(message) {
  const pages = await self.clients.matchAll({
    type: 'window',
    includeUncontrolled: true,
  });
  for (const page of pages) page.postMessage(message);
}

function fetchWithin(request, timeoutMs) {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  return fetch(request, { signal: timeout.signal })
    .catch((error) => {
      throw new OutboxError(
        timeout.signal.aborted ? 'timeout' : 'network',
        error.message,
      );
    })
    .finally(() => clearTimeout(timer));
}
