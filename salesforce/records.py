"""The portal's view of Salesforce records: plain objects, no client types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Scope:
    """A SOQL condition with `{}` placeholders and its values, filled by `format_soql`."""

    where: str
    values: tuple = ()


@dataclass(frozen=True)
class Contact:
    id: str
    name: str
    email: str
    account_id: str | None
    account_name: str
    account_enabled: bool
    role: str
    status: str
    link_expires: datetime | None = None
    identity_provider: str = ""

    @classmethod
    def from_record(cls, record: dict) -> Contact:
        account = record.get("Account") or {}
        return cls(
            id=record["Id"],
            name=record.get("Name") or "",
            email=record.get("Email") or "",
            account_id=record.get("AccountId"),
            account_name=account.get("Name") or "",
            account_enabled=bool(account.get("Portal_Enabled__c")),
            role=record.get("Portal_Role__c") or "",
            status=record.get("Portal_Status__c") or "",
            link_expires=parse_datetime(record.get("Portal_Login_Token_Expires__c")),
            identity_provider=account.get("Portal_Identity_Provider__c") or "",
        )


@dataclass(frozen=True)
class InternalUser:
    id: str
    name: str
    email: str
    active: bool
    role: str
    regions: tuple[str, ...]
    queue_ids: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: dict, queue_ids: tuple[str, ...] = ()) -> InternalUser:
        regions = record.get("Portal_Regions__c") or ""
        return cls(
            id=record["Id"],
            name=record.get("Name") or "",
            email=record.get("Email") or "",
            active=bool(record.get("IsActive")),
            role=record.get("Portal_Role__c") or "",
            regions=tuple(region for region in regions.split(";") if region),
            queue_ids=queue_ids,
        )


@dataclass(frozen=True)
class Passkey:
    id: str
    contact_id: str
    credential_id: str
    public_key: str
    sign_count: int
    transports: tuple[str, ...]
    label: str
    created: datetime | None
    last_used: datetime | None
    revoked: bool
    contact: Contact | None = None

    @classmethod
    def from_record(cls, record: dict) -> Passkey:
        person = record.get("Contact__r")
        return cls(
            id=record["Id"],
            contact_id=record.get("Contact__c") or "",
            credential_id=record.get("Credential_Id__c") or "",
            public_key=record.get("Public_Key__c") or "",
            sign_count=int(record.get("Sign_Count__c") or 0),
            transports=tuple(t for t in (record.get("Transports__c") or "").split(",") if t),
            label=record.get("Label__c") or "",
            created=parse_datetime(record.get("CreatedDate")),
            last_used=parse_datetime(record.get("Last_Used__c")),
            revoked=bool(record.get("Revoked__c")),
            contact=Contact.from_record({**person, "Id": record["Contact__c"]}) if person else None,
        )


@dataclass(frozen=True)
class Stage:
    from_status: str
    to_status: str
    entered_at: datetime | None
    actor: str
    reason_code: str
    comment: str
    internal_note: str
    source: str
    owner_name: str

    @classmethod
    def from_record(cls, record: dict) -> Stage:
        return cls(
            from_status=record.get("From_Status__c") or "",
            to_status=record.get("To_Status__c") or "",
            entered_at=parse_datetime(record.get("Entered_At__c")),
            actor=record.get("Actor__c") or "",
            reason_code=record.get("Reason_Code__c") or "",
            comment=record.get("Comment__c") or "",
            internal_note=record.get("Internal_Note__c") or "",
            source=record.get("Source__c") or "",
            owner_name=record.get("Owner_Name__c") or "",
        )


@dataclass(frozen=True)
class RegistrationFile:
    version_id: str
    title: str
    extension: str
    size: int

    @property
    def filename(self) -> str:
        return f"{self.title}.{self.extension}" if self.extension else self.title


@dataclass(frozen=True)
class Registration:
    id: str
    number: str
    end_customer_name: str
    end_customer_domain: str
    country: str
    region: str
    deal_value: float
    size_band: str
    product_line: str
    expected_close_date: date | None
    status: str
    next_step: str
    open_question: str
    notes: str
    reason_code: str
    expires_on: date | None
    submission_key: str
    owner_name: str
    submitted_by_id: str
    submitted_by_name: str
    partner_account_id: str
    partner_account_name: str
    created: datetime | None
    last_modified: datetime | None
    owner_id: str = ""
    submitted_by_email: str = ""
    submitter_wants_email: bool = True
    submitter_wants_push: bool = False
    routing_rule: str = ""
    possible_conflict: bool = False
    decided_by: str = ""
    decided_at: datetime | None = None
    submitted_at: datetime | None = None
    customer_name_key: str = ""
    customer_domain_key: str = ""
    files: tuple[RegistrationFile, ...] = field(default=())
    stages: tuple[Stage, ...] = field(default=())

    @property
    def is_open(self) -> bool:
        return self.status in ("Submitted", "In Review", "Needs Info")

    @property
    def next_sequence(self) -> int:
        """The number the next stage record of this registration takes."""
        return len(self.stages) + 1

    @property
    def waiting_since(self) -> datetime | None:
        """When the registration was submitted: the clock its review runs against."""
        return self.submitted_at or self.created

    @property
    def title(self) -> str:
        return f"{self.end_customer_name} · {self.product_line}"

    @classmethod
    def from_record(cls, record: dict) -> Registration:
        links = (record.get("ContentDocumentLinks") or {}).get("records", [])
        files = []
        for link in links:
            document = link.get("ContentDocument") or {}
            files.append(
                RegistrationFile(
                    version_id=document.get("LatestPublishedVersionId") or "",
                    title=document.get("Title") or "",
                    extension=document.get("FileExtension") or "",
                    size=int(document.get("ContentSize") or 0),
                )
            )
        submitter = record.get("Submitted_By__r") or {}
        stages = (record.get("Stages__r") or {}).get("records", [])
        return cls(
            id=record["Id"],
            number=record.get("Name") or "",
            end_customer_name=record.get("End_Customer_Name__c") or "",
            end_customer_domain=record.get("End_Customer_Domain__c") or "",
            country=record.get("Country__c") or "",
            region=record.get("Region__c") or "",
            deal_value=float(record.get("Deal_Value__c") or 0),
            size_band=record.get("Size_Band__c") or "",
            product_line=record.get("Product_Line__c") or "",
            expected_close_date=parse_date(record.get("Expected_Close_Date__c")),
            status=record.get("Status__c") or "",
            next_step=record.get("Next_Step__c") or "",
            open_question=record.get("Open_Question__c") or "",
            notes=record.get("Notes__c") or "",
            reason_code=record.get("Reason_Code__c") or "",
            expires_on=parse_date(record.get("Expires_On__c")),
            submission_key=record.get("Submission_Key__c") or "",
            owner_name=(record.get("Owner") or {}).get("Name") or "",
            submitted_by_id=record.get("Submitted_By__c") or "",
            submitted_by_name=submitter.get("Name") or "",
            partner_account_id=record.get("Partner_Account__c") or "",
            partner_account_name=(record.get("Partner_Account__r") or {}).get("Name") or "",
            created=parse_datetime(record.get("CreatedDate")),
            last_modified=parse_datetime(record.get("LastModifiedDate")),
            owner_id=record.get("OwnerId") or "",
            submitted_by_email=submitter.get("Email") or "",
            submitter_wants_email=submitter.get("Portal_Email_Notifications__c") is not False,
            submitter_wants_push=bool(submitter.get("Portal_Push_Notifications__c")),
            routing_rule=record.get("Routing_Rule__c") or "",
            possible_conflict=bool(record.get("Possible_Conflict__c")),
            decided_by=record.get("Decided_By__c") or "",
            decided_at=parse_datetime(record.get("Decided_At__c")),
            submitted_at=parse_datetime(record.get("Submitted_At__c")),
            customer_name_key=record.get("Customer_Name_Key__c") or "",
            customer_domain_key=record.get("Customer_Domain_Key__c") or "",
            files=tuple(files),
            stages=tuple(Stage.from_record(stage) for stage in stages),
        )


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def parse_datetime(value: str | None) -> datetime | None:
    """Salesforce writes `2026-01-31T10:00:00.000+0000`. (`fromisoformat` reads that many
    times faster than `strptime`; a list of deals reads three per row.)"""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"a Salesforce datetime carries its offset: {value!r}")
    return moment
