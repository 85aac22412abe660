// How pages talk to the service worker: a question on a fresh MessageChannel, the answer
// on its port. Only the worker touches the outbox; pages ask it.

const ASK_TIMEOUT_MS = 10_000;

export class WorkerError extends Error {
  /** @param {string} code kebab-case reason, e.g. 'no-worker', 'worker-silent' */
  constructor(code, message) {
    super(message ?? code);
    this.name = 'WorkerError';
    this.code = code;
  }
}

/**
 * The ID of the person the page was rendered for: '' when nobody is signed in, null on
 * a page that is the same for everyone (the offline page).
 */
export function personOnPage() {
  return document.querySelector('meta[name="portal-person"]')?.content ?? null;
}

/**
 * Asks the worker; resolves with its answer.
 * @param {string} type a question sw.js knows: 'save', 'send-now', 'summary', ...
 * @param {object} body the question's details
 * @param {{timeoutMs?: number, transfer?: Transferable[]}} options
 */
export async function ask(
  type,
  body = {},
  { timeoutMs = ASK_TIMEOUT_MS, transfer = [] } = {},
) {
  const worker = await activeWorker(timeoutMs);
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => {
      channel.port1.close();
      reject(new WorkerError('worker-silent', `no answer to ${type} in ${timeoutMs} ms`));
    }, timeoutMs);
    channel.port1.onmessage = ({ data }) => {
      clearTimeout(timer);
      channel.port1.close();
      if (data.ok) resolve(data.result);
      else reject(new WorkerError(data.code, data.error));
    };
    worker.postMessage({ ...body, type }, [channel.port2, ...transfer]);
  });
}

/** Calls `handler(message)` for each message of `type` the worker sends to all pages. */
export function onWorkerMessage(type, handler) {
  navigator.serviceWorker?.addEventListener('message', (event) => {
    if (event.data?.type === type) handler(event.data);
  });
}

/** Runs `start` once the page is parsed: these scripts load async, not to hold up others. */
export function whenParsed(start) {
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start, { once: true });
  } else {
    start();
  }
}

/** True once the worker controls this page, so a form can go through the outbox. */
export function workerControls() {
  return Boolean(navigator.serviceWorker?.controller);
}

async function activeWorker(timeoutMs) {
  if (!('serviceWorker' in navigator)) throw new WorkerError('no-worker');
  if (navigator.serviceWorker.controller) return navigator.serviceWorker.controller;
  const registration = await navigator.serviceWorker.getRegistration();
  if (!registration) throw new WorkerError('no-worker');
  if (registration.active) return registration.active;
  const late = new Promise((resolve) => {
    setTimeout(resolve, timeoutMs, null);
  });
  const ready = await Promise.race([navigator.serviceWorker.ready, late]);
  if (!ready?.active) throw new WorkerError('no-worker');
  return ready.active;
}
