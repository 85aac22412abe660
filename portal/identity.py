"""Who is signed in: the person behind the session, kept in the signed session cookie.

A signed-in page view does not read the person from Salesforce: the session
carries who they are, and the portal checks again with Salesforce at most every
`IDENTITY_RECHECK_SECONDS`, so a disabled person loses access within that time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field

from flask import Flask, current_app, jsonify, redirect, request, session, url_for
from flask_login import UserMixin, login_user, logout_user

from portal import roles
from portal.extensions import login_manager
from salesforce.gateway import NotFound
from salesforce.records import Contact, InternalUser

log = logging.getLogger(__name__)

PARTNER = "partner"
INTERNAL = "internal"


@dataclass
class Person(UserMixin):
    id: str
    name: str
    email: str
    kind: str
    role: str
    account_id: str = ""
    account_name: str = ""
    regions: list[str] = field(default_factory=list)
    queue_ids: list[str] = field(default_factory=list)
    checked_at: float = 0.0
    signed_in_with: str = ""

    def get_id(self) -> str:
        return self.id

    @property
    def role_label(self) -> str:
        return roles.LABELS.get(self.role, self.role)

    @property
    def is_partner(self) -> bool:
        return self.kind == PARTNER

    @property
    def is_internal(self) -> bool:
        return self.kind == INTERNAL

    @classmethod
    def from_contact(cls, contact: Contact, signed_in_with: str = "") -> Person:
        return cls(
            id=contact.id,
            name=contact.name,
            email=contact.email,
            kind=PARTNER,
            role=contact.role,
            account_id=contact.account_id or "",
            account_name=contact.account_name,
            checked_at=time.time(),
            signed_in_with=signed_in_with,
        )

    @classmethod
    def from_user(cls, user: InternalUser, signed_in_with: str = "") -> Person:
        return cls(
            id=user.id,
            name=user.name,
            email=user.email,
            kind=INTERNAL,
            role=user.role,
            regions=list(user.regions),
            queue_ids=list(user.queue_ids),
            checked_at=time.time(),
            signed_in_with=signed_in_with,
        )


def may_use_portal(contact: Contact) -> bool:
    """A partner person may sign in: invited or active, on a company in the pilot."""
    return (
        contact.status in ("Invited", "Active")
        and contact.account_enabled
        and contact.role in roles.PARTNER_ROLES
    )


def may_use_portal_internally(user: InternalUser) -> bool:
    return user.active and user.role in roles.INTERNAL_ROLES


def sign_in(person: Person) -> Person:
    """Start a fresh session for `person`; nothing from an earlier session survives."""
    session.clear()
    login_user(person)
    session["person"] = asdict(person)
    session.permanent = True
    log.info("%s %s signed in with %s", person.kind, person.id, person.signed_in_with)
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
    """Read the person again; end the session if they may no longer use the portal."""
    gateway = current_app.extensions["gateway"]
    try:
        if person.is_internal:
            user = gateway.internal_user(person.id)
            fresh = Person.from_user(user, person.signed_in_with)
            allowed = may_use_portal_internally(user)
        else:
            contact = gateway.contact(person.id)
            fresh = Person.from_contact(contact, person.signed_in_with)
            allowed = may_use_portal(contact) and contact.status == "Active"
    except NotFound:
        allowed = False
    if not allowed:
        log.info("%s %s may no longer use the portal; session ended", person.kind, person.id)
        session.clear()
        return None
    session["person"] = asdict(fresh)
    return fresh


def _unauthorized():
    """Scripts get a JSON 401 they can act on; people are sent to the sign-in page."""
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(error="sign-in-required", message="Sign in again to continue."), 401
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.session_protection = None
