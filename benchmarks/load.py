"""A load generator on loopback: `clients` keep-alive connections, each sending the next
request as soon as the last is answered, for a set time. Each answer's Server-Timing
header gives the server's own view of it (see portal/timing.py)."""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TIMING = re.compile(r"(\w+);dur=([0-9.]+)")
# What a phone's browser asks for: the portal's time includes compressing its answer.
HEADERS = {"Accept": "text/html", "Accept-Encoding": "gzip, deflate, br"}


SERIES = ("portal_ms", "strict_ms", "cpu_ms", "salesforce_ms", "org_ms", "latency_ms")


@dataclass
class Samples:
    portal_ms: list[float] = field(default_factory=list)  # total less the Salesforce trips
    strict_ms: list[float] = field(default_factory=list)  # total less the org's own time
    cpu_ms: list[float] = field(default_factory=list)  # processor time of the request
    salesforce_ms: list[float] = field(default_factory=list)  # round trips to the org
    org_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)  # as the client saw it
    errors: int = 0
    seconds: float = 0.0

    def add(self, latency_ms: float, server_timing: str) -> None:
        parts = {name: float(value) for name, value in TIMING.findall(server_timing)}
        self.portal_ms.append(parts["total"] - parts["salesforce"])
        self.strict_ms.append(parts["total"] - parts["org"])
        self.cpu_ms.append(parts.get("cpu", 0.0))
        self.salesforce_ms.append(parts["salesforce"])
        self.org_ms.append(parts["org"])
        self.latency_ms.append(latency_ms)

    @property
    def requests(self) -> int:
        return len(self.latency_ms)

    def median(self, name: str) -> float:
        return statistics.median(getattr(self, name))

    def p90(self, name: str) -> float:
        return statistics.quantiles(getattr(self, name), n=10)[-1]


def run(url: str, cookie: str, clients: int, seconds: float, warmup: float) -> Samples:
    """Loads `url` from `clients` connections; answers during `warmup` are not kept."""
    parts = urlsplit(url)
    path = parts.path or "/"
    headers = {**HEADERS, "Cookie": cookie} if cookie else dict(HEADERS)
    samples = Samples()
    lock = threading.Lock()
    start_at = time.perf_counter() + warmup
    stop_at = start_at + seconds

    def client() -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine = Samples()
        while True:
            sent = time.perf_counter()
            if sent >= stop_at:
                break
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                mine.errors += 1
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                continue
            answered = time.perf_counter()
            if response.status != 200:
                mine.errors += 1
            elif sent >= start_at:
                mine.add((answered - sent) * 1000, response.getheader("Server-Timing", ""))
        connection.close()
        with lock:
            for name in SERIES:
                getattr(samples, name).extend(getattr(mine, name))
            samples.errors += mine.errors

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    samples.seconds = seconds
    return samples
