"""What the pilot metrics dashboard and its exports cost at 100, 1,000 and 10,000
registrations: Salesforce API calls and the portal's time to answer, against the local org.

Run: .venv/bin/python benchmarks/dashboard.py [sizes...]
"""

from __future__ import annotations

import platform
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.identity import Person  # noqa: E402
from salesforce import demo  # noqa: E402
from salesforce.connection import Connector  # noqa: E402
from salesforce.localorg.__main__ import RunningOrg  # noqa: E402
from tests.reporting_seed import bulk, seed  # noqa: E402

PASSWORD = "benchmark-password"
SIZES = (100, 1_000, 10_000)
# Registrations are seeded 17 minutes apart (tests/reporting_seed.py): 10,000 span 118 days.
PERIOD_DAYS = 150


def main(sizes=SIZES) -> None:
    org = RunningOrg(Path(tempfile.mkdtemp()), 0, PASSWORD).start()
    connector = Connector(mode="local", url=org.url, password=PASSWORD, ca_file=org.ca_file)
    sf = connector.connect()
    owner = demo.ensure_queue(sf, "Metrics_Desk", "Metrics Desk")
    app = create_app(
        {
            "SALESFORCE": connector,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "benchmark",
            "ROUTING_CHECK_OWNERS": False,
        }
    )
    admin_id = demo.create_internal_user(
        sf, "Ada", "Admin", "ada.admin@vendor.example", "Admin", []
    )
    client = app.test_client()
    person = Person.from_user(app.extensions["gateway"].internal_user(admin_id), "sso")
    with client.session_transaction() as session:
        session["_user_id"] = person.id
        session["person"] = asdict(person)
    today = datetime.now(UTC).date()
    start = today - timedelta(days=PERIOD_DAYS)
    usage = org.org.usage
    rows = []
    for size in sizes:
        plans = bulk(size, datetime.combine(start, datetime.min.time(), UTC))
        seeded = seed(
            org.org.store,
            org.org.integration_user_id,
            f"Benchmark Partner {uuid.uuid4().hex[:6]}",
            "EMEA",
            owner,
            plans,
        )
        stages = sum(len(plan.steps) for plan in plans)
        query = f"?start={start}&end={today}&partner={seeded.account_id}"
        for name, path in (
            ("dashboard", "/metrics/"),
            ("decision log CSV", "/metrics/decisions.csv"),
            ("registrations CSV", "/metrics/registrations.csv"),
        ):
            before = usage.by_client["portal"]
            started = time.perf_counter()
            response = client.get(path + query)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.status_code
            rows.append((size, stages, name, usage.by_client["portal"] - before, elapsed))

    print(
        "Pilot metrics: Salesforce API calls and server time "
        f"({platform.node()}, Python {platform.python_version()}, local org)"
    )
    print(f"{'registrations':>13}  {'stage records':>13}  {'page':<18}  {'calls':>5}  {'time':>8}")
    for size, stages, name, calls, elapsed in rows:
        print(f"{size:>13,}  {stages:>13,}  {name:<18}  {calls:>5}  {elapsed:>7.2f}s")
    org.stop()


if __name__ == "__main__":
    main(tuple(int(size) for size in sys.argv[1:]) or SIZES)
