// The outbox's IndexedDB store: the only code that knows the database's schema.
//
// An item is a form the partner sent that the server has not confirmed yet. Its text
// fields live in `items`; each of its files lives in `files` as an ArrayBuffer, so that
// listing the outbox never reads megabytes of file content.
//
// Item (schema 1):
//   key          the form's submission key, which the server makes idempotent
//   kind         'registration' | 'answer' | any other form marked data-outbox
//   owner        ID of the person who filled it in; sent only in their session
//   action       the URL it is posted to
//   page         the URL of the page the form is on, where the partner can fix it
//   title        what the partner recognises it by
//   fields       [[name, value], ...], text only, never a CSRF token
//   files        [{field, name, type, size, lastModified}], content in `files`
//   createdAt    when it was first saved (ms since the epoch): replay order
//   savedAt      when it was last saved (ms): its revision
//   state        'queued' | 'attention'
//   attempts     sends that failed and will be retried
//   nextAttemptAt  not before this time (ms) unless a person or the network asks
//   problem      {code, message, fields, form} when the server refused it, else null

const DB_NAME = 'portal-outbox';
const ITEMS = 'items';
const FILES = 'files';

/**
 * Schema changes, oldest first: version N is reached by running migrations 0 to N-1 in
 * one upgrade transaction. A migration may add stores and indexes and rewrite items; it
 * never drops queued items, so an update of the app keeps everything waiting.
 */
export const MIGRATIONS = [
  (db) => {
    const items = db.createObjectStore(ITEMS, { keyPath: 'key' });
    items.createIndex('createdAt', 'createdAt');
    db.createObjectStore(FILES, { keyPath: ['item', 'position'] });
  },
];

export class StoreError extends Error {
  /** @param {string} code kebab-case reason, e.g. 'open-failed' */
  constructor(code, cause) {
    super(`outbox store: ${code}${cause ? `: ${cause.message ?? cause}` : ''}`, {
      cause,
    });
    this.name = 'StoreError';
    this.code = code;
  }
}

let opening = null;

/**
 * The database at the newest schema version this code knows, opened once per page or
 * worker. A database already at a later version (a newer release ran, then was rolled
 * back) is opened as it is: migrations only add, so this code still finds its stores.
 */
function database() {
  if (!opening) {
    opening = connect(MIGRATIONS.length)
      .catch(retryAtCurrentVersion)
      .catch((error) => {
        opening = null;
        throw error;
      });
  }
  return opening;
}

function retryAtCurrentVersion(error) {
  if (error.cause?.name !== 'VersionError') throw error;
  return connect(undefined);
}

function connect(version) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, version);
    request.onupgradeneeded = (event) => {
      for (let step = event.oldVersion; step < MIGRATIONS.length; step += 1) {
        MIGRATIONS[step](request.result, request.transaction);
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      // A newer worker or page upgrades the schema: step aside, reopen on next use.
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      db.onclose = () => {
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => reject(new StoreError('open-failed', request.error));
  });
}

/** Runs `work(stores)` in one transaction; resolves with its result once committed. */
async function transaction(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction([ITEMS, FILES], mode);
    let result;
    tx.oncomplete = () => resolve(result);
    tx.onabort = () => reject(new StoreError('transaction-aborted', tx.error));
    tx.onerror = () => reject(new StoreError('transaction-failed', tx.error));
    work(tx.objectStore(ITEMS), tx.objectStore(FILES), (value) => {
      result = value;
    });
  });
}

function filesOf(key) {
  return IDBKeyRange.bound([key, 0], [key, Number.MAX_SAFE_INTEGER]);
}

/**
 * Saves an item with its files ([{field, name, type, size, lastModified, data}]),
 * replacing any item with the same key.
 */
export function put(item) {
  const { files = [], ...rest } = item;
  const described = files.map(({ data, ...file }) => file);
  return transaction('readwrite', (items, contents) => {
    contents.delete(filesOf(item.key));
    items.put({ ...rest, files: described });
    files.forEach((file, position) => {
      contents.put({ item: item.key, position, data: file.data });
    });
  });
}

/** The item with its files' content, or undefined. */
export function get(key) {
  return transaction('readonly', (items, contents, done) => {
    const read = items.get(key);
    const parts = contents.getAll(filesOf(key));
    parts.onsuccess = () => {
      const item = read.result;
      if (!item) return;
      const data = new Map(parts.result.map((part) => [part.position, part.data]));
      done({
        ...item,
        files: item.files.map((file, i) => ({ ...file, data: data.get(i) })),
      });
    };
  });
}

/** Every item without file content, oldest first. */
export function list() {
  return transaction('readonly', (items, contents, done) => {
    const read = items.index('createdAt').getAll();
    read.onsuccess = () => done(read.result);
  });
}

/**
 * Changes some fields of an item, if it is still the revision `savedAt` (a partner may
 * have saved it again meanwhile). Resolves true when it changed.
 */
export function update(key, savedAt, changes) {
  return transaction('readwrite', (items, contents, done) => {
    const read = items.get(key);
    read.onsuccess = () => {
      if (!read.result || read.result.savedAt !== savedAt) return done(false);
      items.put({ ...read.result, ...changes });
      done(true);
    };
  });
}

/** Removes an item and its files; with `savedAt`, only that revision. True if removed. */
export function remove(key, savedAt) {
  return transaction('readwrite', (items, contents, done) => {
    const read = items.get(key);
    read.onsuccess = () => {
      if (!read.result) return done(false);
      if (savedAt !== undefined && read.result.savedAt !== savedAt) return done(false);
      items.delete(key);
      contents.delete(filesOf(key));
      done(true);
    };
  });
}

/** How many items wait, whoever they belong to. */
export function count() {
  return transaction('readonly', (items, contents, done) => {
    const read = items.count();
    read.onsuccess = () => done(read.result);
  });
}
