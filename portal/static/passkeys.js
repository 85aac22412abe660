// Passkeys: sign in with one (a tap on the button, or the browser's autofill), and add one.
// Errors carry a message for the person; nothing here logs what the authenticator returned.

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

class PasskeyError extends Error {}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { ...JSON_HEADERS, 'X-CSRFToken': csrfToken() },
    body: JSON.stringify(body || {}),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new PasskeyError(answer.message || 'Something went wrong. Try again.');
  return answer;
}

// Browsers without the JSON helpers (older Safari, Firefox) need base64url by hand.
function bytesFrom(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0)).buffer;
}

function base64urlFrom(buffer) {
  const binary = String.fromCharCode(...new Uint8Array(buffer));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function creationOptions(json) {
  if (PublicKeyCredential.parseCreationOptionsFromJSON) {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: bytesFrom(json.challenge),
    user: { ...json.user, id: bytesFrom(json.user.id) },
    excludeCredentials: (json.excludeCredentials || []).map((c) => ({ ...c, id: bytesFrom(c.id) })),
  };
}

function requestOptions(json) {
  if (PublicKeyCredential.parseRequestOptionsFromJSON) {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: bytesFrom(json.challenge),
    allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: bytesFrom(c.id) })),
  };
}

function credentialJSON(credential) {
  if (typeof credential.toJSON === 'function') return credential.toJSON();
  const { response } = credential;
  const json = {
    id: credential.id,
    rawId: base64urlFrom(credential.rawId),
    type: credential.type,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment,
    response: { clientDataJSON: base64urlFrom(response.clientDataJSON) },
  };
  if (response.attestationObject) {
    json.response.attestationObject = base64urlFrom(response.attestationObject);
    json.response.transports = response.getTransports ? response.getTransports() : [];
  } else {
    json.response.authenticatorData = base64urlFrom(response.authenticatorData);
    json.response.signature = base64urlFrom(response.signature);
    if (response.userHandle) json.response.userHandle = base64urlFrom(response.userHandle);
  }
  return json;
}

function showError(container, error) {
  const message = container.querySelector('[role="alert"]');
  const cancelled = error && error.name === 'NotAllowedError';
  message.textContent = cancelled
    ? 'No passkey was used. Try again, or sign in with an emailed link.'
    : error.message || 'Something went wrong. Try again.';
  message.hidden = false;
}

async function signIn(mediation, signal) {
  const options = await postJSON('/passkeys/sign-in/options');
  const credential = await navigator.credentials.get({
    publicKey: requestOptions(options),
    mediation,
    signal,
  });
  const answer = await postJSON('/passkeys/sign-in', { credential: credentialJSON(credential) });
  window.location.assign(answer.redirect);
}

function setUpSignIn(container) {
  if (!window.PublicKeyCredential) {
    container.hidden = true;
    return;
  }
  let autofill = null;
  const button = container.querySelector('button');
  // The ceremony starts from the tap itself: iOS refuses one started any other way.
  button.addEventListener('click', () => {
    if (autofill) autofill.abort();
    button.disabled = true;
    signIn('optional').catch((error) => showError(container, error)).finally(() => {
      button.disabled = false;
    });
  });
  // The button is rendered disabled, so a tap before this script is ready does nothing.
  button.disabled = false;
  if (PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
      if (!available) return;
      autofill = new AbortController();
      signIn('conditional', autofill.signal).catch(() => {});
    });
  }
}

function setUpCreate(container) {
  const button = container.querySelector('button');
  if (!window.PublicKeyCredential) {
    button.disabled = true;
    showError(container, new PasskeyError('This browser cannot create passkeys.'));
    return;
  }
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const options = await postJSON('/passkeys/new/options');
      const credential = await navigator.credentials.create({
        publicKey: creationOptions(options),
      });
      const label = container.querySelector('[name="label"]');
      await postJSON('/passkeys/new', {
        credential: credentialJSON(credential),
        label: (label && label.value) || guessDeviceName(),
      });
      window.location.assign(container.dataset.done);
    } catch (error) {
      showError(container, error);
    } finally {
      button.disabled = false;
    }
  });
  button.disabled = false;
}

function guessDeviceName() {
  const agent = navigator.userAgent;
  if (/iPhone/.test(agent)) return 'iPhone';
  if (/iPad/.test(agent)) return 'iPad';
  if (/Android/.test(agent)) return 'Android phone';
  if (/Mac OS X/.test(agent)) return 'Mac';
  if (/Windows/.test(agent)) return 'Windows computer';
  return 'Passkey';
}

document.querySelectorAll('[data-passkey-sign-in]').forEach(setUpSignIn);
document.querySelectorAll('[data-passkey-create]').forEach(setUpCreate);
