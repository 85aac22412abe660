"""Every status a registration can have, in the partner's words: what it means, what to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

REVIEW_BUSINESS_DAYS = 2

SUBMITTED = "Submitted"
IN_REVIEW = "In Review"
NEEDS_INFO = "Needs Info"
APPROVED = "Approved"
REJECTED = "Rejected"
EXPIRED = "Expired"
WITHDRAWN = "Withdrawn"

OPEN = (SUBMITTED, IN_REVIEW, NEEDS_INFO)
DECIDED = (APPROVED, REJECTED)

# Every status change the portal allows; anything else is refused.
TRANSITIONS = {
    SUBMITTED: {IN_REVIEW, NEEDS_INFO, APPROVED, REJECTED, WITHDRAWN},
    IN_REVIEW: {NEEDS_INFO, APPROVED, REJECTED, WITHDRAWN},
    NEEDS_INFO: {IN_REVIEW, APPROVED, REJECTED, WITHDRAWN},
    APPROVED: {EXPIRED},
    REJECTED: set(),
    EXPIRED: set(),
    WITHDRAWN: set(),
}

REASON_CODES = (
    "Existing opportunity",
    "Customer not qualified",
    "Duplicate registration",
    "Outside partner territory",
    "Insufficient information",
    "Other",
)


def can_move(from_status: str, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(from_status, set())


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


def business_days_between(start: datetime | None, end: datetime) -> int:
    """Whole business days (Monday to Friday) from `start` to `end`."""
    if start is None:
        return 0
    days, current = 0, start.date()
    while current < end.date():
        current += timedelta(days=1)
        if current.weekday() < 5:
            days += 1
    return days


def next_step(name: str, submitted_on: date, expires_on: date | None = None) -> str:
    """The sentence telling the partner what happens next, with its dates filled in.

    `submitted_on` is the day the registration entered review (submitted, or answered).
    """
    decision_date = add_business_days(submitted_on, REVIEW_BUSINESS_DAYS)
    return status(name).next_step.format(
        decision_date=f"{decision_date:%a %d %b %Y}",
        expires_on=f"{expires_on:%d %b %Y}" if expires_on else "the expiry date",
    )
