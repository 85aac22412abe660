"""The only code that talks to Salesforce: domain calls in, domain objects and errors out.

Built on simple-salesforce. Every statement is built with `format_soql`; every
request has a timeout; Salesforce errors become the few exceptions the views
can explain to a person.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql
from simple_salesforce.util import exception_handler

from salesforce.connection import ConnectionFailed, Connector
from salesforce.records import (
    Contact,
    InternalUser,
    Passkey,
    Registration,
    RegistrationFile,
    Scope,
)
from salesforce.resilience import (
    OrgLimits,
    Policy,
    Transient,
    error_codes,
    transient_fault,
)

log = logging.getLogger(__name__)

API_VERSION = "62.0"
MAX_LIST_ROWS = 200
# ContentVersion's limits, in characters.
MAX_TITLE_LENGTH = 255
MAX_PATH_ON_CLIENT_LENGTH = 500
OWNERS_CACHE_SECONDS = 600

REGISTRATION_FIELDS = (
    "Id, Name, End_Customer_Name__c, End_Customer_Domain__c, Country__c, Region__c, "
    "Deal_Value__c, Size_Band__c, Product_Line__c, Expected_Close_Date__c, Status__c, "
    "Next_Step__c, Open_Question__c, Reason_Code__c, Expires_On__c, Submission_Key__c, "
    "OwnerId, Owner.Name, Submitted_By__c, Submitted_By__r.Name, Submitted_By__r.Email, "
    "Submitted_By__r.Portal_Email_Notifications__c, "
    "Submitted_By__r.Portal_Push_Notifications__c, Partner_Account__c, "
    "Partner_Account__r.Name, Routing_Rule__c, Possible_Conflict__c, Decided_By__c, "
    "Decided_At__c, Submitted_At__c, Customer_Name_Key__c, Customer_Domain_Key__c, "
    "CreatedDate, LastModifiedDate"
)
STAGE_SUBQUERY = (
    "(SELECT From_Status__c, To_Status__c, Entered_At__c, Actor__c, Reason_Code__c, "
    "Comment__c, Internal_Note__c, Source__c, Owner_Name__c FROM Stages__r "
    "ORDER BY Entered_At__c)"
)
CONTACT_FIELDS = (
    "Id, Name, Email, AccountId, Account.Name, Account.Portal_Enabled__c, "
    "Account.Portal_Identity_Provider__c, Portal_Role__c, Portal_Status__c, "
    "Portal_Login_Token_Expires__c"
)
PASSKEY_FIELDS = (
    "Id, Contact__c, Credential_Id__c, Public_Key__c, Sign_Count__c, Transports__c, "
    "Label__c, CreatedDate, Last_Used__c, Revoked__c"
)
USER_FIELDS = "Id, Name, Email, IsActive, Portal_Role__c, Portal_Regions__c"


class GatewayError(Exception):
    """Salesforce could not do what was asked."""


class Unavailable(GatewayError):
    """Salesforce could not be reached or failed; the action can be tried again later."""


class LimitReached(Unavailable):
    """The org's API allowance is used up; the portal calls again from `retry_at` (UTC)."""

    def __init__(self, action: str, retry_at: datetime | None):
        super().__init__(action)
        self.retry_at = retry_at


class NotFound(GatewayError):
    """The record does not exist, or the person may not see it."""


class AccessRevoked(GatewayError):
    """The person's portal access was switched off in Salesforce."""


class Conflict(GatewayError):
    """Someone changed the registration since the person looked at it."""


@dataclass(frozen=True)
class OrgError:
    """One error of a Salesforce answer: its code, its message, the fields it names."""

    code: str
    message: str
    fields: tuple[str, ...] = ()


class Rejected(GatewayError):
    """Salesforce refused the values; `field_errors` maps our field names to its messages.

    `errors` keeps each error apart: the message of an org's validation rule or duplicate
    rule is the admin's text for the person, shown as it is.
    """

    def __init__(
        self,
        message: str,
        field_errors: dict[str, str] | None = None,
        errors: tuple[OrgError, ...] = (),
    ):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}
        self.errors = errors

    @property
    def codes(self) -> set[str]:
        return {error.code for error in self.errors}


@dataclass(frozen=True)
class Submission:
    registration_id: str
    created: bool
    conflict: bool = False


class Gateway:
    """Reads and writes the portal's records in one org."""

    def __init__(
        self,
        connector: Connector,
        policy: Policy | None = None,
        network_id: str = "",
        client_name: str = "portal",
        limits: OrgLimits | None = None,
    ):
        self._connector = connector
        self.client_name = client_name
        self._policy = policy or Policy()
        # Files are published to this Experience Cloud site, so its partner users see them.
        self._network_id = network_id
        limits = limits or OrgLimits(self._policy)
        self._breaker = limits.breaker
        self._usage = limits.usage
        self._answered_at: float | None = None
        self._client: Salesforce | None = None
        self._lock = threading.Lock()
        self._owners: tuple[float, list[tuple[str, str]]] | None = None
        self._owner_ids: dict[tuple[str, str], str] = {}

    # -- connection -----------------------------------------------------------

    def _sf(self) -> Salesforce:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._connector.connect()
                    # Salesforce's own way for a caller to say who it is, in its API logs.
                    self._client.session.headers["Sforce-Call-Options"] = (
                        f"client={self.client_name}"
                    )
                except (
                    ConnectionFailed,
                    SalesforceAuthenticationFailed,
                    requests.RequestException,
                ):
                    log.error("cannot open a salesforce session (%s mode)", self._connector.mode)
                    raise Unavailable("connect") from None
                # Every answer carries the org's API usage, whichever client call made it.
                self._client.session.hooks["response"].append(self._usage.read)
            return self._client

    def _forget(self, sf: Salesforce) -> None:
        with self._lock:
            if self._client is sf:
                self._client = None

    def _call(self, action: str, operation, *, idempotent: bool):
        """Run `operation(sf)`, turning Salesforce's answers into the gateway's exceptions.

        An expired session is renewed once. A transient fault (a locked row, a 5xx answer,
        a timeout, a dropped connection) is retried with backoff only when `idempotent`:
        the caller states that sending the request again cannot do anything twice, because
        it only reads, sets absolute values by ID, or is keyed by a unique external ID.
        Once the org answers REQUEST_LIMIT_EXCEEDED, calls stop until the cool-down ends.
        """
        admitted, probe = self._breaker.admit()
        if not admitted:
            raise LimitReached(action, self._breaker.retry_at)
        try:
            result = self._attempts(action, operation, idempotent)
        except LimitReached:
            raise
        except BaseException:
            if probe:
                self._breaker.release()
            raise
        self._answered_at = time.monotonic()
        if self._breaker.close():
            log.warning("salesforce api calls resumed after the allowance was used up")
        return result

    def _attempts(self, action: str, operation, idempotent: bool):
        started = time.monotonic()
        attempt = 1
        renewed = False
        while True:
            sf = self._sf()
            try:
                return operation(sf)
            except SalesforceExpiredSession:
                self._forget(sf)
                if renewed:
                    log.error("salesforce session rejected twice during %s", action)
                    raise Unavailable(action) from None
                renewed = True
                log.warning("salesforce session expired during %s; signing in again", action)
                continue
            except (requests.RequestException, SalesforceError, Transient) as error:
                fault = transient_fault(error)
                if fault is None:
                    raise self._failure(action, error) from None
                if not idempotent:
                    log.error("salesforce %s during %s; not retried: not idempotent", fault, action)
                    raise Unavailable(action) from error
                delay = self._policy.backoff_seconds(attempt)
                elapsed = time.monotonic() - started
                if (
                    attempt >= self._policy.attempts
                    or elapsed + delay > self._policy.deadline_seconds
                ):
                    log.error(
                        "salesforce %s during %s; gave up after %d attempts", fault, action, attempt
                    )
                    raise Unavailable(action) from error
                log.warning(
                    "salesforce %s during %s; attempt %d of %d in %.2f s",
                    fault,
                    action,
                    attempt + 1,
                    self._policy.attempts,
                    delay,
                )
                time.sleep(delay)
                attempt += 1

    def _failure(self, action: str, error: Exception) -> GatewayError:
        """The gateway's exception for an answer that repeating would not change."""
        if isinstance(error, SalesforceResourceNotFound):
            return NotFound(action)
        if isinstance(error, SalesforceMalformedRequest):
            return _rejection(error.content)
        if isinstance(error, SalesforceRefusedRequest) and "REQUEST_LIMIT_EXCEEDED" in error_codes(
            error.content
        ):
            retry_at = self._breaker.trip()
            log.error(
                "salesforce api allowance used up during %s; no calls until %s",
                action,
                retry_at.strftime("%H:%M UTC"),
            )
            return LimitReached(action, retry_at)
        status = getattr(error, "status", type(error).__name__)
        log.error("salesforce failed during %s: status %s", action, status)
        return Unavailable(action)

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, allowance) from the last answer's `Sforce-Limit-Info`, if any."""
        usage = self._usage.as_dict()
        return (usage["used"], usage["allowance"]) if usage else None

    def health(self, max_age_seconds: float) -> dict:
        """Whether the org answers, its API usage, and whether calls are paused.

        An answer to any call in the last `max_age_seconds` is proof enough; only an idle
        process asks the org (`limits`, one API call), so health checks cost little of the
        daily allowance.
        """
        started = time.monotonic()
        reachable, problem = True, None
        recent = self._answered_at is not None and started - self._answered_at < max_age_seconds
        if not recent:
            try:
                limits = self._call("check health", lambda sf: sf.limits(), idempotent=True)
            except LimitReached:
                problem = "api allowance used up"
            except GatewayError:
                reachable, problem = False, "unreachable"
            else:
                daily = limits.get("DailyApiRequests") or {}
                if daily.get("Max"):
                    self._usage.record(daily["Max"] - daily.get("Remaining", 0), daily["Max"])
        elif self._breaker.state != "closed":
            problem = "api allowance used up"
        retry_at = self._breaker.retry_at
        return {
            "reachable": reachable,
            "problem": problem,
            "checked_ms": round(1000 * (time.monotonic() - started)),
            "api_usage": self._usage.as_dict(),
            "calls": self._breaker.state,
            "calls_resume_at": retry_at.strftime("%Y-%m-%dT%H:%M:%SZ") if retry_at else None,
        }

    def read_all(self, action: str, statement: str) -> list[dict]:
        """Every row a query answers, following its pages: one API call per 2,000 rows."""
        return self._call(action, lambda sf: sf.query_all(statement)["records"], idempotent=True)

    def find_partner_contact(self, email: str) -> Contact | None:
        """The portal-enabled partner contact with this email, if exactly one exists."""
        statement = format_soql(
            f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Email = {{}} "
            "AND Portal_Status__c IN ('Invited', 'Active') "
            "AND Account.Portal_Enabled__c = true LIMIT 2",
            email,
        )
        records = self._call(
            "find contact", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        if len(records) != 1:
            return None
        return Contact.from_record(records[0])

    def contact(self, contact_id: str) -> Contact:
        statement = format_soql(f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Id = {{}}", contact_id)
        records = self._call(
            "read contact", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        if not records:
            raise NotFound("contact")
        return Contact.from_record(records[0])

    def partner_accounts(self, scope: Scope) -> list[tuple[str, str]]:
        """(ID, name) of the partner companies in the pilot that `scope` allows, by name."""
        statement = format_soql(
            f"SELECT Id, Name FROM Account WHERE Portal_Enabled__c = true AND {scope.where} "
            "ORDER BY Name LIMIT 500",
            *scope.values,
        )
        records = self._call(
            "list partners", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return [(record["Id"], record["Name"]) for record in records]

    def contact_on_account(self, email: str, account_id: str) -> Contact | None:
        statement = format_soql(
            f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Email = {{}} AND AccountId = {{}} LIMIT 1",
            email,
            account_id,
        )
        records = self._call(
            "find contact", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return Contact.from_record(records[0]) if records else None

    def invite_contact(self, contact_id: str | None, fields: dict) -> str:
        """Create the partner person, or update the existing one; their ID."""
        if contact_id:
            self._call(
                "invite contact",
                lambda sf: sf.Contact.update(contact_id, fields),
                idempotent=True,
            )
            return contact_id
        # A repeat would create a second person: nothing keys this create.
        answer = self._call(
            "invite contact", lambda sf: sf.Contact.create(fields), idempotent=False
        )
        return answer["id"]

    def set_sign_in_link(self, contact_id: str, token_hash: str, expires: datetime) -> None:
        fields = {
            "Portal_Login_Token_Hash__c": token_hash,
            "Portal_Login_Token_Expires__c": _datetime(expires),
        }
        self._call(
            "store sign-in link",
            lambda sf: sf.Contact.update(contact_id, fields),
            idempotent=True,
        )

    def contact_by_sign_in_link(self, token_hash: str) -> Contact | None:
        statement = format_soql(
            f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Portal_Login_Token_Hash__c = {{}}",
            token_hash,
        )
        records = self._call(
            "read sign-in link", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return Contact.from_record(records[0]) if len(records) == 1 else None

    def complete_sign_in(self, contact_id: str) -> None:
        """Use up the sign-in link and mark the person active."""
        fields = {
            **dict.fromkeys(("Portal_Login_Token_Hash__c", "Portal_Login_Token_Expires__c")),
            "Portal_Status__c": "Active",
        }
        self._call(
            "complete sign-in",
            lambda sf: sf.Contact.update(contact_id, fields),
            idempotent=True,
        )

    # -- passkeys ---------------------------------------------------------------

    def passkey_for_sign_in(self, credential_id: str) -> Passkey | None:
        """The passkey with this credential ID and the person it belongs to, in one query."""
        statement = format_soql(
            f"SELECT {PASSKEY_FIELDS}, Contact__r.Name, Contact__r.Email, Contact__r.AccountId, "
            "Contact__r.Account.Name, Contact__r.Account.Portal_Enabled__c, "
            "Contact__r.Portal_Role__c, Contact__r.Portal_Status__c "
            "FROM Portal_Passkey__c WHERE Credential_Id__c = {}",
            credential_id,
        )
        records = self._call(
            "find passkey", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        # The ID is case-sensitive; SOQL text comparison is not.
        matches = [r for r in records if r["Credential_Id__c"] == credential_id]
        return Passkey.from_record(matches[0]) if matches else None

    def passkeys_of(self, contact_id: str) -> list[Passkey]:
        statement = format_soql(
            f"SELECT {PASSKEY_FIELDS} FROM Portal_Passkey__c WHERE Contact__c = {{}} "
            "ORDER BY CreatedDate",
            contact_id,
        )
        records = self._call(
            "list passkeys", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return [Passkey.from_record(record) for record in records]

    def add_passkey(
        self,
        contact_id: str,
        credential_id: str,
        public_key: str,
        sign_count: int,
        transports: list[str],
        label: str,
    ) -> str:
        fields = {
            "Contact__c": contact_id,
            "Credential_Id__c": credential_id,
            "Public_Key__c": public_key,
            "Sign_Count__c": sign_count,
            "Transports__c": ",".join(transports)[:255] or None,
            "Label__c": label,
        }
        # A repeat after a lost answer is refused as a duplicate credential: not retried.
        answer = self._call(
            "add passkey", lambda sf: sf.Portal_Passkey__c.create(fields), idempotent=False
        )
        return answer["id"]

    def record_passkey_use(self, passkey_id: str, sign_count: int, used_at: datetime) -> None:
        fields = {"Sign_Count__c": sign_count, "Last_Used__c": _datetime(used_at)}
        self._call(
            "record passkey use",
            lambda sf: sf.Portal_Passkey__c.update(passkey_id, fields),
            idempotent=True,
        )

    def update_passkey(
        self, passkey_id: str, *, label: str | None = None, revoked: bool | None = None
    ) -> None:
        fields = {}
        if label is not None:
            fields["Label__c"] = label
        if revoked is not None:
            fields["Revoked__c"] = revoked
        self._call(
            "update passkey",
            lambda sf: sf.Portal_Passkey__c.update(passkey_id, fields),
            idempotent=True,
        )

    # -- notification choices -----------------------------------------------------

    def set_notification_choices(self, contact_id: str, email: bool, push: bool) -> None:
        fields = {"Portal_Email_Notifications__c": email, "Portal_Push_Notifications__c": push}
        self._call(
            "set notification choices",
            lambda sf: sf.Contact.update(contact_id, fields),
            idempotent=True,
        )

    def notification_choices(self, contact_id: str) -> tuple[bool, bool, int]:
        """(email on, push on, phones subscribed) for a partner person, in one query."""
        statement = format_soql(
            "SELECT Portal_Email_Notifications__c, Portal_Push_Notifications__c, "
            "(SELECT Id FROM Portal_Push_Subscriptions__r) FROM Contact WHERE Id = {}",
            contact_id,
        )
        records = self._call(
            "read notification choices", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        if not records:
            raise NotFound(contact_id)
        record = records[0]
        phones = (record.get("Portal_Push_Subscriptions__r") or {}).get("totalSize", 0)
        return (
            record.get("Portal_Email_Notifications__c") is not False,
            bool(record.get("Portal_Push_Notifications__c")),
            phones,
        )

    def save_push_subscription(
        self, contact_id: str, endpoint: str, public_key: str, auth_secret: str
    ) -> None:
        """Keep a phone's push subscription; the same phone again updates its record."""
        endpoint_hash = hashlib.sha256(endpoint.encode()).hexdigest()
        fields = {
            "Contact__c": contact_id,
            "Endpoint__c": endpoint,
            "Public_Key__c": public_key,
            "Auth_Secret__c": auth_secret,
        }
        self._call(
            "save push subscription",
            lambda sf: sf.Portal_Push_Subscription__c.upsert(
                f"Endpoint_Hash__c/{endpoint_hash}", fields
            ),
            idempotent=True,
        )

    def push_subscriptions(self, contact_id: str) -> list[dict]:
        """The push subscriptions of a person who wants push notifications."""
        statement = format_soql(
            "SELECT Id, Endpoint__c, Public_Key__c, Auth_Secret__c "
            "FROM Portal_Push_Subscription__c "
            "WHERE Contact__c = {} AND Contact__r.Portal_Push_Notifications__c = true",
            contact_id,
        )
        return self._call(
            "read push subscriptions", lambda sf: sf.query(statement)["records"], idempotent=True
        )

    def forget_push_subscription(self, subscription_id: str) -> None:
        """Remove a subscription the push service no longer knows; gone already is fine."""
        with contextlib.suppress(NotFound):
            self._call(
                "forget push subscription",
                lambda sf: sf.Portal_Push_Subscription__c.delete(subscription_id),
                idempotent=True,
            )

    # -- internal people -------------------------------------------------------

    def find_internal_user(self, email: str) -> InternalUser | None:
        """The active internal user with this email and a portal role, with their queues."""
        statement = format_soql(
            f"SELECT {USER_FIELDS} FROM User WHERE Email = {{}} AND IsActive = true "
            "AND Portal_Role__c != null LIMIT 2",
            email,
        )
        records = self._call(
            "find user", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        if len(records) != 1:
            return None
        return InternalUser.from_record(records[0], self._queues_of(records[0]["Id"]))

    def internal_user(self, user_id: str) -> InternalUser:
        statement = format_soql(f"SELECT {USER_FIELDS} FROM User WHERE Id = {{}}", user_id)
        records = self._call(
            "read user", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        if not records:
            raise NotFound("user")
        return InternalUser.from_record(records[0], self._queues_of(user_id))

    def people_to_notify(self, owner_id: str) -> list[tuple[str, str]]:
        """(user ID, email) of the owner, or of the owning queue's members, who want email."""
        if owner_id.startswith("00G"):
            condition = "Id IN (SELECT UserOrGroupId FROM GroupMember WHERE GroupId = {})"
        else:
            condition = "Id = {}"
        statement = format_soql(
            f"SELECT Id, Email FROM User WHERE {condition} AND IsActive = true "
            "AND Portal_Email_Notifications__c = true",
            owner_id,
        )
        records = self._call(
            "find recipients", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return [(record["Id"], record["Email"]) for record in records if record.get("Email")]

    def _queues_of(self, user_id: str) -> tuple[str, ...]:
        statement = format_soql(
            "SELECT GroupId FROM GroupMember WHERE UserOrGroupId = {} AND Group.Type = 'Queue'",
            user_id,
        )
        records = self._call(
            "read queues", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return tuple(record["GroupId"] for record in records)

    # -- registrations ---------------------------------------------------------

    def submit_registration(
        self, submission_key: str, fields: dict, stage: dict, submitted_by: str
    ) -> Submission:
        """Create the registration and its first stage record in one atomic request.

        The request first reads the submitter and refers to them by that answer, so a
        person whose portal access was switched off cannot write, at no extra call.
        The submission key is unique in the org, so a repeated submission cannot make a
        second record: it finds the first one and changes nothing.
        """
        submitter = format_soql(
            "SELECT Id FROM Contact WHERE Id = {} AND Portal_Status__c = 'Active' "
            "AND Account.Portal_Enabled__c = true",
            submitted_by,
        )
        body = {
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": _path("query?" + urlencode({"q": submitter})),
                    "referenceId": "submitter",
                },
                {
                    "method": "POST",
                    "url": _path("sobjects/Deal_Registration__c"),
                    "referenceId": "registration",
                    "body": {
                        **fields,
                        "Submitted_By__c": "@{submitter.records[0].Id}",
                        "Submission_Key__c": submission_key,
                    },
                },
                {
                    "method": "POST",
                    "url": _path("sobjects/Deal_Registration_Stage__c"),
                    "referenceId": "stage",
                    "body": {
                        **stage,
                        "Registration__c": "@{registration.id}",
                        "Stage_Key__c": "@{registration.id}:1",
                        "Action_Key__c": submission_key,
                    },
                },
            ],
        }
        conflicts = self._conflict_query(
            fields["Partner_Account__c"],
            fields.get("Customer_Domain_Key__c"),
            fields.get("Customer_Name_Key__c"),
            "Id",
            1,
        )
        if conflicts:
            body["compositeRequest"].append(
                {
                    "method": "GET",
                    "url": _path("query?" + urlencode({"q": conflicts})),
                    "referenceId": "conflicts",
                }
            )
        # Sending it again is safe: the key is unique, so a repeat that reaches the org
        # after the first one committed is refused with DUPLICATE_VALUE and finds it.
        answer = self._call(
            "submit registration",
            lambda sf: _composite(sf, body),
            idempotent=True,
        )
        created = answer["compositeResponse"][1]
        if created["httpStatusCode"] == 201:
            found = answer["compositeResponse"][3:]
            conflict = bool(found and found[0]["body"]["totalSize"])
            return Submission(created["body"]["id"], created=True, conflict=conflict)
        errors = _composite_errors(answer)
        if any("No value for submitter." in error.get("message", "") for error in errors):
            # The submitter query found nobody: the person may no longer use the portal.
            raise AccessRevoked(submitted_by)
        if any(error.get("errorCode") == "DUPLICATE_VALUE" for error in errors):
            existing = self._call(
                "find submitted registration",
                lambda sf: sf.Deal_Registration__c.get_by_custom_id(
                    "Submission_Key__c", submission_key
                ),
                idempotent=True,
            )
            return Submission(existing["Id"], created=False)
        raise _rejection(errors)

    def change_registration(
        self,
        registration_id: str,
        scope: Scope,
        from_status: str,
        sequence: int,
        action_key: str,
        fields: dict,
        stage: dict,
    ) -> Registration | None:
        """Change a registration and record the stage, in one atomic request.

        The request first reads the registration through `scope` and in `from_status`,
        and writes only by referring to that answer: a person who may not see it, or a
        registration that moved on since they looked, changes nothing. `sequence` numbers
        the new stage; its key is unique, so two changes from the same state cannot both
        land. A repeat of the same action (same key) changes nothing and returns None;
        otherwise the registration as it was before the change is returned.
        """
        check = format_soql(
            f"SELECT {REGISTRATION_FIELDS} FROM Deal_Registration__c "
            f"WHERE Id = {{}} AND Status__c = {{}} AND {scope.where}",
            registration_id,
            from_status,
            *scope.values,
        )
        body = {
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": _path("query?" + urlencode({"q": check})),
                    "referenceId": "current",
                },
                {
                    "method": "PATCH",
                    "url": _path("sobjects/Deal_Registration__c/@{current.records[0].Id}"),
                    "referenceId": "registration",
                    "body": fields,
                },
                {
                    "method": "POST",
                    "url": _path("sobjects/Deal_Registration_Stage__c"),
                    "referenceId": "stage",
                    "body": {
                        **stage,
                        "Registration__c": "@{current.records[0].Id}",
                        "Stage_Key__c": f"{registration_id}:{sequence}",
                        "Action_Key__c": action_key,
                    },
                },
            ],
        }
        # Keyed by the action and the stage number: a repeat changes nothing and is found.
        answer = self._call("change registration", lambda sf: _composite(sf, body), idempotent=True)
        current, changed, recorded = answer["compositeResponse"]
        if recorded["httpStatusCode"] == 201:
            return Registration.from_record(current["body"]["records"][0])
        errors = [*_errors(changed["body"]), *_errors(recorded["body"])]
        if self._action_recorded(action_key):
            return None
        if any("No value for current." in error.get("message", "") for error in errors):
            # Not visible to this person, or no longer in the state they saw.
            try:
                self.registration(registration_id, scope)
            except NotFound:
                raise NotFound(registration_id) from None
            raise Conflict(registration_id)
        if any(error.get("errorCode") == "DUPLICATE_VALUE" for error in errors):
            raise Conflict(registration_id)
        raise _rejection([e for e in errors if e.get("errorCode") != "PROCESSING_HALTED"] or errors)

    def record_stage(
        self, registration_id: str, sequence: int, action_key: str, stage: dict
    ) -> bool:
        """Record a stage that already happened; False if another process recorded it first."""
        body = {
            **stage,
            "Registration__c": registration_id,
            "Stage_Key__c": f"{registration_id}:{sequence}",
            "Action_Key__c": action_key,
        }
        try:
            # Not repeated: a repeat after a lost answer would read as "recorded by another".
            self._call(
                "record stage",
                lambda sf: sf.Deal_Registration_Stage__c.create(body),
                idempotent=False,
            )
        except Rejected as rejection:
            if "DUPLICATE_VALUE" in rejection.message:
                return False
            raise
        return True

    def _action_recorded(self, action_key: str) -> bool:
        statement = format_soql(
            "SELECT COUNT() FROM Deal_Registration_Stage__c WHERE Action_Key__c = {}", action_key
        )
        return (
            self._call("find action", lambda sf: sf.query(statement)["totalSize"], idempotent=True)
            > 0
        )

    def attach_file(
        self, registration_id: str, upload_key: str, filename: str, content: bytes
    ) -> str | None:
        """Upload a file linked to the registration; a repeated upload key uploads nothing."""
        entity = {
            "Title": (filename.rsplit(".", 1)[0] or filename)[:MAX_TITLE_LENGTH],
            "PathOnClient": filename[:MAX_PATH_ON_CLIENT_LENGTH],
            "FirstPublishLocationId": registration_id,
            "Portal_Upload_Key__c": upload_key,
        }
        if self._network_id:
            entity["NetworkId"] = self._network_id
        files = {
            "entity_content": (None, json.dumps(entity), "application/json"),
            "VersionData": (filename, content, "application/octet-stream"),
        }
        try:
            # Keyed by the unique upload key: a repeat after a lost answer is a duplicate.
            answer = self._call(
                "upload file",
                lambda sf: sf.restful(
                    "sobjects/ContentVersion",
                    method="POST",
                    files=files,
                    headers={"Content-Type": None},
                ),
                idempotent=True,
            )
        except Rejected as rejection:
            if "DUPLICATE_VALUE" in rejection.codes:
                return None
            raise
        return answer["id"]

    def registrations(self, scope: Scope) -> list[Registration]:
        """Registrations in `scope`, most recently changed first."""
        statement = format_soql(
            f"SELECT {REGISTRATION_FIELDS} FROM Deal_Registration__c "
            f"WHERE {scope.where} ORDER BY LastModifiedDate DESC LIMIT {{}}",
            *scope.values,
            MAX_LIST_ROWS,
        )
        records = self._call(
            "list registrations", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return [Registration.from_record(record) for record in records]

    def review_queue(self, scope: Scope, open_statuses: tuple[str, ...]) -> list[Registration]:
        """Open registrations in `scope`, longest waiting first."""
        statement = format_soql(
            f"SELECT {REGISTRATION_FIELDS} FROM Deal_Registration__c "
            f"WHERE Status__c IN {{}} AND {scope.where} ORDER BY Submitted_At__c ASC LIMIT {{}}",
            list(open_statuses),
            *scope.values,
            MAX_LIST_ROWS,
        )
        records = self._call(
            "review queue", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return [Registration.from_record(record) for record in records]

    def conflicts_for(self, registration: Registration) -> list[Registration]:
        """Other partners' open or approved registrations of the same end customer."""
        statement = self._conflict_query(
            registration.partner_account_id,
            registration.customer_domain_key,
            registration.customer_name_key,
            REGISTRATION_FIELDS,
            50,
        )
        if not statement:
            return []
        records = self._call(
            "find conflicts", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        return [Registration.from_record(record) for record in records]

    @staticmethod
    def _conflict_query(partner_id, domain_key, name_key, fields: str, limit: int) -> str:
        keys = [("Customer_Domain_Key__c", domain_key), ("Customer_Name_Key__c", name_key)]
        keys = [(field, value) for field, value in keys if value]
        if not keys:
            return ""
        matches = " OR ".join(f"{field} = {{}}" for field, _ in keys)
        return format_soql(
            f"SELECT {fields} FROM Deal_Registration__c WHERE Partner_Account__c != {{}} "
            f"AND Status__c IN {{}} AND ({matches}) ORDER BY Submitted_At__c ASC LIMIT {{}}",
            partner_id,
            ["Submitted", "In Review", "Needs Info", "Approved"],
            *[value for _, value in keys],
            limit,
        )

    def expired_registrations(self) -> list[Registration]:
        """Approved registrations whose protection period has ended."""
        statement = (
            f"SELECT {REGISTRATION_FIELDS}, {STAGE_SUBQUERY} FROM Deal_Registration__c "
            "WHERE Status__c = 'Approved' AND Expires_On__c < TODAY LIMIT 200"
        )
        records = self._call(
            "find expired", lambda sf: sf.query_all(statement)["records"], idempotent=True
        )
        return [Registration.from_record(record) for record in records]

    def registrations_changed_since(self, since: datetime) -> list[tuple[Registration, str]]:
        """Registrations changed since `since`, with who changed them last."""
        statement = format_soql(
            f"SELECT {REGISTRATION_FIELDS}, LastModifiedBy.Name, {STAGE_SUBQUERY} "
            "FROM Deal_Registration__c WHERE LastModifiedDate >= {} ORDER BY LastModifiedDate",
            since,
        )
        records = self._call(
            "find changes", lambda sf: sf.query_all(statement)["records"], idempotent=True
        )
        return [
            (Registration.from_record(record), (record.get("LastModifiedBy") or {}).get("Name", ""))
            for record in records
        ]

    def flag_conflict(self, registration_id: str) -> None:
        fields = {"Possible_Conflict__c": True}
        self._call(
            "flag conflict",
            lambda sf: sf.Deal_Registration__c.update(registration_id, fields),
            idempotent=True,
        )

    def assignable_owners(self) -> list[tuple[str, str]]:
        """(ID, name) of every queue and every internal user, queues first; cached."""
        cached = self._owners
        if cached and time.monotonic() - cached[0] < OWNERS_CACHE_SECONDS:
            return cached[1]
        queues = self._call(
            "list queues",
            lambda sf: sf.query("SELECT Id, Name FROM Group WHERE Type = 'Queue' ORDER BY Name")[
                "records"
            ],
            idempotent=True,
        )
        users = self._call(
            "list users",
            lambda sf: sf.query(
                "SELECT Id, Name FROM User WHERE IsActive = true AND Portal_Role__c != null "
                "ORDER BY Name"
            )["records"],
            idempotent=True,
        )
        owners = [(q["Id"], f"Queue: {q['Name']}") for q in queues]
        owners += [(u["Id"], u["Name"]) for u in users]
        self._owners = (time.monotonic(), owners)
        return owners

    def owner_ids(self, queues: set[str], usernames: set[str]) -> dict[tuple[str, str], str]:
        """IDs of queues (by DeveloperName) and users (by Username), read once per process."""
        wanted = {("queue", name) for name in queues} | {("user", name) for name in usernames}
        missing = wanted - set(self._owner_ids)
        if missing:
            names = [name for kind, name in missing if kind == "queue"]
            if names:
                statement = format_soql(
                    "SELECT Id, DeveloperName FROM Group WHERE Type = 'Queue' "
                    "AND DeveloperName IN {}",
                    names,
                )
                for record in self._call(
                    "find queues", lambda sf: sf.query(statement)["records"], idempotent=True
                ):
                    self._owner_ids[("queue", record["DeveloperName"])] = record["Id"]
            names = [name for kind, name in missing if kind == "user"]
            if names:
                statement = format_soql(
                    "SELECT Id, Username FROM User WHERE IsActive = true AND Username IN {}",
                    names,
                )
                for record in self._call(
                    "find users", lambda sf: sf.query(statement)["records"], idempotent=True
                ):
                    self._owner_ids[("user", record["Username"])] = record["Id"]
        return {key: self._owner_ids[key] for key in wanted if key in self._owner_ids}

    def registration(self, registration_id: str, scope: Scope) -> Registration:
        """One registration with its files, if `scope` lets the person see it."""
        statement = format_soql(
            f"SELECT {REGISTRATION_FIELDS}, Notes__c, {STAGE_SUBQUERY}, "
            "(SELECT ContentDocument.LatestPublishedVersionId, ContentDocument.Title, "
            "ContentDocument.FileExtension, ContentDocument.ContentSize "
            "FROM ContentDocumentLinks) "
            f"FROM Deal_Registration__c WHERE Id = {{}} AND {scope.where}",
            registration_id,
            *scope.values,
        )
        records = self._call(
            "read registration", lambda sf: sf.query(statement)["records"], idempotent=True
        )
        if not records:
            raise NotFound(registration_id)
        return Registration.from_record(records[0])

    def file_content(self, version_id: str) -> bytes:
        def download(sf):
            response = sf.session.get(
                f"{sf.base_url}sobjects/ContentVersion/{version_id}/VersionData",
                headers=sf.headers,
            )
            if response.status_code >= 300:
                exception_handler(response, "ContentVersion")
            return response.content

        return self._call("download file", download, idempotent=True)

    def file_of(self, registration: Registration, version_id: str) -> RegistrationFile:
        for item in registration.files:
            if item.version_id == version_id:
                return item
        raise NotFound(version_id)


def _path(rest: str) -> str:
    return f"/services/data/v{API_VERSION}/{rest}"


def _datetime(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _errors(body) -> list[dict]:
    return [error for error in body if isinstance(error, dict)] if isinstance(body, list) else []


def _composite(sf: Salesforce, body: dict) -> dict:
    """Send a Composite request; a locked row inside it is a fault worth retrying."""
    answer = sf.restful("composite", method="POST", json=body)
    if any(error.get("errorCode") == "UNABLE_TO_LOCK_ROW" for error in _composite_errors(answer)):
        raise Transient("locked row")
    return answer


def _composite_errors(answer: dict) -> list[dict]:
    """The errors of a Composite answer that say what went wrong.

    With `allOrNone`, every subrequest after a failure answers PROCESSING_HALTED "the
    transaction was rolled back"; those say nothing. A failed reference to an earlier
    answer is also PROCESSING_HALTED, and that one does say something.
    """
    errors = []
    for subresponse in answer.get("compositeResponse", []):
        if subresponse.get("httpStatusCode", 200) < 300:
            continue
        body = subresponse.get("body")
        for error in body if isinstance(body, list) else [body]:
            if not isinstance(error, dict):
                continue
            halted = error.get("errorCode") == "PROCESSING_HALTED"
            if halted and "rolled back" in error.get("message", ""):
                continue
            errors.append(error)
    return errors


def _rejection(errors) -> Rejected:
    """A `Rejected` carrying Salesforce's messages, keyed by the fields they name."""
    if not isinstance(errors, list):
        errors = [errors] if isinstance(errors, dict) else []
    field_errors = {}
    messages = []
    kept = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        message = error.get("message", "")
        code = error.get("errorCode", "")
        messages.append(f"{code}: {message}")
        fields = tuple(error.get("fields") or ())
        kept.append(OrgError(code, message, fields))
        for field_name in fields:
            field_errors[field_name] = message
    return Rejected("; ".join(messages) or "rejected", field_errors, tuple(kept))
