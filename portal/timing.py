"""The portal's own time for each answer, told apart from the time spent on Salesforce.

With `SERVER_TIMING` on, every answer carries a Server-Timing header:
`total` (from the request's arrival in the app to its answer, compressed and ready),
`salesforce` (the round trips to the org within it), `org` (the org's own share of those,
as it reports it) and `cpu` (the processor time the request's thread used). The portal's
own time is `total` less `salesforce`; `cpu` is its cost without waiting for anything.
"""

from __future__ import annotations

import time

from flask import Flask, g

from salesforce import timing as salesforce_timing


def init_app(app: Flask) -> None:
    """Registered first, so that its clock starts before and stops after everything else."""
    if not app.config["SERVER_TIMING"]:
        return

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()
        g.request_cpu_started = time.thread_time()
        salesforce_timing.start()

    @app.after_request
    def report_time(response):
        started = g.get("request_started")
        tally = salesforce_timing.current()
        if started is None or tally is None:
            return response
        total_ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.thread_time() - g.request_cpu_started) * 1000
        response.headers["Server-Timing"] = (
            f"total;dur={total_ms:.3f}, salesforce;dur={tally.round_trip_ms:.3f}, "
            f"org;dur={tally.org_ms:.3f}, cpu;dur={cpu_ms:.3f}"
        )
        return response
