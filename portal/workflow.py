"""What happens to a registration after it is submitted: decisions, questions, answers.

Each action checks the status change against `statuses.TRANSITIONS`, then writes
the registration and its stage record to Salesforce in one atomic request, then
hands the notifications to the background sender. Each action carries a key
generated when its form was shown, so a repeated action changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask import current_app

from portal import notifications, statuses
from portal.identity import Person
from salesforce.records import Registration, Scope

EVERYTHING = Scope("Id != null")

log = logging.getLogger(__name__)

PORTAL = "Portal"
SALESFORCE = "Salesforce"


class NotAllowed(Exception):
    """The registration cannot move to that status from where it is."""

    def __init__(self, from_status: str, to_status: str):
        super().__init__(f"{from_status} -> {to_status}")
        self.message = (
            f"This registration is {statuses.status(from_status).label.lower()}, "
            f"so it cannot become {statuses.status(to_status).label.lower()} now."
        )


@dataclass(frozen=True)
class Actor:
    """Who made a change: a person in the portal, or someone working in Salesforce."""

    id: str
    name: str
    source: str = PORTAL

    @classmethod
    def of(cls, person: Person) -> Actor:
        return cls(person.id, person.name)


def _now() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Target:
    """The registration an action is about, as the person saw it when they acted."""

    id: str
    status: str
    sequence: int
    scope: Scope

    @classmethod
    def of(cls, registration: Registration, scope: Scope = EVERYTHING) -> Target:
        return cls(registration.id, registration.status, registration.next_sequence, scope)


def _move(
    target: Target,
    to_status: str,
    actor: Actor,
    action_key: str,
    *,
    fields: dict | None = None,
    reason_code: str | None = None,
    comment: str | None = None,
    internal_note: str | None = None,
    owner_name: str | None = None,
    expires_on: date | None = None,
) -> Registration | None:
    """Write the change. The registration as it was, or None if this action was done already."""
    if to_status != target.status and not statuses.can_move(target.status, to_status):
        raise NotAllowed(target.status, to_status)
    moment = _now()
    stage = {
        "From_Status__c": target.status,
        "To_Status__c": to_status,
        "Entered_At__c": _timestamp(moment),
        "Actor__c": actor.name[:121],
        "Actor_Id__c": actor.id or None,
        "Source__c": actor.source,
        "Reason_Code__c": reason_code,
        "Comment__c": comment,
        "Internal_Note__c": internal_note,
        "Owner_Name__c": owner_name[:121] if owner_name else None,
    }
    changes = {"Status__c": to_status, **(fields or {})}
    if to_status != target.status:
        changes["Next_Step__c"] = statuses.next_step(to_status, moment.date(), expires_on)
    return current_app.extensions["gateway"].change_registration(
        target.id, target.scope, target.status, target.sequence, action_key, changes, stage
    )


def approve(target: Target, actor: Actor, action_key: str) -> bool:
    moment = _now()
    expires = moment.date() + timedelta(days=current_app.config["PROTECTION_DAYS"])
    before = _move(
        target,
        statuses.APPROVED,
        actor,
        action_key,
        fields={
            "Expires_On__c": expires.isoformat(),
            "Decided_By__c": actor.name[:121],
            "Decided_At__c": _timestamp(moment),
            "Open_Question__c": None,
            "Reason_Code__c": None,
        },
        expires_on=expires,
    )
    if before:
        log.info("registration %s approved by %s", target.id, actor.id)
        notifications.registration_decided(before, statuses.APPROVED, expires_on=expires)
    return before is not None


def reject(target: Target, actor: Actor, action_key: str, reason_code: str, comment: str) -> bool:
    if reason_code not in statuses.REASON_CODES:
        raise ValueError(f"unknown reason code {reason_code!r}")
    before = _move(
        target,
        statuses.REJECTED,
        actor,
        action_key,
        fields={
            "Reason_Code__c": reason_code,
            "Decided_By__c": actor.name[:121],
            "Decided_At__c": _timestamp(_now()),
            "Open_Question__c": None,
        },
        reason_code=reason_code,
        comment=comment or None,
    )
    if before:
        log.info("registration %s rejected by %s", target.id, actor.id)
        notifications.registration_decided(
            before, statuses.REJECTED, reason_code=reason_code, comment=comment
        )
    return before is not None


def ask(target: Target, actor: Actor, action_key: str, question: str) -> bool:
    before = _move(
        target,
        statuses.NEEDS_INFO,
        actor,
        action_key,
        fields={"Open_Question__c": question},
        comment=question,
    )
    if before:
        log.info("registration %s needs info, asked by %s", target.id, actor.id)
        notifications.question_asked(before, question)
    return before is not None


def answer(target: Target, actor: Actor, action_key: str, text: str) -> bool:
    """The partner's answer: back to review with the same owner."""
    before = _move(
        target,
        statuses.IN_REVIEW,
        actor,
        action_key,
        fields={"Open_Question__c": None},
        comment=text,
    )
    if before:
        log.info("registration %s answered by contact %s", target.id, actor.id)
        notifications.question_answered(before)
    return before is not None


def withdraw(target: Target, actor: Actor, action_key: str) -> bool:
    before = _move(target, statuses.WITHDRAWN, actor, action_key, fields={"Open_Question__c": None})
    if before:
        log.info("registration %s withdrawn by contact %s", target.id, actor.id)
    return before is not None


def reassign(
    target: Target, actor: Actor, action_key: str, owner_id: str, owner_name: str, note: str
) -> bool:
    before = _move(
        target,
        target.status,
        actor,
        action_key,
        fields={"OwnerId": owner_id},
        internal_note=note or None,
        owner_name=owner_name,
    )
    if before:
        log.info("registration %s reassigned to %s by %s", target.id, owner_id, actor.id)
        notifications.owner_changed(before, owner_id, owner_name, actor.name)
    return before is not None


def expire(registration: Registration) -> bool:
    """The protection period is over."""
    actor = Actor("", "Protection period ended")
    before = _move(Target.of(registration), statuses.EXPIRED, actor, f"expire:{registration.id}")
    if before:
        log.info("registration %s expired", registration.id)
    return before is not None


def record_salesforce_change(registration: Registration, changed_by: str) -> bool:
    """Record a status change someone made directly in Salesforce, once, and notify."""
    previous = registration.stages[-1].to_status if registration.stages else None
    stage = {
        "From_Status__c": previous,
        "To_Status__c": registration.status,
        "Entered_At__c": _timestamp(_now()),
        "Actor__c": changed_by[:121],
        "Source__c": SALESFORCE,
        "Reason_Code__c": registration.reason_code or None,
        "Owner_Name__c": registration.owner_name[:121] or None,
    }
    sequence = registration.next_sequence
    done = current_app.extensions["gateway"].record_stage(
        registration.id, sequence, f"salesforce:{registration.id}:{sequence}", stage
    )
    if done:
        log.info(
            "registration %s moved to %s in salesforce by %s",
            registration.id,
            registration.status,
            changed_by,
        )
        if registration.status in statuses.DECIDED:
            notifications.registration_decided(
                registration,
                registration.status,
                expires_on=registration.expires_on,
                reason_code=registration.reason_code,
            )
        elif registration.status == statuses.NEEDS_INFO:
            notifications.question_asked(registration, registration.open_question)
    return done
