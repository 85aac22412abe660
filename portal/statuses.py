"""Every status a registration can have, in the partner's words: what it means, what to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

REVIEW_BUSINESS_DAYS = 2


@dataclass(frozen=True)
class Status:
    name: str
    label: str
    explanation: str
    next_step: str
    tone: str  # how the badge looks: waiting, action, good, closed


STATUSES = {
    status.name: status
    for status in (
        Status(
            "Submitted",
            "Submitted",
            "We have your registration and it is waiting for the channel team.",
            "Nothing to do now: expect a decision by {decision_date}.",
            "waiting",
        ),
        Status(
            "In Review",
            "In review",
            "The channel team is reviewing your registration.",
            "Nothing to do now: expect a decision by {decision_date}.",
            "waiting",
        ),
        Status(
            "Needs Info",
            "Needs your answer",
            "The channel team has a question before they can decide.",
            "Answer the question on this registration.",
            "action",
        ),
        Status(
            "Approved",
            "Approved",
            "The deal is registered to you and protected until the expiry date.",
            "Nothing to do: the deal is protected until {expires_on}.",
            "good",
        ),
        Status(
            "Rejected",
            "Not approved",
            "The channel team did not approve this registration.",
            "Read the reason; register again if the situation changes.",
            "closed",
        ),
        Status(
            "Expired",
            "Expired",
            "The protection period of this registration has ended.",
            "Register the deal again if it is still open.",
            "closed",
        ),
        Status(
            "Withdrawn",
            "Withdrawn",
            "You withdrew this registration.",
            "Nothing to do.",
            "closed",
        ),
    )
}


def status(name: str) -> Status:
    return STATUSES.get(name) or Status(name, name, "", "", "waiting")


def add_business_days(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def next_step(name: str, submitted_on: date, expires_on: date | None = None) -> str:
    """The sentence telling the partner what happens next, with its dates filled in."""
    decision_date = add_business_days(submitted_on, REVIEW_BUSINESS_DAYS)
    return status(name).next_step.format(
        decision_date=f"{decision_date:%a %d %b %Y}",
        expires_on=f"{expires_on:%d %b %Y}" if expires_on else "the expiry date",
    )
