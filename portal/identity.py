"""Who is signed in: the person behind the session, kept in the signed cookie.

A signed-in page view does not read the person from Salesforce: the session
carries who they are, and the portal checks again with Salesforce at most every
`IDENTITY_RECHECK_SECONDS`, so a disabled person loses access within that time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from flask import Flask, current_app, session
from flask_login import UserMixin, login_user, logout_user

from portal.extensions import login_manager
from salesforce.gateway import NotFound
from salesforce.records import Contact

log = logging.getLogger(__name__)

PARTNER_ROLES = {"Rep": "partner rep", "Manager": "partner manager"}


@dataclass
class Person(UserMixin):
    id: str
    name: str
    email: str
    account_id: str
    account_name: str
    role: str
    checked_at: float

    def get_id(self) -> str:
        return self.id

    @property
    def role_label(self) -> str:
        return PARTNER_ROLES.get(self.role, self.role)

    @classmethod
    def from_contact(cls, contact: Contact) -> Person:
        return cls(
            id=contact.id,
            name=contact.name,
            email=contact.email,
            account_id=contact.account_id or "",
            account_name=contact.account_name,
            role=contact.role,
            checked_at=time.time(),
        )


def may_use_portal(contact: Contact) -> bool:
    return (
        contact.status in ("Invited", "Active")
        and contact.account_enabled
        and contact.role in PARTNER_ROLES
    )


def sign_in(contact: Contact) -> Person:
    """Start a fresh session for `contact`; nothing from an earlier session survives."""
    person = Person.from_contact(contact)
    session.clear()
    login_user(person)
    session["person"] = asdict(person)
    session.permanent = True
    log.info("contact %s signed in", contact.id)
    return person


def sign_out() -> None:
    logout_user()
    session.clear()


def _load(person_id: str) -> Person | None:
    stored = session.get("person")
    if not stored or stored.get("id") != person_id:
        return None
    person = Person(**stored)
    if time.time() - person.checked_at < current_app.config["IDENTITY_RECHECK_SECONDS"]:
        return person
    return _recheck(person)


def _recheck(person: Person) -> Person | None:
    gateway = current_app.extensions["gateway"]
    try:
        contact = gateway.contact(person.id)
    except NotFound:
        contact = None
    if contact is None or contact.status != "Active" or not may_use_portal(contact):
        log.info("contact %s no longer allowed; session ended", person.id)
        session.clear()
        return None
    fresh = Person.from_contact(contact)
    session["person"] = asdict(fresh)
    return fresh


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see your deals."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None
