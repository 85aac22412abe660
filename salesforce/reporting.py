"""The pilot's numbers, read from Salesforce: SOQL aggregates and bounded, paged record reads.

Every statement is built with `format_soql` and sent through the gateway, so it has the
gateway's timeouts, retries, API allowance breaker and errors. This module answers plain
rows and records; the medians, percentiles and buckets are computed in `portal/metrics.py`.

What one dashboard view costs: three aggregate queries (submissions per day, registrations
per partner and status, form counts) and the stage records of the registrations counted,
read 2,000 rows per call (`query_all` follows `nextRecordsUrl`). Aggregate answers are kept
under one batch: Salesforce cannot page an aggregate query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote

from simple_salesforce.format import format_soql

from salesforce.gateway import API_VERSION, Gateway, Unavailable
from salesforce.records import Registration

log = logging.getLogger(__name__)

# Salesforce answers at most 2,000 rows per query call.
ROWS_PER_CALL = 2_000
# The most stage records one view reads (25 calls); past it the page says it was cut short.
MAX_STAGE_ROWS = 50_000
# An aggregate query must fit one batch: Salesforce refuses to page one.
MAX_GROUPS = 2_000
# Subrequests in one Composite request, as Salesforce allows.
COMPOSITE_LIMIT = 25
DECIDED = ("Approved", "Rejected")

STAGE_FIELDS = (
    "Registration__c, Registration__r.Name, Registration__r.End_Customer_Name__c, "
    "Registration__r.Region__c, Registration__r.Product_Line__c, Registration__r.Status__c, "
    "Registration__r.Submitted_At__c, Registration__r.Partner_Account__c, "
    "Registration__r.Partner_Account__r.Name, Registration__r.Owner.Name, "
    "From_Status__c, To_Status__c, Entered_At__c, Actor__c, Owner_Name__c, Source__c, "
    "Reason_Code__c, Comment__c"
)
STAGE_ONLY = (
    "From_Status__c",
    "To_Status__c",
    "Entered_At__c",
    "Actor__c",
    "Owner_Name__c",
    "Source__c",
    "Reason_Code__c",
    "Comment__c",
)


@dataclass(frozen=True)
class Cohort:
    """The registrations counted: submitted from `start` to `end` (whole UTC days), narrowed
    by region, partner account and product line. `regions` None means every region; an empty
    tuple means none, and nothing is read."""

    start: date
    end: date
    regions: tuple[str, ...] | None = None
    partner_account_id: str = ""
    product_line: str = ""

    @property
    def empty(self) -> bool:
        return self.regions == ()


@dataclass(frozen=True)
class PartnerStatusCount:
    account_id: str
    account_name: str
    status: str
    registrations: int


@dataclass(frozen=True)
class FormTotals:
    opened: int
    submitted: int


@dataclass(frozen=True)
class FormCount:
    """One process's counts for one partner account on one day, as it keeps them."""

    day: date
    account_id: str
    process: str
    opened: int
    submitted: int

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}:{self.account_id}:{self.process}"


@dataclass(frozen=True)
class History:
    """Registrations with their stage records, oldest stage first."""

    registrations: tuple[Registration, ...]
    # False when MAX_STAGE_ROWS cut the read short.
    complete: bool = True


class Reporting:
    """The pilot's numbers for one cohort of registrations."""

    def __init__(self, gateway: Gateway):
        self._gateway = gateway

    def submissions_by_day(self, cohort: Cohort) -> dict[date, int]:
        """Registrations submitted per UTC day."""
        if cohort.empty:
            return {}
        where, values = _cohort(cohort)
        statement = format_soql(
            "SELECT DAY_ONLY(Submitted_At__c) submittedDay, COUNT(Id) registrations "
            f"FROM Deal_Registration__c WHERE {where} "
            f"GROUP BY DAY_ONLY(Submitted_At__c) LIMIT {MAX_GROUPS}",
            *values,
        )
        rows = self._gateway.read_all("count submissions", statement)
        return {date.fromisoformat(row["submittedDay"]): row["registrations"] for row in rows}

    def partner_statuses(self, cohort: Cohort) -> list[PartnerStatusCount]:
        """Registrations per partner account and status; every partner, whatever the
        cohort's partner filter, so the page can compare them and offer them as a choice."""
        if cohort.empty:
            return []
        where, values = _cohort(cohort, by_partner=False)
        statement = format_soql(
            "SELECT Partner_Account__c, Partner_Account__r.Name partnerName, Status__c, "
            f"COUNT(Id) registrations FROM Deal_Registration__c WHERE {where} "
            "GROUP BY Partner_Account__c, Partner_Account__r.Name, Status__c "
            f"LIMIT {MAX_GROUPS}",
            *values,
        )
        rows = self._gateway.read_all("count registrations", statement)
        if len(rows) >= MAX_GROUPS:
            log.warning("registrations per partner cut at %d groups", MAX_GROUPS)
        return [
            PartnerStatusCount(
                account_id=row["Partner_Account__c"] or "",
                account_name=row["partnerName"] or "",
                status=row["Status__c"] or "",
                registrations=row["registrations"],
            )
            for row in rows
        ]

    def form_totals(self, cohort: Cohort) -> FormTotals:
        """Registration forms opened and submitted in the cohort's days, by the partner
        accounts of its regions. A form has no product line or deal region until it is
        filled in, so those filters apply through the partner account's own region."""
        if cohort.empty:
            return FormTotals(0, 0)
        parts = ["Day__c >= {}", "Day__c <= {}"]
        values: list = [cohort.start, cohort.end]
        if cohort.regions is not None:
            parts.append("Partner_Account__r.Region__c IN {}")
            values.append(list(cohort.regions))
        if cohort.partner_account_id:
            parts.append("Partner_Account__c = {}")
            values.append(cohort.partner_account_id)
        statement = format_soql(
            "SELECT SUM(Forms_Opened__c) opened, SUM(Forms_Submitted__c) submitted "
            f"FROM Portal_Form_Count__c WHERE {' AND '.join(parts)}",
            *values,
        )
        [row] = self._gateway.read_all("count forms", statement)
        return FormTotals(int(row["opened"] or 0), int(row["submitted"] or 0))

    def history(self, cohort: Cohort, decisions_only: bool = False) -> History:
        """The cohort's registrations with their stage records (only the decisions, if asked).

        Reads the stage records with their registration's fields, 2,000 per call, at most
        MAX_STAGE_ROWS; a registration without any stage record is not in the answer.
        """
        if cohort.empty:
            return History(())
        where, values = _cohort(cohort)
        only = "AND To_Status__c IN {} " if decisions_only else ""
        statement = format_soql(
            f"SELECT {STAGE_FIELDS} FROM Deal_Registration_Stage__c "
            f"WHERE Registration__c IN (SELECT Id FROM Deal_Registration__c WHERE {where}) "
            f"{only}ORDER BY Registration__c, Entered_At__c, Name LIMIT {{}}",
            *values,
            *([list(DECIDED)] if decisions_only else []),
            MAX_STAGE_ROWS + 1,
        )
        rows = self._gateway.read_all("read stage history", statement)
        complete = len(rows) <= MAX_STAGE_ROWS
        if not complete:
            log.warning("stage history cut at %d rows", MAX_STAGE_ROWS)
        return History(_registrations(rows[:MAX_STAGE_ROWS]), complete)

    def save_form_counts(self, counts: list[FormCount]) -> None:
        """Upsert each process's counts by their key, 25 to a Composite request.

        The values are absolute (the process's totals for that day and account), so sending
        them again changes nothing; each process writes only its own records.
        """
        for start in range(0, len(counts), COMPOSITE_LIMIT):
            batch = counts[start : start + COMPOSITE_LIMIT]
            body = {
                "allOrNone": False,
                "compositeRequest": [
                    {
                        "method": "PATCH",
                        "url": f"/services/data/v{API_VERSION}/sobjects/Portal_Form_Count__c/"
                        f"Count_Key__c/{quote(count.key, safe='')}",
                        "referenceId": f"count{number}",
                        "body": {
                            "Day__c": count.day.isoformat(),
                            "Partner_Account__c": count.account_id or None,
                            "Process__c": count.process[:80],
                            "Forms_Opened__c": count.opened,
                            "Forms_Submitted__c": count.submitted,
                        },
                    }
                    for number, count in enumerate(batch)
                ],
            }
            # Keyed by Count_Key__c with absolute values: a repeat writes the same numbers.
            answer = self._gateway._call(
                "save form counts",
                lambda sf, body=body: sf.restful("composite", method="POST", json=body),
                idempotent=True,
            )
            failed = [part for part in answer["compositeResponse"] if part["httpStatusCode"] >= 300]
            if failed:
                codes = sorted(
                    {
                        error.get("errorCode", "")
                        for part in failed
                        for error in (part["body"] if isinstance(part["body"], list) else [])
                    }
                )
                log.error("salesforce refused %d form counts: %s", len(failed), ", ".join(codes))
                raise Unavailable("save form counts")


def _cohort(cohort: Cohort, by_partner: bool = True) -> tuple[str, list]:
    """The cohort as a condition on Deal_Registration__c, with its values."""
    parts = ["Submitted_At__c >= {}", "Submitted_At__c < {}"]
    values: list = [
        datetime.combine(cohort.start, time.min, UTC),
        datetime.combine(cohort.end + timedelta(days=1), time.min, UTC),
    ]
    if cohort.regions is not None:
        parts.append("Region__c IN {}")
        values.append(list(cohort.regions))
    if by_partner and cohort.partner_account_id:
        parts.append("Partner_Account__c = {}")
        values.append(cohort.partner_account_id)
    if cohort.product_line:
        parts.append("Product_Line__c = {}")
        values.append(cohort.product_line)
    return " AND ".join(parts), values


def _registrations(rows: list[dict]) -> tuple[Registration, ...]:
    """Stage rows (ordered by registration) folded into registrations with their stages."""
    grouped: dict[str, tuple[dict, list[dict]]] = {}
    for row in rows:
        registration_id = row["Registration__c"]
        if registration_id not in grouped:
            grouped[registration_id] = (row.get("Registration__r") or {}, [])
        grouped[registration_id][1].append({name: row.get(name) for name in STAGE_ONLY})
    return tuple(
        Registration.from_record(
            {**parent, "Id": registration_id, "Stages__r": {"records": stages}}
        )
        for registration_id, (parent, stages) in grouped.items()
    )
