"""Single-use sign-in links sent by email.

The link carries a random token; Salesforce keeps only its SHA-256 and an
expiry on the Contact, and using the link clears them, so a link works once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app

from portal import mail
from portal.identity import may_use_portal
from salesforce.records import Contact

log = logging.getLogger(__name__)

TOKEN_BYTES = 32


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh link token and the hash Salesforce keeps of it."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, _hash(token)


def link_for(token: str) -> str:
    """The full address of the link; works in a request and in a command alike."""
    path = current_app.url_map.bind("").build("auth.use_link", {"token": token})
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + path


def salesforce_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def send_link(email: str) -> None:
    """Email a sign-in link if `email` belongs to a partner who may use the portal."""
    gateway = current_app.extensions["gateway"]
    contact = gateway.find_partner_contact(email)
    if contact is None or not may_use_portal(contact):
        log.info("sign-in link requested for an address with no portal access")
        return

    token = secrets.token_urlsafe(TOKEN_BYTES)
    minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
    gateway.set_sign_in_link(
        contact.id, _hash(token), datetime.now(UTC) + timedelta(minutes=minutes)
    )
    link = link_for(token)
    mail.send(
        contact.email,
        "Your sign-in link",
        "sign_in_link",
        contact=contact,
        link=link,
        minutes=minutes,
    )
    log.info("sign-in link sent to contact %s", contact.id)


def contact_for(token: str) -> Contact | None:
    """The person a still-valid link belongs to, or None."""
    if not token or len(token) > 128:
        return None
    contact = current_app.extensions["gateway"].contact_by_sign_in_link(_hash(token))
    if contact is None or contact.link_expires is None:
        return None
    if contact.link_expires < datetime.now(UTC):
        log.info("expired sign-in link used for contact %s", contact.id)
        return None
    return contact


def use(contact: Contact) -> None:
    current_app.extensions["gateway"].complete_sign_in(contact.id)
