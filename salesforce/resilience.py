"""How the gateway behaves when Salesforce falters: which faults are retried and how long
to wait, when to stop calling because the API allowance is used up, and how close the org
is to that allowance.

The gateway decides *whether* a request may be repeated (the caller says it is idempotent);
this module knows *which* faults are worth repeating and *how*.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from simple_salesforce.exceptions import SalesforceError, SalesforceMalformedRequest

log = logging.getLogger(__name__)

RETRY_ATTEMPTS = 3  # in all, the first try included
BACKOFF_BASE_SECONDS = 0.5  # the wait before the second attempt is up to this; then doubles
BACKOFF_CAP_SECONDS = 4.0
# No new attempt starts this long after the first one did: with a 20 s read timeout a call
# ends within about 45 s, inside the web server's worker timeout.
RETRY_DEADLINE_SECONDS = 25.0
# Salesforce sends no Retry-After with REQUEST_LIMIT_EXCEEDED; the daily allowance is a rolling
# 24-hour window, so calls stop for a while and one call then probes whether it is back.
LIMIT_COOLDOWN_SECONDS = 15 * 60
USAGE_WARNING_RATIO = 0.8
USAGE_WARNING_INTERVAL_SECONDS = 5 * 60

LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


@dataclass(frozen=True)
class Policy:
    """Retry, limit and usage settings; `from_config` reads them from the app's settings."""

    attempts: int = RETRY_ATTEMPTS
    backoff_base_seconds: float = BACKOFF_BASE_SECONDS
    backoff_cap_seconds: float = BACKOFF_CAP_SECONDS
    deadline_seconds: float = RETRY_DEADLINE_SECONDS
    limit_cooldown_seconds: float = LIMIT_COOLDOWN_SECONDS
    usage_warning_ratio: float = USAGE_WARNING_RATIO

    @classmethod
    def from_config(cls, config) -> Policy:
        return cls(
            attempts=max(1, int(config.get("SALESFORCE_RETRY_ATTEMPTS", RETRY_ATTEMPTS))),
            backoff_base_seconds=float(
                config.get("SALESFORCE_RETRY_BACKOFF_SECONDS", BACKOFF_BASE_SECONDS)
            ),
            deadline_seconds=float(
                config.get("SALESFORCE_RETRY_DEADLINE_SECONDS", RETRY_DEADLINE_SECONDS)
            ),
            limit_cooldown_seconds=float(
                config.get("SALESFORCE_LIMIT_COOLDOWN_SECONDS", LIMIT_COOLDOWN_SECONDS)
            ),
            usage_warning_ratio=float(
                config.get("SALESFORCE_USAGE_WARNING_PERCENT", USAGE_WARNING_RATIO * 100)
            )
            / 100,
        )

    def backoff_seconds(self, attempt: int) -> float:
        """How long to wait after failed attempt number `attempt`: exponential, full jitter."""
        ceiling = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2 ** (attempt - 1))
        # Jitter spreads the retries of many processes apart; it guards nothing secret.
        return random.uniform(0, ceiling)  # noqa: S311  # nosec B311


class Transient(Exception):
    """A fault found inside an answer (a Composite subrequest) that is worth retrying."""

    def __init__(self, fault: str):
        super().__init__(fault)
        self.fault = fault


def error_codes(content) -> list[str]:
    """The `errorCode`s of a Salesforce error body."""
    errors = content if isinstance(content, list) else [content]
    return [error.get("errorCode", "") for error in errors if isinstance(error, dict)]


def transient_fault(error: Exception) -> str | None:
    """A short name for `error` if repeating the request may succeed, else None."""
    if isinstance(error, Transient):
        return error.fault
    if isinstance(error, requests.Timeout):
        return "timeout"
    if isinstance(error, requests.ConnectionError):
        return "connection error"
    if isinstance(error, SalesforceMalformedRequest):
        return "locked row" if "UNABLE_TO_LOCK_ROW" in error_codes(error.content) else None
    if isinstance(error, SalesforceError) and error.status >= 500:
        return f"status {error.status}"
    return None


class Breaker:
    """Stops calls once Salesforce says the API allowance is used up, for a cool-down.

    Closed: calls go through. Open: every call is refused here, without reaching
    Salesforce, until the cool-down ends. Then one call is let through as a probe: if it
    succeeds the breaker closes; if the limit answers again it opens for another cool-down.
    """

    def __init__(self, cooldown_seconds: float, clock=time.monotonic):
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None
        self._retry_at: datetime | None = None
        self._probing = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._open_until is None:
                return "closed"
            return "open" if self._clock() < self._open_until or self._probing else "half-open"

    @property
    def retry_at(self) -> datetime | None:
        """When calls resume, in UTC, while the breaker is open."""
        return self._retry_at

    def admit(self) -> tuple[bool, bool]:
        """(may call, is the probe) for one call about to be made."""
        with self._lock:
            if self._open_until is None:
                return True, False
            if self._clock() < self._open_until or self._probing:
                return False, False
            self._probing = True
            return True, True

    def trip(self) -> datetime:
        """Open for a cool-down; when calls resume."""
        with self._lock:
            self._open_until = self._clock() + self.cooldown_seconds
            self._retry_at = datetime.now(UTC) + timedelta(seconds=self.cooldown_seconds)
            self._probing = False
            return self._retry_at

    def close(self) -> bool:
        """Let calls through again; True if the breaker was open."""
        with self._lock:
            was_open = self._open_until is not None
            self._open_until = self._retry_at = None
            self._probing = False
            return was_open

    def release(self) -> None:
        """The probe failed for another reason: let the next call probe instead."""
        with self._lock:
            self._probing = False


class OrgLimits:
    """The org's API allowance as one process sees it, shared by all the app's gateways:
    once one of them learns the allowance is used up, none of them calls."""

    def __init__(self, policy: Policy):
        self.breaker = Breaker(policy.limit_cooldown_seconds)
        self.usage = UsageMeter(policy.usage_warning_ratio)


class UsageMeter:
    """The org's API usage, as the last answer's `Sforce-Limit-Info` header reported it."""

    def __init__(self, warning_ratio: float, clock=time.monotonic):
        self.warning_ratio = warning_ratio
        self._clock = clock
        self.used: int | None = None
        self.allowance: int | None = None
        self._warned_at: float | None = None

    def read(self, response: requests.Response, *args, **kwargs) -> None:
        """A `requests` response hook: sees every answer, whichever client call made it."""
        match = LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.record(int(match.group(1)), int(match.group(2)))

    def record(self, used: int, allowance: int) -> None:
        self.used, self.allowance = used, allowance
        if not allowance or used / allowance < self.warning_ratio:
            return
        now = self._clock()
        if self._warned_at is None or now - self._warned_at >= USAGE_WARNING_INTERVAL_SECONDS:
            self._warned_at = now
            log.warning(
                "salesforce api usage at %d%% of the daily allowance (%d of %d requests)",
                100 * used // allowance,
                used,
                allowance,
            )

    def as_dict(self) -> dict | None:
        if self.used is None or not self.allowance:
            return None
        return {
            "used": self.used,
            "allowance": self.allowance,
            "percent": round(100 * self.used / self.allowance, 1),
            "warning_percent": round(100 * self.warning_ratio, 1),
        }
