"""Time spent waiting on Salesforce during one piece of work (a request to the portal).

Every call through `connection.TimeoutSession` adds its round trip to the tally open in
this context, and the org's own share of it when the org reports one in `Server-Timing`
(the local org does; Salesforce does not, and then the whole round trip is the org's).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass

ORG_TIMING = re.compile(r"(?:^|,)\s*org;dur=([0-9.]+)")


@dataclass
class Tally:
    calls: int = 0
    round_trip_ms: float = 0.0
    org_ms: float = 0.0

    def add(self, round_trip_ms: float, server_timing: str) -> None:
        self.calls += 1
        self.round_trip_ms += round_trip_ms
        reported = ORG_TIMING.search(server_timing or "")
        self.org_ms += float(reported.group(1)) if reported else round_trip_ms


_current: ContextVar[Tally | None] = ContextVar("salesforce_tally", default=None)


def start() -> Tally:
    """Opens a fresh tally for the work now starting in this context."""
    tally = Tally()
    _current.set(tally)
    return tally


def current() -> Tally | None:
    return _current.get()
