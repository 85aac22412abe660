"""Registrations and their stage records written straight into the local org's store, in bulk,
for the metrics tests and the dashboard benchmark: thousands of records in a second or two,
with the timestamps a real history would have (in the past, so the jobs leave them alone).

Not a test module: the tests import it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from salesforce.localorg.store import Store


@dataclass(frozen=True)
class Step:
    """One stage record: the status it moved to, when, by whom, and why."""

    to_status: str
    at: datetime
    actor: str = "Ann Approver"
    source: str = "Portal"
    reason_code: str = ""
    comment: str = ""
    owner_name: str = ""
    # An owner change: From equals To.
    reassign: bool = False


@dataclass
class Planned:
    """A registration to write, and its stages in order (the first is its submission)."""

    customer: str
    region: str
    product_line: str
    steps: list[Step]
    country: str = "DE"
    id: str = ""
    number: str = ""

    @property
    def submitted_at(self) -> datetime:
        return self.steps[0].at

    @property
    def status(self) -> str:
        return self.steps[-1].to_status


@dataclass
class Seeded:
    account_id: str
    account_name: str
    contact_id: str
    registrations: list[Planned] = field(default_factory=list)


def stamp(moment: datetime) -> str:
    """A dateTime as the local org stores it (its text order is time order)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def seed(
    store: Store,
    user_id: str,
    account_name: str,
    account_region: str,
    owner_id: str,
    plans: list[Planned],
) -> Seeded:
    """Write a partner company, its rep and `plans`, in one transaction; IDs go on the plans."""
    registrations = store.sobject("Deal_Registration__c")
    with store.transaction():
        account_id = store.create(
            "Account",
            {"Name": account_name, "Region__c": account_region, "Portal_Enabled__c": True},
            user_id,
        )
        contact_id = store.create(
            "Contact",
            {
                "AccountId": account_id,
                "FirstName": "Seeded",
                "LastName": "Rep",
                "Email": f"seeded.{uuid.uuid4().hex[:10]}@partner.example",
                "Portal_Role__c": "Rep",
                "Portal_Status__c": "Active",
            },
            user_id,
        )
        for plan in plans:
            plan.id = store.create(
                "Deal_Registration__c",
                {
                    "Partner_Account__c": account_id,
                    "Submitted_By__c": contact_id,
                    "OwnerId": owner_id,
                    "End_Customer_Name__c": plan.customer,
                    "Country__c": plan.country,
                    "Region__c": plan.region,
                    "Deal_Value__c": 100000,
                    "Product_Line__c": plan.product_line,
                    "Expected_Close_Date__c": (date.today() + timedelta(days=90)).isoformat(),
                    "Status__c": plan.status,
                    "Submission_Key__c": str(uuid.uuid4()),
                    "Submitted_At__c": stamp(plan.submitted_at),
                },
                user_id,
            )
            previous = None
            for sequence, step in enumerate(plan.steps, 1):
                from_status = step.to_status if step.reassign else previous
                store.create(
                    "Deal_Registration_Stage__c",
                    {
                        "Registration__c": plan.id,
                        "From_Status__c": from_status,
                        "To_Status__c": step.to_status,
                        "Entered_At__c": stamp(step.at),
                        "Actor__c": step.actor,
                        "Source__c": step.source,
                        "Reason_Code__c": step.reason_code or None,
                        "Comment__c": step.comment or None,
                        "Owner_Name__c": step.owner_name or None,
                        "Stage_Key__c": f"{plan.id}:{sequence}",
                    },
                    user_id,
                )
                previous = step.to_status
            plan.number = store.row(registrations, plan.id)["Name"]
            # As old as its history: the jobs look only at recently changed registrations.
            last = stamp(plan.steps[-1].at)
            store.conn.execute(
                "UPDATE Deal_Registration__c SET CreatedDate = ?, LastModifiedDate = ?, "
                "SystemModstamp = ? WHERE Id = ?",
                (stamp(plan.submitted_at), last, last, plan.id),
            )
    return Seeded(account_id, account_name, contact_id, plans)


REMOVALS = (
    "DELETE FROM Deal_Registration_Stage__c WHERE Registration__c IN "
    "(SELECT Id FROM Deal_Registration__c WHERE Partner_Account__c = ?)",
    "DELETE FROM Deal_Registration__c WHERE Partner_Account__c = ?",
    "DELETE FROM Portal_Form_Count__c WHERE Partner_Account__c = ?",
    "DELETE FROM Contact WHERE AccountId = ?",
    "DELETE FROM Account WHERE Id = ?",
)


def remove(store: Store, account_ids: list[str]) -> None:
    """Delete what `seed` wrote (and any form counts of those companies)."""
    with store.transaction():
        for account_id in account_ids:
            for statement in REMOVALS:
                store.conn.execute(statement, (account_id,))


def bulk(count: int, start: datetime, regions=("EMEA", "APAC")) -> list[Planned]:
    """`count` registrations submitted a few minutes apart from `start`, in five patterns:
    approved, sent back once then rejected, approved slowly, still open (one in fifty) and
    withdrawn."""
    plans = []
    for index in range(count):
        at = start + timedelta(minutes=17 * index)
        pattern = index % 5
        steps = [Step("Submitted", at, actor="Seeded Rep")]
        if pattern == 0:
            steps.append(Step("Approved", at + timedelta(hours=index % 7 + 1)))
        elif pattern == 1:
            back = at + timedelta(hours=2)
            answered = back + timedelta(hours=index % 11 + 1)
            steps += [
                Step("Needs Info", back, comment="Who signs?"),
                Step("In Review", answered, actor="Seeded Rep", comment="The CFO."),
                Step(
                    "Rejected",
                    answered + timedelta(hours=3),
                    reason_code="Customer not qualified",
                    comment="Not in the target segment.",
                ),
            ]
        elif pattern == 2:
            steps.append(Step("Approved", at + timedelta(hours=(index % 13) * 3 + 1)))
        elif pattern == 3 and index % 50 != 3:
            steps.append(Step("Approved", at + timedelta(hours=5)))
        elif pattern == 4:
            steps.append(Step("Withdrawn", at + timedelta(hours=1), actor="Seeded Rep"))
        plans.append(
            Planned(
                customer=f"Bulk Customer {index}",
                region=regions[index % len(regions)],
                product_line=("Cloud Platform", "Analytics")[index % 2],
                steps=steps,
            )
        )
    return plans
