"""The only code that talks to Salesforce: domain calls in, domain objects and errors out.

Built on simple-salesforce. Every statement is built with `format_soql`; every
request has a timeout; Salesforce errors become the few exceptions the views
can explain to a person.
"""

from __future__ import annotations

import json
import logging
import threading
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
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql

from salesforce.connection import ConnectionFailed, Connector
from salesforce.records import (
    Contact,
    InternalUser,
    Passkey,
    Registration,
    RegistrationFile,
    Scope,
)

log = logging.getLogger(__name__)

API_VERSION = "62.0"
REQUEST_TIMEOUT_SECONDS = (5, 30)  # connect, read
MAX_LIST_ROWS = 200

REGISTRATION_FIELDS = (
    "Id, Name, End_Customer_Name__c, End_Customer_Domain__c, Country__c, Region__c, "
    "Deal_Value__c, Size_Band__c, Product_Line__c, Expected_Close_Date__c, Status__c, "
    "Next_Step__c, Open_Question__c, Reason_Code__c, Expires_On__c, Submission_Key__c, "
    "Owner.Name, Submitted_By__c, Submitted_By__r.Name, Partner_Account__c, "
    "Partner_Account__r.Name, CreatedDate, LastModifiedDate"
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


class NotFound(GatewayError):
    """The record does not exist, or the person may not see it."""


class AccessRevoked(GatewayError):
    """The person's portal access was switched off in Salesforce."""


class Rejected(GatewayError):
    """Salesforce refused the values; `field_errors` maps our field names to its messages."""

    def __init__(self, message: str, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


@dataclass(frozen=True)
class Submission:
    registration_id: str
    created: bool


class Gateway:
    """Reads and writes the portal's records in one org."""

    def __init__(self, connector: Connector):
        self._connector = connector
        self._client: Salesforce | None = None
        self._lock = threading.Lock()
        self._queues: dict[str, str] = {}

    # -- connection -----------------------------------------------------------

    def _sf(self) -> Salesforce:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._connector.connect()
                except (
                    ConnectionFailed,
                    SalesforceAuthenticationFailed,
                    requests.RequestException,
                ):
                    log.error("cannot open a salesforce session (%s mode)", self._connector.mode)
                    raise Unavailable("connect") from None
            return self._client

    def _call(self, action: str, operation):
        """Run `operation(sf)`; sign in again once if the session expired."""
        for attempt in (1, 2):
            sf = self._sf()
            try:
                return operation(sf)
            except SalesforceExpiredSession:
                with self._lock:
                    if self._client is sf:
                        self._client = None
                if attempt == 2:
                    log.error("salesforce session rejected twice during %s", action)
                    raise Unavailable(action) from None
                log.warning("salesforce session expired during %s; signing in again", action)
            except (requests.ConnectionError, requests.Timeout) as error:
                log.error("salesforce unreachable during %s: %s", action, type(error).__name__)
                raise Unavailable(action) from error
            except SalesforceResourceNotFound:
                raise NotFound(action) from None
            except SalesforceMalformedRequest as error:
                raise _rejection(error.content) from None
            except SalesforceError as error:
                log.error("salesforce failed during %s: status %s", action, error.status)
                raise Unavailable(action) from error
        raise AssertionError("unreachable")

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, allowance) from the last answer's `Sforce-Limit-Info`, if any."""
        usage = self._client.api_usage.get("api-usage") if self._client else None
        return (usage.used, usage.total) if usage else None

    def queue_id(self, developer_name: str) -> str:
        """The ID of a queue, read once per process: queues are set up, not changed, daily."""
        if developer_name not in self._queues:
            statement = format_soql(
                "SELECT Id FROM Group WHERE Type = 'Queue' AND DeveloperName = {}", developer_name
            )
            records = self._call("find queue", lambda sf: sf.query(statement)["records"])
            if not records:
                log.error("queue %s does not exist in the org", developer_name)
                raise NotFound(developer_name)
            self._queues[developer_name] = records[0]["Id"]
        return self._queues[developer_name]

    # -- partner people ------------------------------------------------------

    def find_partner_contact(self, email: str) -> Contact | None:
        """The portal-enabled partner contact with this email, if exactly one exists."""
        statement = format_soql(
            f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Email = {{}} "
            "AND Portal_Status__c IN ('Invited', 'Active') "
            "AND Account.Portal_Enabled__c = true LIMIT 2",
            email,
        )
        records = self._call("find contact", lambda sf: sf.query(statement)["records"])
        if len(records) != 1:
            return None
        return Contact.from_record(records[0])

    def contact(self, contact_id: str) -> Contact:
        statement = format_soql(f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Id = {{}}", contact_id)
        records = self._call("read contact", lambda sf: sf.query(statement)["records"])
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
        records = self._call("list partners", lambda sf: sf.query(statement)["records"])
        return [(record["Id"], record["Name"]) for record in records]

    def contact_on_account(self, email: str, account_id: str) -> Contact | None:
        statement = format_soql(
            f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Email = {{}} AND AccountId = {{}} LIMIT 1",
            email,
            account_id,
        )
        records = self._call("find contact", lambda sf: sf.query(statement)["records"])
        return Contact.from_record(records[0]) if records else None

    def invite_contact(self, contact_id: str | None, fields: dict) -> str:
        """Create the partner person, or update the existing one; their ID."""
        if contact_id:
            self._call("invite contact", lambda sf: sf.Contact.update(contact_id, fields))
            return contact_id
        answer = self._call("invite contact", lambda sf: sf.Contact.create(fields))
        return answer["id"]

    def set_sign_in_link(self, contact_id: str, token_hash: str, expires: datetime) -> None:
        fields = {
            "Portal_Login_Token_Hash__c": token_hash,
            "Portal_Login_Token_Expires__c": _datetime(expires),
        }
        self._call("store sign-in link", lambda sf: sf.Contact.update(contact_id, fields))

    def contact_by_sign_in_link(self, token_hash: str) -> Contact | None:
        statement = format_soql(
            f"SELECT {CONTACT_FIELDS} FROM Contact WHERE Portal_Login_Token_Hash__c = {{}}",
            token_hash,
        )
        records = self._call("read sign-in link", lambda sf: sf.query(statement)["records"])
        return Contact.from_record(records[0]) if len(records) == 1 else None

    def complete_sign_in(self, contact_id: str) -> None:
        """Use up the sign-in link and mark the person active."""
        fields = {
            "Portal_Login_Token_Hash__c": None,
            "Portal_Login_Token_Expires__c": None,
            "Portal_Status__c": "Active",
        }
        self._call("complete sign-in", lambda sf: sf.Contact.update(contact_id, fields))

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
        records = self._call("find passkey", lambda sf: sf.query(statement)["records"])
        # The ID is case-sensitive; SOQL text comparison is not.
        matches = [r for r in records if r["Credential_Id__c"] == credential_id]
        return Passkey.from_record(matches[0]) if matches else None

    def passkeys_of(self, contact_id: str) -> list[Passkey]:
        statement = format_soql(
            f"SELECT {PASSKEY_FIELDS} FROM Portal_Passkey__c WHERE Contact__c = {{}} "
            "ORDER BY CreatedDate",
            contact_id,
        )
        records = self._call("list passkeys", lambda sf: sf.query(statement)["records"])
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
        answer = self._call("add passkey", lambda sf: sf.Portal_Passkey__c.create(fields))
        return answer["id"]

    def record_passkey_use(self, passkey_id: str, sign_count: int, used_at: datetime) -> None:
        fields = {"Sign_Count__c": sign_count, "Last_Used__c": _datetime(used_at)}
        self._call("record passkey use", lambda sf: sf.Portal_Passkey__c.update(passkey_id, fields))

    def update_passkey(
        self, passkey_id: str, *, label: str | None = None, revoked: bool | None = None
    ) -> None:
        fields = {}
        if label is not None:
            fields["Label__c"] = label
        if revoked is not None:
            fields["Revoked__c"] = revoked
        self._call("update passkey", lambda sf: sf.Portal_Passkey__c.update(passkey_id, fields))

    # -- internal people -------------------------------------------------------

    def find_internal_user(self, email: str) -> InternalUser | None:
        """The active internal user with this email and a portal role, with their queues."""
        statement = format_soql(
            f"SELECT {USER_FIELDS} FROM User WHERE Email = {{}} AND IsActive = true "
            "AND Portal_Role__c != null LIMIT 2",
            email,
        )
        records = self._call("find user", lambda sf: sf.query(statement)["records"])
        if len(records) != 1:
            return None
        return InternalUser.from_record(records[0], self._queues_of(records[0]["Id"]))

    def internal_user(self, user_id: str) -> InternalUser:
        statement = format_soql(f"SELECT {USER_FIELDS} FROM User WHERE Id = {{}}", user_id)
        records = self._call("read user", lambda sf: sf.query(statement)["records"])
        if not records:
            raise NotFound("user")
        return InternalUser.from_record(records[0], self._queues_of(user_id))

    def _queues_of(self, user_id: str) -> tuple[str, ...]:
        statement = format_soql(
            "SELECT GroupId FROM GroupMember WHERE UserOrGroupId = {} AND Group.Type = 'Queue'",
            user_id,
        )
        records = self._call("read queues", lambda sf: sf.query(statement)["records"])
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
                        "Stage_Key__c": f"{submission_key}:{stage['To_Status__c']}",
                    },
                },
            ],
        }
        answer = self._call(
            "submit registration",
            lambda sf: sf.restful("composite", method="POST", json=body),
        )
        created = answer["compositeResponse"][1]
        if created["httpStatusCode"] == 201:
            return Submission(created["body"]["id"], created=True)
        errors = created["body"]
        if any("No value for submitter." in error.get("message", "") for error in errors):
            # The submitter query found nobody: the person may no longer use the portal.
            raise AccessRevoked(submitted_by)
        if any(error.get("errorCode") == "DUPLICATE_VALUE" for error in errors):
            existing = self._call(
                "find submitted registration",
                lambda sf: sf.Deal_Registration__c.get_by_custom_id(
                    "Submission_Key__c", submission_key
                ),
            )
            return Submission(existing["Id"], created=False)
        raise _rejection(errors)

    def attach_file(
        self, registration_id: str, upload_key: str, filename: str, content: bytes
    ) -> str | None:
        """Upload a file linked to the registration; a repeated upload key uploads nothing."""
        entity = {
            "Title": filename.rsplit(".", 1)[0] or filename,
            "PathOnClient": filename,
            "FirstPublishLocationId": registration_id,
            "Portal_Upload_Key__c": upload_key,
        }
        files = {
            "entity_content": (None, json.dumps(entity), "application/json"),
            "VersionData": (filename, content, "application/octet-stream"),
        }
        try:
            answer = self._call(
                "upload file",
                lambda sf: sf.restful(
                    "sobjects/ContentVersion",
                    method="POST",
                    files=files,
                    headers={"Content-Type": None},
                ),
            )
        except Rejected as rejection:
            if "DUPLICATE_VALUE" in rejection.message:
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
        records = self._call("list registrations", lambda sf: sf.query(statement)["records"])
        return [Registration.from_record(record) for record in records]

    def registration(self, registration_id: str, scope: Scope) -> Registration:
        """One registration with its files, if `scope` lets the person see it."""
        statement = format_soql(
            f"SELECT {REGISTRATION_FIELDS}, Notes__c, "
            "(SELECT ContentDocument.LatestPublishedVersionId, ContentDocument.Title, "
            "ContentDocument.FileExtension, ContentDocument.ContentSize "
            "FROM ContentDocumentLinks) "
            f"FROM Deal_Registration__c WHERE Id = {{}} AND {scope.where}",
            registration_id,
            *scope.values,
        )
        records = self._call("read registration", lambda sf: sf.query(statement)["records"])
        if not records:
            raise NotFound(registration_id)
        return Registration.from_record(records[0])

    def file_content(self, version_id: str) -> bytes:
        def download(sf):
            response = sf.session.get(
                f"{sf.base_url}sobjects/ContentVersion/{version_id}/VersionData",
                headers=sf.headers,
                timeout=REQUEST_TIMEOUT_SECONDS,
            )
            if response.status_code == 401:
                raise SalesforceExpiredSession(response.url, 401, "ContentVersion", b"")
            if response.status_code == 404:
                raise NotFound(version_id)
            response.raise_for_status()
            return response.content

        return self._call("download file", download)

    def file_of(self, registration: Registration, version_id: str) -> RegistrationFile:
        for item in registration.files:
            if item.version_id == version_id:
                return item
        raise NotFound(version_id)


def _path(rest: str) -> str:
    return f"/services/data/v{API_VERSION}/{rest}"


def _datetime(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _rejection(errors) -> Rejected:
    """A `Rejected` carrying Salesforce's messages, keyed by the fields they name."""
    if not isinstance(errors, list):
        errors = [errors] if isinstance(errors, dict) else []
    field_errors = {}
    messages = []
    for error in errors:
        message = error.get("message", "")
        code = error.get("errorCode", "")
        messages.append(f"{code}: {message}")
        for field_name in error.get("fields") or []:
            field_errors[field_name] = message
    return Rejected("; ".join(messages) or "rejected", field_errors)
