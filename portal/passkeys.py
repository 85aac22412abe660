"""Passkeys (WebAuthn, through py_webauthn): creating one, and signing in with it.

The challenge of a ceremony lives in the signed session cookie with the time it
was issued. A challenge is used once: it leaves the session when an answer is
checked, and a passkey refuses any challenge issued before its last use, so a
captured answer cannot be played again even with an old cookie.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app, session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.identity import Person, may_use_portal
from salesforce.records import Contact

log = logging.getLogger(__name__)

CHALLENGE_SECONDS = 300
CEREMONY_TIMEOUT_MS = 120_000
MAX_LABEL_LENGTH = 80


class PasskeyRefused(Exception):
    """The browser's answer did not prove what it must; `message` is for the person."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.message = message
        self.reason = reason


def relying_party() -> tuple[str, list[str]]:
    """The relying-party ID and the origins a ceremony may come from, from configuration."""
    config = current_app.config
    origins = config.get("WEBAUTHN_ORIGINS") or [_origin(config["PORTAL_BASE_URL"])]
    rp_id = config.get("WEBAUTHN_RP_ID") or urlsplit(config["PORTAL_BASE_URL"]).hostname
    return rp_id, origins


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _remember(purpose: str, challenge: bytes) -> None:
    session[f"webauthn_{purpose}"] = {
        "challenge": bytes_to_base64url(challenge),
        "issued_at": time.time(),
    }


def _take_challenge(purpose: str) -> tuple[bytes, float]:
    """The pending challenge for `purpose`, removed so it cannot be used again."""
    pending = session.pop(f"webauthn_{purpose}", None)
    if not pending:
        raise PasskeyRefused("Start again: tap the passkey button.", "no pending challenge")
    if time.time() - pending["issued_at"] > CHALLENGE_SECONDS:
        raise PasskeyRefused(
            "That took too long. Tap the passkey button again.", "challenge expired"
        )
    return base64url_to_bytes(pending["challenge"]), pending["issued_at"]


# -- creating a passkey --------------------------------------------------------------


def registration_options(person: Person) -> str:
    """Options for `navigator.credentials.create()`, as JSON."""
    rp_id, _ = relying_party()
    existing = current_app.extensions["gateway"].passkeys_of(person.id)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config.get("WEBAUTHN_RP_NAME", "Partner Portal"),
        user_id=person.id.encode(),
        user_name=person.email,
        user_display_name=person.name,
        timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.credential_id))
            for passkey in existing
            if not passkey.revoked
        ],
    )
    _remember("registration", options.challenge)
    return options_to_json(options)


def register(person: Person, credential: dict, label: str) -> str:
    """Check the browser's answer and keep the new passkey in Salesforce; its record ID."""
    challenge, _ = _take_challenge("registration")
    rp_id, origins = relying_party()
    try:
        verified = verify_registration_response(
            credential=json.dumps(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        log.warning("passkey registration refused for contact %s: %s", person.id, error)
        raise PasskeyRefused(
            "This passkey could not be created. Try again.", "invalid registration"
        ) from None
    transports = credential.get("response", {}).get("transports") or []
    label = (label or "").strip()[:MAX_LABEL_LENGTH] or "Passkey"
    passkey_id = current_app.extensions["gateway"].add_passkey(
        person.id,
        bytes_to_base64url(verified.credential_id),
        bytes_to_base64url(verified.credential_public_key),
        verified.sign_count,
        [str(transport) for transport in transports],
        label,
    )
    log.info("passkey %s added by contact %s", passkey_id, person.id)
    return passkey_id


# -- signing in ---------------------------------------------------------------------


def authentication_options() -> str:
    """Options for `navigator.credentials.get()` with any passkey of this site, as JSON."""
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=CEREMONY_TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _remember("authentication", options.challenge)
    return options_to_json(options)


def authenticate(credential: dict) -> Contact:
    """The partner person the browser's answer proves, after every check; else PasskeyRefused."""
    challenge, issued_at = _take_challenge("authentication")
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(credential_id, str) or not 0 < len(credential_id) <= 1024:
        raise PasskeyRefused("This passkey is not recognised.", "malformed credential")
    gateway = current_app.extensions["gateway"]
    passkey = gateway.passkey_for_sign_in(credential_id)
    if passkey is None:
        log.warning("sign-in with an unknown passkey")
        raise PasskeyRefused(
            "This passkey is not recognised. Sign in with an emailed link instead.",
            "unknown credential",
        )
    if passkey.revoked:
        log.warning("sign-in with revoked passkey %s", passkey.id)
        raise PasskeyRefused(
            "This passkey was removed. Sign in with an emailed link instead.", "revoked"
        )
    if passkey.contact is None or not may_use_portal(passkey.contact):
        log.warning("sign-in with passkey %s of a contact without portal access", passkey.id)
        raise PasskeyRefused(
            "Your access to the portal is switched off. Ask your channel manager.", "disabled"
        )
    if passkey.last_used and int(issued_at) <= passkey.last_used.timestamp():
        log.warning("passkey %s answered a challenge older than its last use", passkey.id)
        raise PasskeyRefused("Tap the passkey button again.", "replayed challenge")

    rp_id, origins = relying_party()
    try:
        verified = verify_authentication_response(
            credential=json.dumps(credential),
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        log.warning("passkey %s refused: %s", passkey.id, error)
        raise PasskeyRefused(
            "This passkey could not be checked. Try again, or sign in with an emailed link.",
            "invalid assertion",
        ) from None

    gateway.record_passkey_use(passkey.id, verified.new_sign_count, datetime.now(UTC))
    return passkey.contact
