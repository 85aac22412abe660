// Request serialisation: a form becomes an outbox item's fields and files, and an item
// becomes the request that sends it. Pages use the first half, the worker the second.
//
// Files are kept as ArrayBuffers with their name and type: never as one decoded string
// (binary would not survive) and never as a FormData object (IndexedDB cannot keep one).

/** Fields an item never keeps: the CSRF token must be fresh when the item is sent. */
const NEVER_KEPT = new Set(['csrf_token']);

/** Headers a replay carries; the server reads the same names (portal/replay.py). */
export const OWNER_HEADER = 'X-Portal-Owner';
export const CSRF_HEADER = 'X-CSRFToken';

/**
 * The text fields and chosen files of a form.
 * @param {HTMLFormElement} form
 * @returns {Promise<{fields: string[][], files: object[]}>} files carry `data`, an
 *   ArrayBuffer of their content
 */
export async function fromForm(form) {
  const fields = [];
  const files = [];
  for (const [name, value] of new FormData(form)) {
    if (NEVER_KEPT.has(name)) continue;
    if (typeof value === 'string') {
      fields.push([name, value]);
    } else if (value.name || value.size) {
      files.push({
        field: name,
        name: value.name,
        type: value.type,
        size: value.size,
        lastModified: value.lastModified,
        data: await value.arrayBuffer(),
      });
    }
  }
  return { fields, files };
}

/** A File for each of an item's files, to put back into a form's file input. */
export function toFile(file) {
  return new File([file.data], file.name, {
    type: file.type,
    lastModified: file.lastModified,
  });
}

/**
 * The multipart POST that sends an item, as the form itself would have posted it.
 * Redirects are not followed: a redirect (to the sign-in page) is not a confirmation.
 * @param {object} item an outbox item with its files' content
 * @param {string} csrfToken a token from the session the item is sent in
 * @param {AbortSignal} signal ends the request when it takes too long
 */
export function toRequest(item, csrfToken, signal) {
  const body = new FormData();
  for (const [name, value] of item.fields) body.append(name, value);
  for (const file of item.files) body.append(file.field, toFile(file));
  return new Request(item.action, {
    method: 'POST',
    body,
    credentials: 'same-origin',
    redirect: 'manual',
    cache: 'no-store',
    signal,
    headers: {
      Accept: 'application/json',
      [CSRF_HEADER]: csrfToken,
      [OWNER_HEADER]: item.owner,
    },
  });
}
