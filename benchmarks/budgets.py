"""Every performance budget of the portal, measured in one run and printed as a table:
the budget, the figure measured, pass or fail. Beside the portal, in the same run: a
minimal Flask page served the same way (the floor for server time), and the portal with
compression, digested static names and the offline shell turned off (what they save).

Run: scripts/benchmark   (installs what it needs, then runs this file)

Everything runs on this machine, on loopback: the local org in a process of its own, the
portal under gunicorn with `gunicorn.conf.py`, Debian's Chromium for page weight and
Lighthouse, and a load generator for server time. Exits non-zero when a budget is missed.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import subprocess  # nosec B404 - asks Chromium and Node for their versions
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks import api_calls, lighthouse_runs, load, outbox, page_weight  # noqa: E402
from benchmarks.stack import Stack  # noqa: E402

KB = 1000  # page weight in kilobytes of 1,000 bytes, as Lighthouse and DevTools count
PAGE_WEIGHT_KB = 60
LIGHTHOUSE_MIN = {"performance": 0.95, "accessibility": 1.0, "best-practices": 1.0}
SERVER_TIME_MS = 15
CLIENTS = 20
DRAIN_SECONDS = 20
DEALS_ON_MY_DEALS = 20

# (budget, action as benchmarks/api_calls.py names it, most calls allowed)
API_CALL_BUDGETS = [
    ("My Deals", "My Deals", 1),
    ("registration page", "registration page", 1),
    ("submit without a file", "submit a registration without a file", 1),
    ("submit with one file", "submit a registration with a file", 2),
    ("needs-info answer (with a file)", "answer the question, with a file", 2),
    ("a decision: ask for information", "a decision (ask for information)", 1),
    ("a decision: approve", "a decision (approve)", 1),
    ("passkey sign-in", "sign in with a passkey (options, then the answer)", 2),
    ("signed-in page view, for identity", "a signed-in page with no records (passkeys offer)", 0),
    ("registration form", "registration form", 0),
]


@dataclass
class Row:
    group: str
    budget: str
    measured: str
    passed: bool | None  # None: stated, not budgeted

    @property
    def result(self) -> str:
        return {True: "pass", False: "FAIL", None: "stated"}[self.passed]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="load per page (default 20)")
    parser.add_argument("--lighthouse-runs", type=int, default=3, help="runs per page (3)")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the portal's own log lines; the table says it all

    rows: list[Row] = []
    side: dict[str, dict[str, str]] = {}
    stack = Stack().start()
    try:
        measure_served(stack, args, rows, side)
    finally:
        stack.stop()
    rows += measure_api_calls()
    rows += measure_outbox()

    print(machine())
    print()
    print(budget_table(rows))
    print()
    print(side_by_side(side))
    if any(row.passed is False for row in rows):
        sys.exit(1)


def measure_served(stack: Stack, args, rows: list[Row], side: dict) -> None:
    email = stack.partner_with_deals(DEALS_ON_MY_DEALS)
    portal = stack.portal("portal", SERVER_TIMING="true")
    plain = stack.portal(
        "plain portal", COMPRESS_RESPONSES="false", STATIC_DIGESTS="false", SERVER_TIMING="true"
    )
    minimal = stack.portal("minimal Flask page", WSGI_APP="benchmarks.minimal:app")
    cookie = f"session={stack.sign_in(portal, email).cookies['session']}"
    plain_cookie = f"session={stack.sign_in(plain, email).cookies['session']}"
    pages = {
        "My Deals": "/",
        "registration form": "/registrations/new",
        "registration page": f"/registrations/{stack.registration_ids[0]}",
    }
    portal_column = side.setdefault("portal", {})
    plain_column = side.setdefault("portal without compression, digests or offline shell", {})
    minimal_column = side.setdefault("minimal Flask page", {})

    with sync_playwright() as playwright:
        for name, path in pages.items():
            first, repeat = page_weight.visits(playwright, portal.port, cookie, path)
            plain_first, plain_repeat = page_weight.visits(
                playwright, plain.port, plain_cookie, path, service_workers=False
            )
            page_bytes = sum(first.by_type.values())
            rows.append(
                Row(
                    "page weight",
                    f"{name}, first visit: at most {PAGE_WEIGHT_KB} KB in all",
                    f"{first.bytes_down / KB:.1f} KB: the page {page_bytes / KB:.1f} KB, "
                    f"the offline shell {(first.bytes_down - page_bytes) / KB:.1f} KB",
                    first.bytes_down <= PAGE_WEIGHT_KB * KB,
                )
            )
            fetched = [url for url in repeat.network_requests if not url.startswith("data:")]
            only_pages = all("/static/" not in url and "manifest" not in url for url in fetched)
            rows.append(
                Row(
                    "page weight",
                    f"{name}, repeat visit: only HTML from the network",
                    f"{len(fetched)} request(s), {repeat.bytes_down / KB:.1f} KB: "
                    + ", ".join(path_of(url) for url in fetched),
                    only_pages,
                )
            )
            portal_column[f"{name}: first visit"] = (
                f"{first.bytes_down / KB:.1f} KB (the page {page_bytes / KB:.1f} KB)"
            )
            portal_column[f"{name}: repeat visit"] = (
                f"{repeat.bytes_down / KB:.1f} KB, {len(fetched)} request(s)"
            )
            plain_fetched = [u for u in plain_repeat.network_requests if not u.startswith("data:")]
            plain_column[f"{name}: first visit"] = (
                f"{plain_first.bytes_down / KB:.1f} KB (no offline shell)"
            )
            plain_column[f"{name}: repeat visit"] = (
                f"{plain_repeat.bytes_down / KB:.1f} KB, {len(plain_fetched)} request(s)"
            )
            minimal_column[f"{name}: first visit"] = "-"
            minimal_column[f"{name}: repeat visit"] = "-"

    for name, path in {"sign-in": "/sign-in", **pages}.items():
        scores = lighthouse_runs.median_scores(
            portal.url + path, "" if path == "/sign-in" else cookie, args.lighthouse_runs
        )
        passed = all(scores[c] >= minimum for c, minimum in LIGHTHOUSE_MIN.items())
        measured = " / ".join(f"{scores[c]:.2f}" for c in LIGHTHOUSE_MIN)
        if not passed and scores["failing"]:
            measured += " (below 1: " + ", ".join(scores["failing"]) + ")"
        rows.append(
            Row(
                "Lighthouse",
                f"{name}: performance ≥ 0.95 / accessibility 1 / best practices 1",
                f"{measured}, median of {args.lighthouse_runs}",
                passed,
            )
        )

    floor = load.run(minimal.url + "/", "", CLIENTS, args.seconds, warmup=3)
    for name in ("My Deals", "registration form"):
        samples = load.run(portal.url + pages[name], cookie, CLIENTS, args.seconds, warmup=3)
        rows.append(
            Row(
                "server time",
                f"{name}: portal's own time ≤ {SERVER_TIME_MS} ms median, {CLIENTS} clients",
                f"{samples.median('portal_ms'):.1f} ms (p90 {samples.p90('portal_ms'):.1f}); "
                f"processor {samples.median('cpu_ms'):.1f} ms; Salesforce round trip "
                f"{samples.median('salesforce_ms'):.1f} ms, the org's own "
                f"{samples.median('org_ms'):.1f} ms; {samples.requests / samples.seconds:.0f} "
                f"requests/s, {samples.errors} errors",
                samples.median("portal_ms") <= SERVER_TIME_MS and samples.errors == 0,
            )
        )
        plain_samples = load.run(plain.url + pages[name], plain_cookie, CLIENTS, args.seconds, 3)
        for column, measured in (
            (portal_column, samples),
            (plain_column, plain_samples),
            (minimal_column, floor),
        ):
            column[f"{name}: server's own time, median (p90)"] = timing(measured)
            column[f"{name}: answer time at the client, median"] = (
                f"{measured.median('latency_ms'):.1f} ms"
            )
            column[f"{name}: requests per second"] = f"{measured.requests / measured.seconds:.0f}"
    workers = portal.memory_mb()
    rows.append(
        Row(
            "server time",
            "memory per portal process (gunicorn worker, after the load)",
            ", ".join(f"{size:.0f} MB" for size in workers)
            + f" ({len(workers)} workers × {os.environ.get('GUNICORN_THREADS', '8')} threads)",
            None,
        )
    )
    portal_column["memory per worker"] = f"{max(workers):.0f} MB"
    minimal_column["memory per worker"] = f"{max(minimal.memory_mb()):.0f} MB"
    plain_column["memory per worker"] = f"{max(plain.memory_mb()):.0f} MB"


def timing(samples: load.Samples) -> str:
    return f"{samples.median('portal_ms'):.2f} ms ({samples.p90('portal_ms'):.2f} ms)"


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3] if url.count("/") >= 3 else url


def measure_api_calls() -> list[Row]:
    counted = dict(api_calls.measure_all())
    return [
        Row(
            "Salesforce API calls",
            f"{budget}: at most {allowed}",
            str(counted[action]),
            counted[action] <= allowed,
        )
        for budget, action, allowed in API_CALL_BUDGETS
    ]


def measure_outbox() -> list[Row]:
    drain, _ = outbox.measure_all()
    return [
        Row(
            "outbox",
            f"{outbox.ITEMS} queued items, {outbox.LARGE_FILES} with a 5 MB file, drain in "
            f"under {DRAIN_SECONDS} s",
            f"{drain['seconds']:.1f} s; {drain['records']} registrations in the org, none twice",
            drain["seconds"] < DRAIN_SECONDS and drain["records"] == outbox.ITEMS,
        )
    ]


def budget_table(rows: list[Row]) -> str:
    lines = ["| | budget | measured | result |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.group} | {row.budget} | {row.measured} | {row.result} |")
    return "\n".join(lines)


def side_by_side(side: dict[str, dict[str, str]]) -> str:
    columns = list(side)
    measures = list(side[columns[0]])
    lines = [
        "| | " + " | ".join(columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for measure in measures:
        cells = [side[column].get(measure, "-") for column in columns]
        lines.append(f"| {measure} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{os.cpu_count()} cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GB, "
        f"{platform.platform(terse=True)}, Python {platform.python_version()}, "
        f"{version_of(page_weight.SYSTEM_CHROMIUM)}, Node {version_of('node')}, "
        f"Lighthouse {lighthouse_runs.version()}."
    )


def version_of(program: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603  # nosec B603 - fixed arguments
            [program, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return f"{program}: not found"
    return done.stdout.strip() or done.stderr.strip()


if __name__ == "__main__":
    main()
