// Forms marked data-outbox are saved on this phone first, then sent by the service
// worker, which keeps them until the portal confirms them. Without a worker they post
// as usual.
//
//   <form data-outbox="registration" data-outbox-title="end_customer_name">
//   <form data-outbox="answer" data-outbox-key="action_key" data-outbox-label="Answer">
//
// data-outbox-key names the hidden field with the key the server deduplicates on
// (submission_key by default); data-outbox-title names the field the partner recognises
// the form by, data-outbox-label gives that name outright. My Deals lists what waits.

import { fromForm, toFile } from '/static/sw/serialise.js';
import {
  ask,
  onWorkerMessage,
  personOnPage,
  whenParsed,
  workerControls,
} from '/static/worker-client.js';

const SAVE_TIMEOUT_MS = 30_000; // storing a 20 MB file in IndexedDB on a slow phone
const SEND_WAIT_MS = 20_000; // then the page says it is saved, and sending goes on
const REPLAY_WAIT_MS = 5 * 60_000; // "Send now": the whole outbox, files and all
const DRAFT_PARAMETER = 'draft';
const DEFAULT_KEY_FIELD = 'submission_key';

const SAVED =
  'Saved on this phone, will be sent automatically when the connection is back. ' +
  'You can keep working.';
const SAVED_SIGN_IN =
  'Saved on this phone. Your sign-in has ended: sign in again and it is sent ' +
  'automatically.';
const REFUSED =
  'Saved on this phone, but the portal did not accept it: fix what is marked.';
const DRAFT = 'Saved on this phone and not sent yet. Fix what is marked, then send it.';

const pending = new Map(); // key -> form whose notice says the item is saved

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!form.matches('[data-outbox]') || event.defaultPrevented) return;
  if (!workerControls() || !personOnPage()) return; // posts as a plain form
  event.preventDefault();
  notify(form, 'Sending…', 'sending');
  submit(form);
});

onWorkerMessage('outbox-changed', showSaved);
onWorkerMessage('outbox-sent', showSent);
whenParsed(() => {
  for (const form of document.querySelectorAll('form[data-outbox]')) prepare(form);
  showSaved();
  document.querySelector('[data-outbox-send-now]')?.addEventListener('click', sendNow);
});

async function sendNow() {
  const reply = ask('replay', { reason: 'person' }, { timeoutMs: REPLAY_WAIT_MS });
  await reply.catch(() => undefined);
  showSaved();
}

async function prepare(form) {
  const ready = () => {
    form.dataset.outboxReady = '';
  };
  if (workerControls()) {
    ready();
  } else {
    navigator.serviceWorker?.addEventListener('controllerchange', ready, { once: true });
  }
  const key = new URLSearchParams(window.location.search).get(DRAFT_PARAMETER);
  if (key) await openDraft(form, key);
}

async function submit(form) {
  const keyField = keyFieldOf(form);
  if (!keyField.value) keyField.value = crypto.randomUUID();
  const item = {
    key: keyField.value,
    kind: form.dataset.outbox,
    owner: personOnPage(),
    action: actionOf(form),
    page: window.location.pathname,
    title: titleOf(form),
    ...(await fromForm(form)),
  };
  setBusy(form, true);
  try {
    const transfer = item.files.map((file) => file.data);
    await ask('save', { item }, { timeoutMs: SAVE_TIMEOUT_MS, transfer });
  } catch {
    // Not saved on this phone: post it the ordinary way rather than lose it.
    setBusy(form, false);
    HTMLFormElement.prototype.submit.call(form);
    return;
  }
  let outcome;
  try {
    outcome = await ask('send-now', { key: item.key }, { timeoutMs: SEND_WAIT_MS });
  } catch {
    outcome = { code: 'queued' };
  }
  setBusy(form, false);
  present(form, item, outcome);
}

function present(form, item, outcome) {
  clearProblems(form);
  if (outcome.code === 'sent') {
    window.location.assign(outcome.url ?? '/');
  } else if (outcome.message && outcome.code !== 'sign-in-required') {
    // The portal refused it: it waits on this phone for the partner to fix it.
    showProblem(form, outcome);
    notify(form, REFUSED, 'refused');
  } else {
    pending.set(item.key, form);
    notify(form, outcome.code === 'sign-in-required' ? SAVED_SIGN_IN : SAVED, 'saved');
    form.reset();
    keyFieldOf(form).value = crypto.randomUUID();
  }
}

function showSent({ key, title, url }) {
  const form = pending.get(key);
  showSaved();
  if (!form) return;
  pending.delete(key);
  const notice = notify(form, `Sent: ${title}. `, 'sent');
  const open = document.createElement('a');
  open.href = url;
  open.textContent = 'Open it';
  notice.append(open);
}

async function openDraft(form, key) {
  const item = await ask('item', { person: personOnPage(), key }).catch(() => null);
  if (!item || item.action !== actionOf(form)) return;
  for (const [name, value] of item.fields) {
    const field = form.elements.namedItem(name);
    if (field && field.type !== 'file' && 'value' in field) field.value = value;
  }
  const chosen = new Map(); // field name -> DataTransfer with its files
  for (const file of item.files) {
    if (!chosen.has(file.field)) chosen.set(file.field, new DataTransfer());
    chosen.get(file.field).items.add(toFile(file));
  }
  for (const [name, transfer] of chosen) {
    const input = form.elements.namedItem(name);
    if (input?.type === 'file') input.files = transfer.files;
  }
  if (item.problem) showProblem(form, item.problem);
  notify(form, DRAFT, 'draft');
}

/** The server's messages next to the fields they are about, as the server shows them. */
function showProblem(form, problem) {
  for (const [name, messages] of Object.entries(problem.fields ?? {})) {
    const input = form.elements.namedItem(name);
    const wrapper = input?.closest?.('.field');
    if (!wrapper) continue;
    wrapper.classList.add('has-error');
    const error = document.createElement('p');
    error.className = 'error';
    error.id = `${input.id}-error`;
    error.dataset.outboxError = '';
    error.textContent = messages[0];
    input.after(error);
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', error.id);
  }
  const general = [...(problem.form ?? [])];
  if (!Object.keys(problem.fields ?? {}).length) general.push(problem.message);
  for (const message of general) {
    const line = document.createElement('p');
    line.className = 'error';
    line.dataset.outboxError = '';
    line.textContent = message;
    form.prepend(line);
  }
}

function clearProblems(form) {
  for (const error of form.querySelectorAll('.error')) error.remove();
  for (const wrapper of form.querySelectorAll('.has-error'))
    wrapper.classList.remove('has-error');
  for (const input of form.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
    input.removeAttribute('aria-describedby');
  }
}

/**
 * A notice just above the form, marked with what it says about the form: 'sending',
 * 'saved' (on this phone), 'sent', 'refused' or 'draft' (opened to be fixed).
 */
function notify(form, text, state) {
  let notice = form.previousElementSibling;
  if (!notice?.matches('[data-outbox-notice]')) {
    notice = document.createElement('div');
    form.before(notice);
  }
  const error = state === 'refused' || state === 'draft';
  notice.dataset.outboxNotice = state;
  notice.className = `notice notice-${error ? 'error' : 'saved'}`;
  notice.setAttribute('role', error ? 'alert' : 'status');
  notice.textContent = text;
  notice.scrollIntoView({ block: 'nearest' });
  return notice;
}

function setBusy(form, busy) {
  const button = form.querySelector('button[type="submit"], button:not([type])');
  if (busy) {
    button?.setAttribute('aria-busy', 'true');
  } else {
    button?.removeAttribute('aria-busy');
    delete form.dataset.sending; // app.js lets a data-submit-once form go once per send
  }
}

/** My Deals: the partner's saved forms, with a way to fix those the portal refused. */
async function showSaved() {
  const section = document.querySelector('[data-outbox-list]');
  if (!section) return;
  const items = await ask('items', { person: personOnPage() }).catch(() => []);
  section.querySelector('[data-outbox-items]').replaceChildren(...items.map(savedItem));
  section.hidden = items.length === 0;
}

function savedItem(item) {
  const entry = element('li', 'saved-item');
  entry.dataset.key = item.key;
  entry.append(element('span', 'deal-title', item.title));
  const refused = item.state === 'attention';
  entry.append(
    element(
      'span',
      `badge badge-${refused ? 'action' : 'waiting'}`,
      refused ? 'Needs your attention' : 'Waiting to be sent',
    ),
  );
  const savedAt = new Date(item.createdAt).toLocaleString([], {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
  const files = item.files.length
    ? ` · ${item.files.map((file) => file.name).join(', ')}`
    : '';
  entry.append(element('span', 'deal-meta', `Saved on this phone ${savedAt}${files}`));
  if (refused) {
    const messages = Object.values(item.problem.fields ?? {}).map((list) => list[0]);
    entry.append(element('p', 'error', [item.problem.message, ...messages].join(' ')));
    const fix = element('a', 'button', 'Fix and send');
    fix.href = `${item.page}?${DRAFT_PARAMETER}=${encodeURIComponent(item.key)}`;
    const discard = element('button', 'link', 'Discard');
    discard.type = 'button';
    discard.addEventListener('click', async () => {
      if (!window.confirm(`Discard “${item.title}”? It has not been sent.`)) return;
      await ask('discard', { person: personOnPage(), key: item.key }).catch(
        () => undefined,
      );
      showSaved();
    });
    const actions = element('span', 'saved-actions');
    actions.append(fix, discard);
    entry.append(actions);
  }
  return entry;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function keyFieldOf(form) {
  const name = form.dataset.outboxKey || DEFAULT_KEY_FIELD;
  let field = form.elements.namedItem(name);
  if (!field) {
    field = document.createElement('input');
    field.type = 'hidden';
    field.name = name;
    form.append(field);
  }
  return field;
}

/** Where the form posts, without the draft it was filled from. */
function actionOf(form) {
  const url = new URL(form.action);
  url.searchParams.delete(DRAFT_PARAMETER);
  return url.pathname + url.search;
}

function titleOf(form) {
  const named = form.elements.namedItem(form.dataset.outboxTitle ?? '');
  return form.dataset.outboxLabel || named?.value?.trim() || document.title;
}
