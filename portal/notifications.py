"""Telling people what happened: email with a link straight to the registration.

Every notification is sent after the change it reports was written, from the
background thread, so a slow or failing mail server never slows or fails the
action. Each person can switch email off (a checkbox on their Contact or User).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import current_app

from portal import background, mail, push, statuses
from salesforce.records import Registration

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    id: str
    email: str


def _link(endpoint: str, registration_id: str) -> str:
    path = current_app.url_map.bind("").build(endpoint, {"registration_id": registration_id})
    return current_app.config["PORTAL_BASE_URL"].rstrip("/") + path


def _send(event: str, recipients: list[Recipient], subject: str, template: str, **context):
    """Queue one message per recipient, so a retry never repeats a delivered one."""
    for recipient in recipients:
        background.run_later(_deliver, event, recipient, subject, template, context)


def _deliver(event: str, recipient: Recipient, subject: str, template: str, context: dict):
    mail.send(recipient.email, subject, template, **context)
    log.info("notification %s sent to %s", event, recipient.id)


def _push(registration: Registration, title: str, body: str) -> None:
    """Also tell the partner's phones, when they asked for it (a task of its own)."""
    if registration.submitter_wants_push:
        link = _link("deals.show", registration.id)
        background.run_later(push.send, registration.submitted_by_id, title, body, link)


def _partner(registration: Registration) -> list[Recipient]:
    if not registration.submitted_by_email or not registration.submitter_wants_email:
        return []
    return [Recipient(registration.submitted_by_id, registration.submitted_by_email)]


def _internal(owner_id: str) -> list[Recipient]:
    """The owner, or the members of the owning queue, who want email."""
    people = current_app.extensions["background_gateway"].people_to_notify(owner_id)
    return [Recipient(user_id, email) for user_id, email in people]


# -- to partners -----------------------------------------------------------------------


def submission_received(registration_id: str, customer: str, person_id: str, email: str):
    def send():
        link = _link("deals.show", registration_id)
        _send(
            "submission-received",
            [Recipient(person_id, email)],
            f"Registration received: {customer}",
            "submission_received",
            customer=customer,
            link=link,
        )

    background.run_later(send)


def question_asked(registration: Registration, question: str):
    def send():
        _push(registration, "The channel team has a question", question[:120])
        _send(
            "needs-info",
            _partner(registration),
            f"Question about your registration: {registration.end_customer_name}",
            "needs_info",
            registration=registration,
            question=question,
            link=_link("deals.show", registration.id),
        )

    background.run_later(send)


def registration_decided(
    registration: Registration,
    status: str,
    *,
    expires_on: date | None = None,
    reason_code: str = "",
    comment: str = "",
):
    def send():
        label = statuses.status(status).label
        _push(registration, f"{label}: {registration.end_customer_name}", reason_code or "")
        _send(
            f"registration-{status.lower()}",
            _partner(registration),
            f"{label}: {registration.end_customer_name}",
            "decided",
            registration=registration,
            status=statuses.status(status),
            expires_on=expires_on,
            reason_code=reason_code,
            comment=comment,
            link=_link("deals.show", registration.id),
        )

    background.run_later(send)


# -- to the vendor's people ----------------------------------------------------------


def new_in_queue(registration_id: str, owner_id: str, customer: str, partner: str):
    def send():
        _send(
            "new-in-queue",
            _internal(owner_id),
            f"New registration to review: {customer}",
            "new_in_queue",
            customer=customer,
            partner=partner,
            link=_link("review.show", registration_id),
        )

    background.run_later(send)


def question_answered(registration: Registration):
    def send():
        _send(
            "answered",
            _internal(registration.owner_id),
            f"Answer received: {registration.end_customer_name}",
            "answered",
            registration=registration,
            link=_link("review.show", registration.id),
        )

    background.run_later(send)


def owner_changed(registration: Registration, owner_id: str, owner_name: str, by: str):
    def send():
        _send(
            "owner-changed",
            _internal(owner_id),
            f"Registration assigned to {owner_name}: {registration.end_customer_name}",
            "owner_changed",
            registration=registration,
            owner_name=owner_name,
            by=by,
            link=_link("review.show", registration.id),
        )

    background.run_later(send)
