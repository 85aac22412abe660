"""The local org: the subset of Salesforce's REST API the portal uses, over SQLite.

It answers with Salesforce's status codes, error bodies, ID format and upsert
semantics, and counts the API requests it serves so tests and benchmarks can
assert what each portal action costs.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from salesforce import ids
from salesforce.localorg import soql
from salesforce.localorg.faults import RECORD, REQUEST, TRANSPORT, Faults, InvalidRule
from salesforce.localorg.store import ApiError, MultipleMatches, Store, not_found
from salesforce.schema import Schema

API_VERSION = "62.0"
DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
SESSION_IDLE_SECONDS = 2 * 60 * 60
DAILY_API_LIMIT = 100_000
INTEGRATION_USERNAME = "integration@portal.local"
VERSIONED = re.compile(r"^/services/data/v(\d+\.\d+)(/.*)$")
# Set in a request's WSGI environ when a fault drops its connection instead of answering.
DROP_CONNECTION = "localorg.drop_connection"


@dataclass
class Usage:
    """API requests served: in all, and per session token (the portal's, a test's...)."""

    total: int = 0
    by_session: Counter = field(default_factory=Counter)
    # Keyed by the client named in `Sforce-Call-Options: client=...`, as Salesforce logs it.
    by_client: Counter = field(default_factory=Counter)


class LocalOrg:
    """State of one local org: its store, sessions, query cursors and counters."""

    def __init__(self, store: Store, password: str, daily_limit: int = DAILY_API_LIMIT):
        self.store = store
        self.password = password
        self.daily_limit = daily_limit
        self.sessions: dict[str, dict] = {}
        self.cursors: dict[str, tuple[list[dict], int, int]] = {}
        self.usage = Usage()
        self.faults = Faults()
        self.lock = threading.Lock()
        self.integration_user_id = self._integration_user()

    @property
    def schema(self) -> Schema:
        return self.store.schema

    def _integration_user(self) -> str:
        sobject = self.store.sobject("User")
        existing = self.store.rows_by(sobject, sobject.field("Username"), INTEGRATION_USERNAME)
        if existing:
            return existing[0]["Id"]
        with self.store.transaction():
            return self.store._insert_system(
                "User",
                {
                    "Username": INTEGRATION_USERNAME,
                    "FirstName": "Portal",
                    "LastName": "Integration",
                    "Name": "Portal Integration",
                    "Email": INTEGRATION_USERNAME,
                    "IsActive": 1,
                },
                ids.make("005", 0),
            )

    # -- sessions -----------------------------------------------------------

    def open_session(self, username: str, password: str) -> str | None:
        if username != INTEGRATION_USERNAME or not secrets.compare_digest(password, self.password):
            return None
        token = "00D" + secrets.token_urlsafe(32)
        with self.lock:
            self.sessions[token] = {"user_id": self.integration_user_id, "seen": time.monotonic()}
        return token

    def session_user(self, token: str) -> str | None:
        with self.lock:
            session = self.sessions.get(token)
            if session is None or time.monotonic() - session["seen"] > SESSION_IDLE_SECONDS:
                self.sessions.pop(token, None)
                return None
            session["seen"] = time.monotonic()
            return session["user_id"]

    def expire_sessions(self, token: str | None = None) -> int:
        """End `token`'s session, or every session when no token is given: how many ended."""
        with self.lock:
            if token is not None:
                return 0 if self.sessions.pop(token, None) is None else 1
            count = len(self.sessions)
            self.sessions.clear()
        return count

    def add_site(self, name: str) -> str:
        """An Experience Cloud site (Network) to publish files to; made in Setup in real orgs."""
        with self.store.transaction():
            return self.store._insert_system("Network", {"Name": name}, self.integration_user_id)

    def count(self, token: str, client: str = "") -> int:
        with self.lock:
            self.usage.total += 1
            self.usage.by_session[token] += 1
            self.usage.by_client[client] += 1
            return self.usage.total

    def limit_info(self) -> str:
        return f"api-usage={self.usage.total}/{self.daily_limit}"

    # -- REST ---------------------------------------------------------------

    def rest(self, method: str, path: str, body, user_id: str, headers=None, params=None):
        """Answer one REST request: (status, JSON body or bytes)."""
        match = VERSIONED.match(path)
        if not match:
            raise not_found()
        version, rest = match.groups()
        parts = [part for part in rest.split("/") if part]
        if parts == ["limits"] and method == "GET":
            return 200, self._limits()
        if parts == ["sobjects"] and method == "GET":
            return 200, self._describe_global()
        if parts[:1] == ["query"] and method == "GET":
            if len(parts) == 2:
                return 200, self._next_batch(parts[1], version)
            return 200, self._query((params or {}).get("q"), version, headers or {})
        if parts == ["composite"] and method == "POST":
            return 200, self._composite(body, user_id)
        if parts[:1] == ["sobjects"] and len(parts) >= 2:
            return self._sobjects(method, parts[1:], body, user_id, version)
        raise not_found()

    def _sobjects(self, method, parts, body, user_id, version):
        store = self.store
        sobject = store.sobject(parts[0])
        if len(parts) == 1 and method == "POST":
            record_id = store.create(sobject.name, body, user_id)
            return 201, {"id": record_id, "success": True, "errors": []}
        if len(parts) == 2 and parts[1] == "describe" and method == "GET":
            return 200, describe(sobject, version)
        if len(parts) == 2:
            return self._by_id(method, sobject, parts[1], body, user_id, version)
        if len(parts) == 3 and parts[2] == "VersionData" and ids.is_valid(parts[1]):
            row = store.row(sobject, parts[1])
            if sobject.name != "ContentVersion" or row is None:
                raise not_found()
            return 200, bytes(row["VersionData"] or b"")
        if len(parts) == 3:
            return self._by_external_id(method, sobject, parts[1], parts[2], body, user_id, version)
        raise not_found()

    def _by_id(self, method, sobject, record_id, body, user_id, version):
        if method == "GET":
            row = self.store.row(sobject, record_id)
            if row is None:
                raise not_found()
            return 200, record_json(sobject, row, version)
        if method == "PATCH":
            self.store.update(sobject.name, record_id, body, user_id)
            return 204, None
        if method == "DELETE":
            self.store.delete(sobject.name, record_id)
            return 204, None
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed")

    def _by_external_id(self, method, sobject, field_name, value, body, user_id, version):
        field = sobject.field(field_name)
        if method == "GET":
            if field is None or not field.external_id:
                raise not_found()
            rows = self.store.rows_by(sobject, field, value)
            if not rows:
                raise not_found()
            if len(rows) > 1:
                return 300, [
                    f"/services/data/v{version}/sobjects/{sobject.name}/{row['Id']}" for row in rows
                ]
            return 200, record_json(sobject, rows[0], version)
        if method != "PATCH":
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed")
        try:
            record_id, created = self.store.upsert(sobject.name, field_name, value, body, user_id)
        except MultipleMatches as clash:
            return 300, [
                f"/services/data/v{version}/sobjects/{sobject.name}/{record_id}"
                for record_id in clash.record_ids
            ]
        answer = {"id": record_id, "success": True, "errors": [], "created": created}
        return (201 if created else 200), answer

    def _describe_global(self) -> dict:
        return {
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": [
                {
                    "name": sobject.name,
                    "label": sobject.label,
                    "keyPrefix": sobject.key_prefix,
                    "custom": sobject.custom,
                    **_access(sobject),
                }
                for sobject in self.schema.objects.values()
            ],
        }

    def _limits(self) -> dict:
        used = self.usage.total
        return {"DailyApiRequests": {"Max": self.daily_limit, "Remaining": self.daily_limit - used}}

    def _query(self, statement, version, headers) -> dict:
        if not statement:
            raise ApiError(400, "MALFORMED_QUERY", "A query string is required")
        batch_size = batch_size_from(headers.get("Sforce-Query-Options", ""))
        try:
            with self.store.lock:
                result = soql.execute(self.store.conn, self.schema, statement, api_version=version)
        except soql.InvalidTypeError as error:
            raise ApiError(400, "INVALID_TYPE", str(error)) from None
        except soql.InvalidFieldError as error:
            raise ApiError(400, "INVALID_FIELD", str(error)) from None
        except soql.SoqlError as error:
            raise ApiError(400, "MALFORMED_QUERY", str(error)) from None
        return self._page(result.records, result.total_size, 0, batch_size, version)

    def _page(self, records, total_size, start, batch_size, version) -> dict:
        end = start + batch_size
        page = {"totalSize": total_size, "done": end >= len(records), "records": records[start:end]}
        if end < len(records):
            locator = "01g" + secrets.token_hex(6) + "-" + str(end)
            with self.lock:
                self.cursors[locator] = (records, total_size, batch_size)
            page["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}"
        return page

    def _next_batch(self, locator: str, version: str) -> dict:
        with self.lock:
            cursor = self.cursors.pop(locator, None)
        if cursor is None:
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        records, total_size, batch_size = cursor
        start = int(locator.rsplit("-", 1)[1])
        return self._page(records, total_size, start, batch_size, version)

    def _composite(self, body, user_id) -> dict:
        if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
            raise ApiError(400, "JSON_PARSER_ERROR", "compositeRequest is required")
        subrequests = body["compositeRequest"]
        if len(subrequests) > 25:
            raise ApiError(
                400, "LIMIT_EXCEEDED", "A composite request holds at most 25 subrequests"
            )
        all_or_none = bool(body.get("allOrNone"))
        answers: list[dict] = []
        results: dict[str, object] = {}
        failed = False
        try:
            with self.store.transaction():
                for subrequest in subrequests:
                    reference = subrequest.get("referenceId")
                    if failed and all_or_none:
                        answers.append(_halted(reference))
                        continue
                    method = subrequest.get("method", "GET").upper()
                    try:
                        # A subrequest naming a failed one fails alone, as Salesforce does.
                        url = urlsplit(resolve_references(subrequest.get("url", ""), results))
                        payload = resolve_references(subrequest.get("body"), results)
                        params = dict(parse_qsl(url.query))
                        fault = self.faults.for_subrequest(method, rest_path(url.path))
                        if fault is not None:
                            raise fault.error()
                        with self.store.transaction():
                            status, answer = self.rest(
                                method, url.path, payload, user_id, params=params
                            )
                    except ApiError as error:
                        failed = True
                        answers.append(
                            {
                                "body": error.body(),
                                "httpHeaders": {},
                                "httpStatusCode": error.status,
                                "referenceId": reference,
                            }
                        )
                        continue
                    results[reference] = answer
                    answers.append(
                        {
                            "body": answer,
                            "httpHeaders": {},
                            "httpStatusCode": status,
                            "referenceId": reference,
                        }
                    )
                if failed and all_or_none:
                    raise _Rollback
        except _Rollback:
            answers = [
                answer if answer["httpStatusCode"] >= 300 else _halted(answer["referenceId"])
                for answer in answers
            ]
        return {"compositeResponse": answers}


class _Rollback(Exception):
    pass


def _halted(reference) -> dict:
    return {
        "body": [
            {
                "errorCode": "PROCESSING_HALTED",
                "message": "The transaction was rolled back since another operation in the same "
                "transaction failed.",
            }
        ],
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": reference,
    }


def resolve_references(value, results: dict):
    """Replace `@{ref.field}` in a composite subrequest with earlier answers."""
    if isinstance(value, str):

        def lookup(match):
            reference, _, path = match.group(1).partition(".")
            found = results.get(reference)
            # A path walks fields and list items: `records[0].Id`.
            for key in re.findall(r"[^.\[\]]+", path):
                if isinstance(found, list) and key.isdigit():
                    found = found[int(key)] if int(key) < len(found) else None
                else:
                    found = found.get(key) if isinstance(found, dict) else None
            if found is None:
                raise ApiError(
                    400,
                    "PROCESSING_HALTED",
                    f"Invalid reference specified. No value for {match.group(1)} found in "
                    f"{reference}",
                )
            return str(found)

        return re.sub(r"@\{([^}]+)\}", lookup, value)
    if isinstance(value, dict):
        return {key: resolve_references(item, results) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_references(item, results) for item in value]
    return value


def rest_path(path: str) -> str:
    """The part of a REST path after `/services/data/vXX.X/`."""
    match = VERSIONED.match(path)
    return match.group(2).lstrip("/") if match else path.lstrip("/")


def _access(sobject) -> dict:
    """What the integration user may do with an object, as describe reports it."""
    writable = sobject.name not in ("ContentDocument",)
    return {
        "queryable": True,
        "retrieveable": True,
        "createable": writable,
        "updateable": writable,
        "deletable": writable,
    }


def batch_size_from(options: str) -> int:
    match = re.search(r"batchSize=(\d+)", options)
    if not match:
        return DEFAULT_BATCH_SIZE
    return max(MIN_BATCH_SIZE, min(DEFAULT_BATCH_SIZE, int(match.group(1))))


def record_json(sobject, row: dict, version: str) -> dict:
    """A whole record as `GET /sobjects/{type}/{id}` answers it."""
    url = f"/services/data/v{version}/sobjects/{sobject.name}/{row['Id']}"
    record = {"attributes": {"type": sobject.name, "url": url}}
    for name, definition in sobject.fields.items():
        value = row.get(name)
        if definition.type == "boolean":
            value = bool(value)
        elif definition.type == "base64":
            value = f"{url}/{name}" if value is not None else None
        record[name] = value
    return record


def describe(sobject, version: str) -> dict:
    fields = []
    for definition in sobject.fields.values():
        fields.append(
            {
                "name": definition.name,
                "label": definition.label,
                "type": definition.type,
                "length": definition.length or 0,
                "nillable": not definition.required,
                "unique": definition.unique,
                "externalId": definition.external_id,
                "createable": not definition.system,
                "updateable": not definition.system,
                "referenceTo": list(definition.reference_to),
                "relationshipName": definition.relationship_name,
                "restrictedPicklist": definition.restricted,
                "picklistValues": [
                    {
                        "value": value,
                        "label": value,
                        "active": True,
                        "defaultValue": value == definition.default,
                    }
                    for value in definition.picklist
                ],
            }
        )
    return {
        "name": sobject.name,
        "label": sobject.label,
        "keyPrefix": sobject.key_prefix,
        "custom": sobject.custom,
        **_access(sobject),
        "fields": fields,
        "childRelationships": [
            {"relationshipName": name, "childSObject": child, "field": field_name}
            for name, (child, field_name) in sobject.children.items()
        ],
        "urls": {"sobject": f"/services/data/v{version}/sobjects/{sobject.name}"},
    }


def _dropping_connections(wsgi_app):
    """Closes the socket of a request a fault marked, instead of sending its answer."""

    def app(environ, start_response):
        answer = wsgi_app(environ, start_response)
        if not environ.get(DROP_CONNECTION):
            return answer
        if hasattr(answer, "close"):
            answer.close()
        connection = environ.get("werkzeug.socket")
        if connection is not None:
            # Linger 0: closing sends a reset, as a failing proxy or network would.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.shutdown(socket.SHUT_RDWR)
        # The development server treats this as a client gone away: no log, no answer.
        raise ConnectionResetError("fault injected: connection dropped")

    return app


def _request_body():
    """The JSON body, or for a multipart ContentVersion insert, the entity plus the file bytes."""
    if request.mimetype == "multipart/form-data":
        entity_part = request.files.get("entity_content") or request.files.get("entity_document")
        entity_text = (
            entity_part.read().decode("utf-8")
            if entity_part is not None
            else request.form.get("entity_content") or request.form.get("entity_document")
        )
        try:
            entity = json.loads(entity_text or "{}")
        except json.JSONDecodeError:
            raise ApiError(400, "JSON_PARSER_ERROR", "entity_content is not valid JSON") from None
        upload = request.files.get("VersionData")
        if upload is None:
            raise ApiError(
                400,
                "REQUIRED_FIELD_MISSING",
                "Required fields are missing: [VersionData]",
                ["VersionData"],
            )
        if isinstance(entity, dict):
            entity["VersionData"] = upload.read()
        return entity
    if not request.data:
        return None
    try:
        return json.loads(request.data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body is not valid JSON") from None


ORG_CLOCK = "localorg.started"
ORG_TIMING_NAME = "org"


def create_app(org: LocalOrg) -> Flask:
    """The WSGI app serving `org`."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024 * 1024
    app.wsgi_app = _dropping_connections(app.wsgi_app)

    # The org's own time for each answer, as Server-Timing: what a client can subtract from
    # its round trip to know its own share (benchmarks/server_time.py does).
    @app.before_request
    def start_clock():
        request.environ[ORG_CLOCK] = time.perf_counter()

    @app.after_request
    def report_time(response):
        started = request.environ.get(ORG_CLOCK)
        if started is not None:
            elapsed_ms = (time.perf_counter() - started) * 1000
            response.headers["Server-Timing"] = f"{ORG_TIMING_NAME};dur={elapsed_ms:.3f}"
        return response

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return _answer(error.status, error.body())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = "NOT_FOUND" if error.code == 404 else error.name.upper().replace(" ", "_")
        return _answer(error.code, [{"message": error.description, "errorCode": code}])

    def _answer(status, body):
        if isinstance(body, bytes):
            response = Response(body, status=status, mimetype="application/octetstream")
        elif body is None:
            response = Response(status=status)
        else:
            response = Response(json.dumps(body), status=status, mimetype="application/json")
        response.headers["Sforce-Limit-Info"] = org.limit_info()
        return response

    @app.post("/services/oauth2/token")
    def token():
        form = request.form
        if form.get("grant_type") != "password":
            return jsonify(
                error="unsupported_grant_type", error_description="grant type not supported"
            ), 400
        access_token = org.open_session(form.get("username", ""), form.get("password", ""))
        if access_token is None:
            return jsonify(error="invalid_grant", error_description="authentication failure"), 400
        return jsonify(
            access_token=access_token,
            instance_url=request.host_url.rstrip("/"),
            id=f"{request.host_url}id/00D000000000001AAA/{org.integration_user_id}",
            token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret  # nosec B106
            issued_at=str(int(time.time() * 1000)),
        )

    @app.get("/services/data/")
    def versions():
        return jsonify(
            [{"label": "Local", "url": f"/services/data/v{API_VERSION}", "version": API_VERSION}]
        )

    @app.route("/services/data/<path:rest>", methods=["GET", "POST", "PATCH", "DELETE", "PUT"])
    def data(rest):
        authorization = request.headers.get("Authorization", "")
        session_token = authorization.removeprefix("Bearer ").removeprefix("OAuth ").strip()
        user_id = org.session_user(session_token)
        if user_id is None:
            raise ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if org.usage.total >= org.daily_limit:
            raise ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        options = request.headers.get("Sforce-Call-Options", "")
        org.count(session_token, dict(parse_qsl(options.replace(",", "&"))).get("client", ""))
        fault = org.faults.for_request(request.method, rest_path(request.path))
        late = fault is not None and fault.after_commit and fault.fault in TRANSPORT
        if fault is not None and not late:
            if fault.fault in REQUEST | RECORD:
                raise fault.error()
            if fault.fault != "TIMEOUT":
                return _transport_fault(fault)
            time.sleep(fault.seconds)  # the answer comes late; the work is still done
        body = _request_body() if request.method in ("POST", "PATCH", "PUT") else None
        status, answer = org.rest(
            request.method, request.path, body, user_id, request.headers, request.args
        )
        if late:
            if fault.fault != "TIMEOUT":
                return _transport_fault(fault)
            time.sleep(fault.seconds)
        return _answer(status, answer)

    def _transport_fault(fault):
        if fault.fault == "CONNECTION_RESET":
            request.environ[DROP_CONNECTION] = True
            return Response(status=204)
        status = int(fault.fault.rsplit("_", 1)[1])
        return _answer(
            status,
            [{"message": "Service temporarily unavailable", "errorCode": "SERVER_UNAVAILABLE"}],
        )

    @app.get("/local/usage")
    def usage():
        return jsonify(
            total=org.usage.total,
            by_session=dict(org.usage.by_session),
            by_client=dict(org.usage.by_client),
        )

    @app.post("/local/sessions/expire")
    def expire():
        return jsonify(expired=org.expire_sessions(request.args.get("token")))

    @app.get("/local/faults")
    def faults():
        return jsonify(org.faults.report())

    @app.post("/local/faults")
    def add_faults():
        try:
            added = org.faults.add(request.get_json(silent=True))
        except (InvalidRule, ValueError) as error:
            return jsonify(error=str(error)), 400
        return jsonify([rule.as_json() for rule in added]), 201

    @app.delete("/local/faults")
    def clear_faults():
        org.faults.clear()
        return Response(status=204)

    @app.post("/local/limits")
    def set_limits():
        daily = (request.get_json(silent=True) or {}).get("daily_api_requests", DAILY_API_LIMIT)
        org.daily_limit = int(daily)
        return jsonify(daily_api_requests=org.daily_limit, used=org.usage.total)

    return app
