"""The pilot's numbers: counts, medians, 90th percentiles, age buckets and the decision log,
computed from what `salesforce/reporting.py` reads. Every definition is here, once; the
dashboard explains them in the same words.

Durations are calendar hours between stage records' `Entered_At__c` times. A stage record
whose From and To status are the same is an owner change, not a stage: it never starts or
ends a stage, it only says who owned the registration from then on.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from portal import statuses
from salesforce.records import Registration, Stage
from salesforce.reporting import Cohort, FormTotals, History, PartnerStatusCount

TIMED_STAGES = (statuses.SUBMITTED, statuses.IN_REVIEW, statuses.NEEDS_INFO)
# Statuses a decision put the registration in, then or since (an approval can expire).
DECIDED_STATUSES = (statuses.APPROVED, statuses.REJECTED, statuses.EXPIRED)
OLDEST_SHOWN = 10
DECISIONS_SHOWN = 25
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class Spread:
    """How long something took, in hours: how many, the median and the 90th percentile."""

    count: int
    median: float | None
    p90: float | None


def spread(hours: Iterable[float]) -> Spread:
    """The median (the middle value, or the mean of the two middle ones) and the 90th
    percentile by nearest rank (the smallest value at least 90 % of them do not exceed)."""
    ordered = sorted(hours)
    if not ordered:
        return Spread(0, None, None)
    return Spread(
        len(ordered), statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1]
    )


def hours_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / SECONDS_PER_HOUR


@dataclass(frozen=True)
class Journey:
    """One registration's way through the stages."""

    registration: Registration
    submitted_at: datetime | None
    # Completed time in each stage, summed over every visit to it.
    stage_hours: dict[str, float]
    needs_info_rounds: int
    decision: Stage | None
    # Who owned it when it was decided, and since when (submission or last reassignment).
    decided_owner: str
    owner_since: datetime | None
    current_since: datetime | None

    @property
    def hours_to_decision(self) -> float | None:
        if self.decision is None or self.submitted_at is None:
            return None
        return hours_between(self.submitted_at, self.decision.entered_at)

    @property
    def turnaround(self) -> float | None:
        if self.decision is None or self.owner_since is None:
            return None
        return hours_between(self.owner_since, self.decision.entered_at)


def journey(registration: Registration) -> Journey:
    """What the stage records say about one registration."""
    stages = [stage for stage in registration.stages if stage.entered_at is not None]
    moves = [stage for stage in stages if stage.from_status != stage.to_status]
    submitted_at = registration.submitted_at or (moves[0].entered_at if moves else None)
    stage_hours: dict[str, float] = {}
    for stage, following in zip(moves, moves[1:], strict=False):
        if stage.to_status in TIMED_STAGES:
            taken = hours_between(stage.entered_at, following.entered_at)
            stage_hours[stage.to_status] = stage_hours.get(stage.to_status, 0.0) + taken
    decision = next((stage for stage in moves if stage.to_status in statuses.DECIDED), None)
    owner, owner_since = registration.owner_name, submitted_at
    before_decision = stages[: stages.index(decision)] if decision else stages
    for stage in before_decision:
        if stage.from_status == stage.to_status and stage.owner_name:
            owner, owner_since = stage.owner_name, stage.entered_at
    if decision and decision.owner_name:
        owner = decision.owner_name
    return Journey(
        registration=registration,
        submitted_at=submitted_at,
        stage_hours=stage_hours,
        needs_info_rounds=sum(1 for stage in moves if stage.to_status == statuses.NEEDS_INFO),
        decision=decision,
        decided_owner=owner,
        owner_since=owner_since,
        current_since=moves[-1].entered_at if moves else submitted_at,
    )


# -- where deals get stuck --------------------------------------------------------------


@dataclass(frozen=True)
class AgeBucket:
    """Open registrations whose age, in business days since submission, is in [low, high)."""

    low: int
    high: int | None
    label: str
    verdict: str


def age_buckets(target_days: int) -> tuple[AgeBucket, ...]:
    """Ages measured against the review target: within it, past it, past twice and four
    times it."""
    target = max(1, target_days)
    edges = [(0, target), (target, 2 * target), (2 * target, 4 * target), (4 * target, None)]
    verdicts = ("within target", "past target", "over 2× target", "over 4× target")
    buckets = []
    for (low, high), verdict in zip(edges, verdicts, strict=True):
        if high is None:
            label = f"{low}+ days"
        elif high - low == 1:
            label = f"{low} day{'' if low == 1 else 's'}"
        else:
            label = f"{low}–{high - 1} days"
        buckets.append(AgeBucket(low, high, label, verdict))
    return tuple(buckets)


def bucket_of(age: int, buckets: tuple[AgeBucket, ...]) -> int:
    for index, bucket in enumerate(buckets):
        if bucket.high is None or age < bucket.high:
            return index
    return len(buckets) - 1


@dataclass(frozen=True)
class OpenRegistration:
    journey: Journey
    age_days: int  # business days since submission
    days_in_status: int  # calendar days since it entered its current status
    bucket: int


@dataclass(frozen=True)
class Stuck:
    buckets: tuple[AgeBucket, ...]
    # status -> count per bucket
    counts: dict[str, list[int]]
    oldest: list[OpenRegistration]
    total: int

    def in_bucket(self, index: int) -> int:
        return sum(row[index] for row in self.counts.values())

    @property
    def past_target(self) -> int:
        return self.total - self.in_bucket(0)


def stuck(journeys: list[Journey], now: datetime, target_days: int) -> Stuck:
    buckets = age_buckets(target_days)
    counts = {status: [0] * len(buckets) for status in statuses.OPEN}
    waiting = []
    for item in journeys:
        status = item.registration.status
        if status not in statuses.OPEN:
            continue
        age = statuses.business_days_between(item.submitted_at, now)
        since = item.current_since or item.submitted_at
        in_status = (now.date() - since.date()).days if since else 0
        index = bucket_of(age, buckets)
        counts[status][index] += 1
        waiting.append(OpenRegistration(item, age, in_status, index))
    waiting.sort(
        key=lambda entry: (entry.journey.submitted_at or now, entry.journey.registration.id)
    )
    return Stuck(buckets, counts, waiting[:OLDEST_SHOWN], len(waiting))


# -- rework -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rework:
    registrations: int
    reworked: int
    # rounds of Needs Info -> registrations that went through that many
    rounds: dict[int, int]

    @property
    def share(self) -> float | None:
        return self.reworked / self.registrations if self.registrations else None

    @property
    def total_rounds(self) -> int:
        return sum(rounds * count for rounds, count in self.rounds.items())


def rework(journeys: list[Journey], registrations: int) -> Rework:
    rounds = Counter(item.needs_info_rounds for item in journeys if item.needs_info_rounds)
    return Rework(registrations, sum(rounds.values()), dict(sorted(rounds.items())))


# -- decisions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    registration: Registration
    stage: Stage

    @property
    def outcome(self) -> str:
        return self.stage.to_status


def decisions(journeys: list[Journey], outcome: str = "") -> list[Decision]:
    """Every approval and rejection, newest first; only `outcome` ones if given."""
    found = [
        Decision(item.registration, stage)
        for item in journeys
        for stage in item.registration.stages
        if stage.from_status != stage.to_status
        and stage.to_status in statuses.DECIDED
        and (not outcome or stage.to_status == outcome)
    ]
    found.sort(key=lambda entry: (entry.stage.entered_at, entry.registration.id), reverse=True)
    return found


# -- the dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerRow:
    account_id: str
    name: str
    by_status: dict[str, int]

    @property
    def submitted(self) -> int:
        return sum(self.by_status.values())

    @property
    def open(self) -> int:
        return sum(self.by_status.get(status, 0) for status in statuses.OPEN)

    @property
    def approved(self) -> int:
        return self.by_status.get(statuses.APPROVED, 0) + self.by_status.get(statuses.EXPIRED, 0)

    @property
    def rejected(self) -> int:
        return self.by_status.get(statuses.REJECTED, 0)

    @property
    def withdrawn(self) -> int:
        return self.by_status.get(statuses.WITHDRAWN, 0)

    @property
    def decided(self) -> int:
        return self.approved + self.rejected


def partner_rows(counts: list[PartnerStatusCount]) -> list[PartnerRow]:
    """One row per partner account, most registrations first."""
    names: dict[str, str] = {}
    by_partner: dict[str, dict[str, int]] = defaultdict(dict)
    for count in counts:
        names[count.account_id] = count.account_name
        statuses_of = by_partner[count.account_id]
        statuses_of[count.status] = statuses_of.get(count.status, 0) + count.registrations
    rows = [PartnerRow(account, names[account], dict(seen)) for account, seen in by_partner.items()]
    rows.sort(key=lambda row: (-row.submitted, row.name.lower(), row.account_id))
    return rows


def weeks(by_day: dict[date, int], start: date, end: date) -> list[tuple[date, int]]:
    """Submissions per week (Monday to Sunday) from the week of `start` to that of `end`."""
    monday = start - timedelta(days=start.weekday())
    totals = []
    while monday <= end:
        days = (monday + timedelta(days=offset) for offset in range(7))
        totals.append((monday, sum(by_day.get(day, 0) for day in days)))
        monday += timedelta(days=7)
    return totals


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Dashboard:
    cohort: Cohort
    weeks: list[tuple[date, int]]
    partners: list[PartnerRow]
    forms: FormTotals
    journeys: list[Journey]
    stage_times: list[tuple[str, Spread]]
    to_decision: Spread
    by_queue: list[tuple[str, Spread]]
    by_approver: list[tuple[str, Spread]]
    stuck: Stuck
    rework: Rework
    decisions: list[Decision]
    complete: bool
    target_days: int
    shown_partner: str = ""
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def submissions(self) -> int:
        return sum(self.by_status.values())

    @property
    def decided(self) -> int:
        return sum(self.by_status.get(status, 0) for status in DECIDED_STATUSES)

    @property
    def withdrawn(self) -> int:
        return self.by_status.get(statuses.WITHDRAWN, 0)

    @property
    def decision_rate(self) -> float | None:
        return ratio(self.decided, self.submissions)

    @property
    def form_completion(self) -> float | None:
        return ratio(self.forms.submitted, self.forms.opened)


def dashboard(
    cohort: Cohort,
    by_day: dict[date, int],
    partner_counts: list[PartnerStatusCount],
    forms: FormTotals,
    history: History,
    now: datetime,
    target_days: int,
    outcome: str = "",
) -> Dashboard:
    """Every number of the dashboard, from the reads of one view."""
    partners = partner_rows(partner_counts)
    counted = [row for row in partners if row.account_id == cohort.partner_account_id]
    by_status: dict[str, int] = defaultdict(int)
    for row in counted if cohort.partner_account_id else partners:
        for status, count in row.by_status.items():
            by_status[status] += count
    journeys = [journey(registration) for registration in history.registrations]
    decided = [item for item in journeys if item.decision is not None]
    return Dashboard(
        cohort=cohort,
        weeks=weeks(by_day, cohort.start, cohort.end),
        partners=partners,
        forms=forms,
        journeys=journeys,
        stage_times=[
            (name, spread(item.stage_hours[name] for item in journeys if name in item.stage_hours))
            for name in TIMED_STAGES
        ],
        to_decision=spread(
            item.hours_to_decision for item in decided if item.hours_to_decision is not None
        ),
        by_queue=_grouped(decided, lambda item: item.decided_owner),
        by_approver=_grouped(decided, lambda item: item.decision.actor),
        stuck=stuck(journeys, now, target_days),
        rework=rework(journeys, sum(by_status.values())),
        decisions=decisions(journeys, outcome),
        complete=history.complete,
        target_days=target_days,
        shown_partner=counted[0].name if counted else "",
        by_status=dict(by_status),
    )


def _grouped(journeys: list[Journey], key: Callable[[Journey], str]) -> list[tuple[str, Spread]]:
    """Turnaround per queue or approver, most decisions first."""
    groups: dict[str, list[float]] = defaultdict(list)
    for item in journeys:
        if item.turnaround is not None:
            groups[key(item) or "(unknown)"].append(item.turnaround)
    rows = [(name, spread(values)) for name, values in groups.items()]
    rows.sort(key=lambda row: (-row[1].count, row[0].lower()))
    return rows


# -- CSV ----------------------------------------------------------------------------------


def safe_cell(value):
    """A value a spreadsheet shows as text: a leading = + - @ (or tab, carriage return) would
    make it a formula, so such text gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(header: list[str], rows: Iterable[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell("" if value is None else value) for value in row])
    return buffer.getvalue()


def _moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def _hours(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else ""


DECISION_COLUMNS = [
    "Registration",
    "Link",
    "End customer",
    "Partner",
    "Region",
    "Product line",
    "Decision",
    "Decided by",
    "Decided at (UTC)",
    "Reason code",
    "Comment",
    "Owner",
    "Source",
]


def decisions_csv(rows: list[Decision], link: Callable[[str], str]) -> str:
    return _csv(
        DECISION_COLUMNS,
        (
            [
                entry.registration.number,
                link(entry.registration.id),
                entry.registration.end_customer_name,
                entry.registration.partner_account_name,
                entry.registration.region,
                entry.registration.product_line,
                entry.outcome,
                entry.stage.actor,
                _moment(entry.stage.entered_at),
                entry.stage.reason_code,
                entry.stage.comment,
                entry.stage.owner_name or entry.registration.owner_name,
                entry.stage.source,
            ]
            for entry in rows
        ),
    )


REGISTRATION_COLUMNS = [
    "Registration",
    "Link",
    "End customer",
    "Partner",
    "Region",
    "Product line",
    "Status",
    "Submitted at (UTC)",
    "Decided at (UTC)",
    "Decision",
    "Decided by",
    "Hours to decision",
    "Needs Info rounds",
    "Hours in Submitted",
    "Hours in In Review",
    "Hours in Needs Info",
    "Business days open",
]


def registrations_csv(journeys: list[Journey], link: Callable[[str], str], now: datetime) -> str:
    def row(item: Journey) -> list:
        registration, decision = item.registration, item.decision
        still_open = registration.status in statuses.OPEN
        return [
            registration.number,
            link(registration.id),
            registration.end_customer_name,
            registration.partner_account_name,
            registration.region,
            registration.product_line,
            registration.status,
            _moment(item.submitted_at),
            _moment(decision.entered_at if decision else None),
            decision.to_status if decision else "",
            decision.actor if decision else "",
            _hours(item.hours_to_decision),
            item.needs_info_rounds,
            *(_hours(item.stage_hours.get(name)) for name in TIMED_STAGES),
            statuses.business_days_between(item.submitted_at, now) if still_open else "",
        ]

    ordered = sorted(journeys, key=lambda item: (item.submitted_at or now, item.registration.id))
    return _csv(REGISTRATION_COLUMNS, (row(item) for item in ordered))


# -- words ----------------------------------------------------------------------------------


def duration_text(hours: float | None) -> str:
    """Hours as a person reads them: minutes, hours up to two days, then days."""
    if hours is None:
        return "–"
    if hours < 1:
        return f"{round(hours * 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} d"


def percent_text(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"
