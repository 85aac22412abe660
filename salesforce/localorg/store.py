"""The local org's records: validation and persistence with Salesforce's rules and errors."""

from __future__ import annotations

import base64
import re
import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from salesforce import ids
from salesforce.localorg import tables
from salesforce.localorg.tables import quote
from salesforce.schema import Field, Schema, SObject

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DATETIME_PATTERN = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:?\d{2})?$"
)
NUMERIC_TYPES = ("currency", "double", "percent", "int")


class ApiError(Exception):
    """An error answer: HTTP status and the body Salesforce would send."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or []

    def body(self) -> list[dict]:
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def timestamp(moment: datetime | None = None) -> str:
    """A datetime as Salesforce writes it: UTC with milliseconds and `+0000`."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime | None:
    match = DATETIME_PATTERN.match(text)
    if not match:
        return None
    day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{hour}:{minute}:{second}")
    except ValueError:
        return None
    if fraction:
        moment = moment.replace(microsecond=int(fraction.ljust(6, "0")))
    offset = "+00:00" if zone in (None, "Z") else zone[:3] + ":" + zone[-2:]
    return datetime.fromisoformat(moment.isoformat() + offset).astimezone(UTC)


class Store:
    """Records of every object in one SQLite database, safe to share between threads."""

    def __init__(self, schema: Schema, path: str | Path = ":memory:"):
        self.schema = schema
        self.conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.lock = threading.RLock()
        with self.lock:
            tables.create_tables(self.conn, schema)
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS _sequence (prefix TEXT PRIMARY KEY, last INTEGER)"
            )

    # -- transactions -------------------------------------------------------

    @contextmanager
    def transaction(self):
        """All writes inside happen together or not at all; nests with savepoints."""
        with self.lock:
            depth = getattr(self, "_depth", 0)
            name = f"sp{depth}"
            self.conn.execute(f"SAVEPOINT {name}")
            self._depth = depth + 1
            try:
                yield
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            finally:
                self._depth = depth

    # -- lookups ------------------------------------------------------------

    def sobject(self, name: str) -> SObject:
        sobject = self.schema.get(name)
        if sobject is None:
            raise not_found()
        return sobject

    def row(self, sobject: SObject, record_id: str) -> dict | None:
        if not ids.is_valid(record_id) or record_id[:3] != sobject.key_prefix:
            return None
        cursor = self.conn.execute(
            f"SELECT * FROM {quote(sobject.name)} WHERE substr(Id, 1, 15) = ? AND IsDeleted = 0",
            (record_id[:15],),
        )
        found = cursor.fetchone()
        if found is None:
            return None
        return dict(zip([column[0] for column in cursor.description], found, strict=True))

    def rows_by(self, sobject: SObject, field: Field, value) -> list[dict]:
        cursor = self.conn.execute(
            f"SELECT * FROM {quote(sobject.name)} WHERE {quote(field.name)} = ? AND IsDeleted = 0",
            (value,),
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, found, strict=True)) for found in cursor.fetchall()]

    def owner_of(self, record_id: str) -> SObject | None:
        return self.schema.by_prefix(record_id[:3]) if ids.is_valid(record_id) else None

    # -- writes -------------------------------------------------------------

    def create(self, name: str, body: dict, user_id: str) -> str:
        sobject = self.sobject(name)
        values = self._clean(sobject, body, creating=True)
        with self.transaction():
            record_id = self._next_id(sobject)
            now = timestamp()
            values.update(
                Id=record_id,
                IsDeleted=0,
                CreatedDate=now,
                LastModifiedDate=now,
                SystemModstamp=now,
                CreatedById=user_id,
                LastModifiedById=user_id,
            )
            if "OwnerId" in sobject.fields and not values.get("OwnerId"):
                values["OwnerId"] = user_id
            if sobject.auto_number:
                values["Name"] = self._auto_number(sobject)
            self._derive(sobject, values)
            self._check_unique(sobject, values, record_id)
            self._insert(sobject, values)
            if sobject.name == "ContentVersion":
                self._publish(values, user_id)
        return record_id

    def update(self, name: str, record_id: str, body: dict, user_id: str) -> None:
        sobject = self.sobject(name)
        with self.transaction():
            existing = self.row(sobject, record_id)
            if existing is None:
                raise not_found()
            values = self._clean(sobject, body, creating=False)
            merged = {**existing, **values}
            self._check_required(sobject, merged)
            self._derive(sobject, merged)
            self._check_unique(sobject, merged, existing["Id"])
            now = timestamp()
            changes = {key: merged[key] for key in values} | {
                key: merged[key] for key in ("Name",) if key in sobject.fields
            }
            changes.update(LastModifiedDate=now, SystemModstamp=now, LastModifiedById=user_id)
            assignments = ", ".join(f"{quote(key)} = ?" for key in changes)
            self.conn.execute(
                f"UPDATE {quote(sobject.name)} SET {assignments} WHERE Id = ?",
                (*changes.values(), existing["Id"]),
            )

    def delete(self, name: str, record_id: str) -> None:
        sobject = self.sobject(name)
        with self.transaction():
            existing = self.row(sobject, record_id)
            if existing is None:
                raise not_found()
            self._delete_tree(sobject, existing["Id"])

    def upsert(self, name: str, field_name: str, value: str, body: dict, user_id: str):
        """Create or update by external ID: (record ID, created?)."""
        sobject = self.sobject(name)
        field = sobject.field(field_name)
        if field is None or not (field.external_id or field.name == "Id"):
            raise ApiError(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {field_name}",
            )
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        for key in body:
            if key.lower() in ("id", field.name.lower()):
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"The field {key} must not be set in the body of an upsert by {field.name}",
                    [key],
                )
        with self.transaction():
            matches = self.rows_by(sobject, field, value)
            if len(matches) > 1:
                raise MultipleMatches([match["Id"] for match in matches])
            if matches:
                self.update(name, matches[0]["Id"], body, user_id)
                return matches[0]["Id"], False
            return self.create(name, {**body, field.name: value}, user_id), True

    # -- validation ---------------------------------------------------------

    def _clean(self, sobject: SObject, body: dict, creating: bool) -> dict:
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object")
        values = {}
        for key, raw in body.items():
            if key == "attributes":
                continue
            field = sobject.field(key)
            if field is None:
                raise ApiError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{key}' on sobject of type {sobject.name}",
                    [key],
                )
            if field.system:
                raise ApiError(
                    400,
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {field.name}. Please check the security "
                    "settings of this field and verify that it is read/write for your profile "
                    "or permission set.",
                    [field.name],
                )
            values[field.name] = self._convert(sobject, field, raw)
        if creating:
            for field in sobject.fields.values():
                if field.name not in values and field.default is not None and not field.system:
                    values[field.name] = (
                        int(field.default) if field.type == "boolean" else field.default
                    )
            self._check_required(sobject, values)
        return values

    def _check_required(self, sobject: SObject, values: dict) -> None:
        missing = [
            field.name
            for field in sobject.fields.values()
            if field.required and not field.system and values.get(field.name) in (None, "")
        ]
        if missing:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )

    def _convert(self, sobject: SObject, field: Field, raw):
        if raw is None or (raw == "" and field.type not in ("string", "textarea")):
            return None
        label = field.label or field.name
        kind = field.type
        if kind == "boolean":
            if isinstance(raw, bool):
                return int(raw)
            raise _parser_error(raw, "boolean", field)
        if kind in NUMERIC_TYPES:
            return self._number(raw, field)
        if kind == "base64":
            return self._base64(raw, field)
        if not isinstance(raw, str):
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                raw = str(raw)
            else:
                raise _parser_error(raw, "String", field)
        if kind == "date":
            try:
                return date.fromisoformat(raw).isoformat()
            except ValueError:
                raise _parser_error(raw, "Date", field) from None
        if kind == "datetime":
            moment = parse_datetime(raw)
            if moment is None:
                raise _parser_error(raw, "Datetime", field)
            return timestamp(moment)
        if kind in ("reference", "id"):
            return self._reference(field, raw)
        if field.length is not None and len(raw) > field.length:
            raise ApiError(
                400,
                "STRING_TOO_LONG",
                f"{label}: data value too large: {raw[:60]} (max length={field.length})",
                [field.name],
            )
        if kind == "email" and raw and not EMAIL_PATTERN.match(raw):
            raise ApiError(
                400, "INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {raw}", [field.name]
            )
        if kind == "multipicklist" and field.restricted:
            unknown = [value for value in raw.split(";") if value not in field.picklist]
            if unknown:
                raise ApiError(
                    400,
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{label}: bad value for restricted picklist field: {unknown[0]}",
                    [field.name],
                )
        if kind == "picklist" and field.restricted and raw not in field.picklist:
            raise ApiError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{label}: bad value for restricted picklist field: {raw}",
                [field.name],
            )
        return raw

    def _number(self, raw, field: Field):
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise _parser_error(raw, field.type, field)
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise _parser_error(raw, field.type, field) from None
        if not number.is_finite():
            raise _parser_error(raw, field.type, field)
        if field.type == "int":
            return int(number)
        if field.scale is not None:
            number = round(number, field.scale)
        if field.precision is not None and field.scale is not None:
            digits = len(str(abs(int(number))))
            if digits > field.precision - field.scale:
                raise ApiError(
                    400,
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"{field.label}: value outside of valid range on numeric field: {raw}",
                    [field.name],
                )
        return float(number)

    def _base64(self, raw, field: Field) -> bytes:
        if isinstance(raw, bytes):
            return raw
        try:
            return base64.b64decode(raw, validate=True)
        except (ValueError, TypeError):
            raise _parser_error("(binary)", "base64", field) from None

    def _reference(self, field: Field, raw: str) -> str:
        target = self.owner_of(raw)
        if target is None or target.name not in field.reference_to:
            raise ApiError(
                400,
                "MALFORMED_ID" if not ids.is_valid(raw) else "INVALID_CROSS_REFERENCE_KEY",
                f"{field.label}: id value of incorrect type: {raw}",
                [field.name],
            )
        existing = self.row(target, raw)
        if existing is None:
            raise ApiError(
                400,
                "INVALID_CROSS_REFERENCE_KEY",
                f"invalid cross reference id: {raw}",
                [field.name],
            )
        return existing["Id"]

    def _check_unique(self, sobject: SObject, values: dict, record_id: str) -> None:
        for field in sobject.fields.values():
            if not field.unique or values.get(field.name) in (None, ""):
                continue
            cursor = self.conn.execute(
                f"SELECT Id FROM {quote(sobject.name)} "
                f"WHERE {quote(field.name)} = ? AND Id != ? AND IsDeleted = 0",
                (values[field.name], record_id),
            )
            clash = cursor.fetchone()
            if clash:
                raise ApiError(
                    400,
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {field.name} duplicates value on record with id: "
                    f"{clash[0]}",
                )

    # -- internals ----------------------------------------------------------

    def _next_id(self, sobject: SObject) -> str:
        self.conn.execute(
            "INSERT INTO _sequence (prefix, last) VALUES (?, 1) "
            "ON CONFLICT(prefix) DO UPDATE SET last = last + 1",
            (sobject.key_prefix,),
        )
        (last,) = self.conn.execute(
            "SELECT last FROM _sequence WHERE prefix = ?", (sobject.key_prefix,)
        ).fetchone()
        return ids.make(sobject.key_prefix, last)

    def _auto_number(self, sobject: SObject) -> str:
        key = f"name:{sobject.name}"
        self.conn.execute(
            "INSERT INTO _sequence (prefix, last) VALUES (?, 1) "
            "ON CONFLICT(prefix) DO UPDATE SET last = last + 1",
            (key,),
        )
        (last,) = self.conn.execute(
            "SELECT last FROM _sequence WHERE prefix = ?", (key,)
        ).fetchone()
        match = re.search(r"\{(0+)\}", sobject.auto_number)
        width = len(match.group(1)) if match else 0
        return re.sub(r"\{0+\}", str(last).rjust(width, "0"), sobject.auto_number)

    def _derive(self, sobject: SObject, values: dict) -> None:
        if sobject.name in ("Contact", "User"):
            names = [values.get("FirstName"), values.get("LastName")]
            values["Name"] = " ".join(part for part in names if part)

    def _insert(self, sobject: SObject, values: dict) -> None:
        columns = ", ".join(quote(key) for key in values)
        marks = ", ".join("?" for _ in values)
        self.conn.execute(
            f"INSERT INTO {quote(sobject.name)} ({columns}) VALUES ({marks})",
            tuple(values.values()),
        )

    def _publish(self, version: dict, user_id: str) -> None:
        """Make the ContentDocument of a new ContentVersion, and link it where it was published."""
        data = version.get("VersionData") or b""
        path = version.get("PathOnClient") or ""
        extension = path.rsplit(".", 1)[-1].lower() if "." in path else ""
        document_id = self._insert_system(
            "ContentDocument",
            {
                "Title": version.get("Title"),
                "FileExtension": extension,
                "ContentSize": len(data),
                "LatestPublishedVersionId": version["Id"],
                "OwnerId": user_id,
            },
            user_id,
        )
        self.conn.execute(
            "UPDATE ContentVersion SET ContentDocumentId = ?, FileExtension = ?, FileType = ?, "
            "ContentSize = ? WHERE Id = ?",
            (document_id, extension, extension.upper() or "UNKNOWN", len(data), version["Id"]),
        )
        if version.get("FirstPublishLocationId"):
            self._insert_system(
                "ContentDocumentLink",
                {
                    "ContentDocumentId": document_id,
                    "LinkedEntityId": version["FirstPublishLocationId"],
                    "ShareType": "I",
                    "Visibility": "AllUsers",
                },
                user_id,
            )

    def _insert_system(self, name: str, values: dict, user_id: str) -> str:
        sobject = self.sobject(name)
        now = timestamp()
        record_id = self._next_id(sobject)
        values = dict(
            values,
            Id=record_id,
            IsDeleted=0,
            CreatedDate=now,
            LastModifiedDate=now,
            SystemModstamp=now,
            CreatedById=user_id,
            LastModifiedById=user_id,
        )
        self._insert(sobject, values)
        return record_id

    def _delete_tree(self, sobject: SObject, record_id: str) -> None:
        for child_name, field_name in sobject.children.values():
            child = self.sobject(child_name)
            for found in self.rows_by(child, child.field(field_name), record_id):
                self._delete_tree(child, found["Id"])
        self.conn.execute(f"DELETE FROM {quote(sobject.name)} WHERE Id = ?", (record_id,))


class MultipleMatches(Exception):
    """Upsert found several records with the external ID: Salesforce answers 300."""

    def __init__(self, record_ids: list[str]):
        super().__init__("several records match")
        self.record_ids = record_ids


def _parser_error(raw, kind: str, field: Field) -> ApiError:
    shown = str(raw)[:60]
    return ApiError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {kind} from VALUE_STRING value {shown} "
        f"or request may be missing a required field",
        [field.name],
    )
