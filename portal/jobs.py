"""Work on a timer: registrations whose protection period ended, and status changes made
directly in Salesforce, which the portal records as stage records and tells people about.

Run it inside the portal process (`run_every`, as the local run command does) or as its
own process (`flask --app portal run-jobs`). Several runners at once are safe: a stage
record's key is unique, so a change is recorded once whoever sees it first.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app

from portal import workflow
from salesforce.gateway import Conflict, GatewayError

log = logging.getLogger(__name__)

LOOKBACK_ON_START = timedelta(hours=24)
OVERLAP = timedelta(minutes=5)


class Jobs:
    """One runner's memory: how far back it has already looked."""

    def __init__(self):
        self.looked_until: datetime | None = None

    def run_once(self) -> dict[str, int]:
        """Do every job once; how many registrations each touched. Changes made in
        Salesforce are recorded first, so an expiry follows the approval it ends."""
        recorded = self.record_salesforce_changes()
        return {"recorded": recorded, "expired": self.expire()}

    def expire(self) -> int:
        gateway = current_app.extensions["gateway"]
        count = 0
        for registration in gateway.expired_registrations():
            try:
                count += workflow.expire(registration)
            except (Conflict, GatewayError) as error:
                log.warning(
                    "registration %s not expired: %s", registration.id, type(error).__name__
                )
        return count

    def record_salesforce_changes(self) -> int:
        gateway = current_app.extensions["gateway"]
        now = datetime.now(UTC)
        since = (self.looked_until or now - LOOKBACK_ON_START) - OVERLAP
        count = 0
        for registration, changed_by in gateway.registrations_changed_since(since):
            latest = registration.stages[-1].to_status if registration.stages else None
            if latest == registration.status:
                continue
            count += workflow.record_salesforce_change(registration, changed_by)
        self.looked_until = now
        return count


def run_every(app: Flask, seconds: float) -> threading.Thread:
    """Run the jobs in a background thread of this process, every `seconds`."""
    jobs = Jobs()

    def loop():
        while True:
            time.sleep(seconds)
            with app.app_context():
                try:
                    jobs.run_once()
                except GatewayError as error:
                    log.warning("jobs skipped a round: %s", type(error).__name__)

    thread = threading.Thread(target=loop, name="portal-jobs", daemon=True)
    thread.start()
    return thread
