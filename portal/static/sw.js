// The portal's service worker, served at /sw.js so that its scope is the whole portal.
//
// `SHELL` ({version, assets}) is stamped above this comment by portal/views/offline.py:
// any change to a shell file changes these bytes, so phones see the new version.
//
// The parts live apart: network strategies (sw/strategies.js), the outbox's queue
// behaviour (sw/outbox.js), its IndexedDB store (sw/store.js), request serialisation
// (sw/serialise.js) and push notifications (sw/notifications.js). This file only wires
// them to the worker's events.

import * as notifications from '/static/sw/notifications.js';
import * as outbox from '/static/sw/outbox.js';
import * as strategies from '/static/sw/strategies.js';

self.addEventListener('install', (event) => {
  event.waitUntil(strategies.precache(SHELL));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      await strategies.dropOldShells(SHELL);
      await self.clients.claim();
      replay('activate');
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const answer = strategies.respond(event, SHELL);
  if (answer) event.respondWith(answer);
});

self.addEventListener('sync', (event) => {
  if (event.tag === outbox.SYNC_TAG) event.waitUntil(outbox.replayForSync());
});

self.addEventListener('push', (event) => {
  event.waitUntil(notifications.show(event));
});

self.addEventListener('notificationclick', (event) => {
  event.waitUntil(notifications.open(event));
});

/** What pages may ask; each answer goes back on the port the page sent. */
const questions = {
  save: ({ item }) => outbox.save(item),
  'send-now': ({ key }) => outbox.sendNow(key),
  replay: ({ reason, dueOnly }) => outbox.replay(reason, { dueOnly }),
  summary: ({ person }) => outbox.summary(person),
  items: ({ person }) => outbox.itemsOf(person),
  item: ({ person, key }) => outbox.itemOf(person, key),
  discard: ({ person, key }) => outbox.discard(person, key),
  'signed-out': () => strategies.forgetPages(),
  'skip-waiting': () => self.skipWaiting(),
  version: () => SHELL.version,
};

self.addEventListener('message', (event) => {
  const question = questions[event.data?.type];
  if (!question) return;
  const [port] = event.ports;
  const answered = Promise.resolve()
    .then(() => question(event.data))
    .then(
      (result) => port?.postMessage({ ok: true, result }),
      (error) =>
        port?.postMessage({ ok: false, code: error.code ?? 'failed', error: `${error}` }),
    );
  event.waitUntil(answered);
});

function replay(reason) {
  outbox
    .replay(reason)
    .catch((error) => console.warn(`outbox replay (${reason}) failed`, error));
}

// The browser starts the worker when it needs it (a page opens, a sync is due): a good
// moment to send what waits. Only an active worker sends; a new one waits to activate.
if (self.serviceWorker?.state === 'activated') replay('worker-start');
