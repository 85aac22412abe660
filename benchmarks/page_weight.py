"""What a phone downloads to show a page, counted on the wire in a real Chromium.

The portal is reached through a TCP proxy (`e2e/netcut.py`) that counts every byte it
passes back to the phone: headers and bodies, the page and everything it loads, and the
service worker installing the offline shell on a first visit. DevTools events of the page
and of the worker tell which requests reached the network and which were answered from
the worker's cache."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.devtools import attach_to_service_worker
from e2e.netcut import NetCut

SYSTEM_CHROMIUM = "/usr/bin/chromium"
PHONE = "Pixel 7"
SETTLE_MS = 750  # after the network is idle: the worker may still be keeping copies


def launch(playwright):
    path = SYSTEM_CHROMIUM if Path(SYSTEM_CHROMIUM).exists() else shutil.which("chromium")
    return playwright.chromium.launch(**({"executable_path": path} if path else {}))


@dataclass
class Visit:
    bytes_down: int  # server to phone, headers included
    network_requests: list[str] = field(default_factory=list)  # URLs fetched from the network
    by_type: dict[str, int] = field(default_factory=dict)  # bytes per resource type


def visits(
    playwright, target_port: int, cookie: str, path: str, service_workers: bool = True
) -> tuple[Visit, Visit]:
    """A first visit to `path` with nothing cached, then a repeat visit in the same browser."""
    proxy = NetCut(target_port).start()
    browser = launch(playwright)
    try:
        device = {k: v for k, v in playwright.devices[PHONE].items() if k != "default_browser_type"}
        context = browser.new_context(
            **device,
            base_url=proxy.url,
            service_workers="allow" if service_workers else "block",
        )
        context.set_default_timeout(30_000)
        if cookie:
            name, value = cookie.split("=", 1)
            context.add_cookies([{"name": name, "value": value, "url": proxy.url}])
        first = _visit(browser, context, proxy, path, service_workers, first=True)
        repeat = _visit(browser, context, proxy, path, service_workers, first=False)
        context.close()
    finally:
        browser.close()
        proxy.stop()
    return first, repeat


def _visit(browser, context, proxy: NetCut, path: str, service_workers: bool, first: bool):
    page = context.new_page()
    events: list = []
    cdp = context.new_cdp_session(page)
    for name in ("Network.responseReceived", "Network.loadingFinished"):
        cdp.on(name, lambda event, name=name: events.append(("page", name, event)))
    cdp.send("Network.enable")
    worker = None
    if service_workers and not first:
        worker = attach_to_service_worker(browser, events)
    proxy.bytes_up = proxy.bytes_down = 0

    page.goto(path)
    page.wait_for_load_state("networkidle")
    if service_workers and first:
        # The offline shell is part of the first visit: wait until the worker has it.
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_load_state("networkidle")
    page.wait_for_timeout(SETTLE_MS)
    if worker is not None:
        worker.poll()
    visit = Visit(bytes_down=proxy.bytes_down)

    responses = {}
    for source, name, event in events:
        key = (source, event["requestId"])
        if name == "Network.responseReceived":
            responses[key] = (event["response"], event.get("type", ""))
            continue
        response, kind = responses.get(key, ({}, ""))
        cached = response.get("fromDiskCache") or response.get("fromPrefetchCache")
        if source == "page" and response.get("fromServiceWorker"):
            continue  # answered by the worker: its own fetch, if any, is counted below
        if cached or not response:
            continue
        visit.network_requests.append(response.get("url", ""))
        label = kind or response.get("mimeType", "other")
        visit.by_type[label] = visit.by_type.get(label, 0) + int(event["encodedDataLength"])
    page.close()
    return visit
