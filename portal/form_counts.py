"""How many registration forms partners open, and how many they submit: counted in memory.

Counting costs the form page no Salesforce call. Each process keeps its own totals per UTC
day and partner account (no person, no registration: only a company and two numbers) and
the background thread writes them to `Portal_Form_Count__c` at most every
`FORM_COUNTS_FLUSH_SECONDS` (None: only when `flush()` is called), one record per day,
account and process, keyed so that processes never overwrite each other and a repeated
write changes nothing. A process that stops loses what it counted since its last write.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from datetime import UTC, date, datetime

from flask import Flask, current_app

from portal import background
from salesforce.reporting import FormCount, Reporting

OPENED, SUBMITTED = 0, 1
_create_lock = threading.Lock()


class FormCounts:
    """This process's counts, and when they next go to Salesforce."""

    def __init__(self, process: str | None = None):
        # Host, process ID and a random token: a restarted process never reuses a record.
        self.process = process or (
            f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"
        )
        self._lock = threading.Lock()
        self._counts: dict[tuple[date, str], list[int]] = {}
        self._saved: dict[tuple[date, str], tuple[int, int]] = {}
        self._scheduled = False
        self._last_flush = float("-inf")

    def opened(self, account_id: str) -> None:
        self._add(account_id, OPENED)

    def submitted(self, account_id: str) -> None:
        self._add(account_id, SUBMITTED)

    def pending(self) -> list[FormCount]:
        """The counts that changed since they were last written."""
        with self._lock:
            return [
                FormCount(day, account_id, self.process, *values)
                for (day, account_id), values in self._counts.items()
                if self._saved.get((day, account_id)) != tuple(values)
            ]

    def flush(self) -> int:
        """Write the changed counts (background thread); how many records were written."""
        with self._lock:
            self._scheduled = False
            self._last_flush = time.monotonic()
        changed = self.pending()
        if changed:
            Reporting(current_app.extensions["background_gateway"]).save_form_counts(changed)
        today = datetime.now(UTC).date()
        with self._lock:
            for count in changed:
                self._saved[(count.day, count.account_id)] = (count.opened, count.submitted)
            # A past day no longer changes once written; today's totals keep growing.
            for key in [key for key in self._counts if key[0] < today]:
                if self._saved.get(key) == tuple(self._counts[key]):
                    del self._counts[key], self._saved[key]
        return len(changed)

    def _add(self, account_id: str, which: int) -> None:
        if not account_id:
            return
        key = (datetime.now(UTC).date(), account_id)
        interval = current_app.config["FORM_COUNTS_FLUSH_SECONDS"]
        with self._lock:
            self._counts.setdefault(key, [0, 0])[which] += 1
            # None: only an explicit flush() writes them (the test suite's setting).
            if self._scheduled or interval is None:
                return
            self._scheduled = True
            wait = interval - (time.monotonic() - self._last_flush)
        if wait <= 0:
            background.run_later(self.flush)
            return
        timer = threading.Timer(wait, self._hand_over, (current_app._get_current_object(),))
        timer.daemon = True
        timer.start()

    def _hand_over(self, app: Flask) -> None:
        with app.app_context():
            background.run_later(self.flush)


def counts() -> FormCounts:
    """This process's counter, made on first use (after a server forks its workers)."""
    extensions = current_app.extensions
    if "form_counts" not in extensions:
        with _create_lock:
            extensions.setdefault("form_counts", FormCounts())
    return extensions["form_counts"]


def opened(account_id: str) -> None:
    """A partner of `account_id` was shown the registration form."""
    counts().opened(account_id)


def submitted(account_id: str) -> None:
    """A partner of `account_id` submitted a registration (a new one, not a repeat)."""
    counts().submitted(account_id)
