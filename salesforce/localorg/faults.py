"""Faults the local org injects on demand, so tests can prove how the portal copes.

A rule names the requests it hits, the fault, and how many times it fires:

    {"match": "composite", "method": "POST", "times": 2, "fault": "UNABLE_TO_LOCK_ROW"}

`match` is "composite" or a regular expression searched in the path after
`/services/data/vXX.X/` (for example "^query" or "sobjects/ContentVersion$").

- Transport faults hit a whole HTTP request: SERVER_ERROR_503 (and _500), TIMEOUT (the
  answer comes `seconds` late, past the client's read timeout), CONNECTION_RESET (the
  socket is closed without an answer). With `"after_commit": true` the request is
  served first, its writes committed, and only the answer is lost: the case a client
  must be idempotent for.
- Request faults refuse a whole request before it does anything: INVALID_SESSION_ID (401)
  and REQUEST_LIMIT_EXCEEDED (403), as Salesforce answers them.
- Record faults are what a write can meet in the org: UNABLE_TO_LOCK_ROW,
  FIELD_CUSTOM_VALIDATION_EXCEPTION (a validation rule: `message`, `fields`) and
  DUPLICATES_DETECTED (a duplicate rule: `message`). They hit a matching request, or,
  with `"match": "composite"`, the writing subrequests inside a Composite request, whose
  answer then carries the error the way Salesforce reports it.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from salesforce.localorg.store import ApiError

TRANSPORT = {"SERVER_ERROR_500", "SERVER_ERROR_503", "TIMEOUT", "CONNECTION_RESET"}
REQUEST = {"INVALID_SESSION_ID", "REQUEST_LIMIT_EXCEEDED"}
RECORD = {"UNABLE_TO_LOCK_ROW", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "DUPLICATES_DETECTED"}
WRITES = {"POST", "PATCH", "PUT", "DELETE"}
DEFAULT_TIMEOUT_SECONDS = 3.0

MESSAGES = {
    "INVALID_SESSION_ID": "Session expired or invalid",
    "REQUEST_LIMIT_EXCEEDED": "TotalRequests Limit exceeded.",
    "UNABLE_TO_LOCK_ROW": "unable to obtain exclusive access to this record or 1 records",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": "The record does not meet a validation rule.",
    "DUPLICATES_DETECTED": "You're creating a duplicate record. We recommend you use an "
    "existing record instead.",
}


class InvalidRule(ValueError):
    """A rule the local org cannot apply."""


@dataclass
class Rule:
    fault: str
    match: str = "composite"
    method: str | None = None
    times: int = 1
    after_commit: bool = False
    seconds: float = DEFAULT_TIMEOUT_SECONDS
    message: str = ""
    fields: list[str] = field(default_factory=list)
    fired: int = 0

    @classmethod
    def from_json(cls, data) -> Rule:
        if not isinstance(data, dict):
            raise InvalidRule("a rule is a JSON object")
        fault = data.get("fault")
        if fault not in TRANSPORT | REQUEST | RECORD:
            raise InvalidRule(f"unknown fault {fault!r}")
        match = data.get("match", "composite")
        try:
            re.compile(match)
        except (re.error, TypeError):
            raise InvalidRule(f"match {match!r} is not a regular expression") from None
        return cls(
            fault=fault,
            match=match,
            method=(data.get("method") or "").upper() or None,
            times=int(data.get("times", 1)),
            after_commit=bool(data.get("after_commit", False)),
            seconds=float(data.get("seconds", DEFAULT_TIMEOUT_SECONDS)),
            message=str(data.get("message") or ""),
            fields=[str(name) for name in data.get("fields") or []],
        )

    def as_json(self) -> dict:
        return {
            "fault": self.fault,
            "match": self.match,
            "method": self.method,
            "times": self.times,
            "after_commit": self.after_commit,
            "fired": self.fired,
        }

    def error(self) -> ApiError:
        """The error answer of a request or record fault."""
        message = self.message or MESSAGES[self.fault]
        status = {"INVALID_SESSION_ID": 401, "REQUEST_LIMIT_EXCEEDED": 403}.get(self.fault, 400)
        if self.fault == "DUPLICATES_DETECTED":
            return DuplicatesDetected(message)
        return ApiError(status, self.fault, message, list(self.fields))


class DuplicatesDetected(ApiError):
    """A duplicate rule's error: Salesforce adds the rule's result to the usual body."""

    def __init__(self, message: str):
        super().__init__(400, "DUPLICATES_DETECTED", message)

    def body(self) -> list[dict]:
        [error] = super().body()
        error["duplicateResult"] = {
            "allowSave": False,
            "duplicateRule": "Portal_Duplicate_Rule",
            "duplicateRuleEntityType": "Deal_Registration__c",
            "errorMessage": self.message,
            "matchResults": [],
        }
        return [error]


class Faults:
    """The rules in force, shared by every request thread of one local org."""

    def __init__(self):
        self._rules: list[Rule] = []
        self._lock = threading.Lock()

    def add(self, rules: list) -> list[Rule]:
        if not isinstance(rules, list):
            raise InvalidRule("send a JSON list of rules")
        parsed = [Rule.from_json(rule) for rule in rules]
        with self._lock:
            self._rules.extend(parsed)
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def report(self) -> list[dict]:
        with self._lock:
            return [rule.as_json() for rule in self._rules]

    def for_request(self, method: str, path: str) -> Rule | None:
        """The rule that hits this whole HTTP request, if any; it counts as fired."""
        return self._take(method, path, subrequest=False)

    def for_subrequest(self, method: str, path: str) -> Rule | None:
        """The record fault that hits this subrequest of a Composite request, if any."""
        return self._take(method, path, subrequest=True)

    def _take(self, method: str, path: str, subrequest: bool) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.fired >= rule.times or (rule.method and rule.method != method):
                    continue
                if not _hits(rule, method, path, subrequest):
                    continue
                rule.fired += 1
                return rule
        return None


def _hits(rule: Rule, method: str, path: str, subrequest: bool) -> bool:
    composite = rule.match == "composite"
    if subrequest:
        if rule.fault not in RECORD:
            return False
        return method in WRITES if composite else re.search(rule.match, path) is not None
    if composite:
        return path == "composite" and rule.fault not in RECORD
    return re.search(rule.match, path) is not None
