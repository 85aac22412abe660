"""How the phone's outbox and offline shell perform, measured in a real Chromium:

- how long the outbox takes to drain 50 queued registrations, five of them with a 5 MB
  file, into the local org once the network is back (and the Salesforce API calls it costs);
- how many bytes a repeat visit to My Deals fetches from the network when the shell is
  cached, counted from DevTools `Network.loadingFinished` events of the page and of the
  service worker (which fetches the page itself), and checked against the bytes that
  crossed the proxy.

Run: .venv/bin/python benchmarks/outbox.py
"""

from __future__ import annotations

import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from benchmarks.devtools import attach_to_service_worker  # noqa: E402
from benchmarks.page_weight import launch  # noqa: E402
from e2e.netcut import NetCut  # noqa: E402
from e2e.outbox import (  # noqa: E402
    fill_registration,
    open_form,
    outbox_size,
    registrations_of,
    replay,
    submit,
)
from portal import background, create_app, routing  # noqa: E402
from portal.mailcatcher import MailCatcher  # noqa: E402
from portal.testing import link_from  # noqa: E402
from salesforce import demo  # noqa: E402
from salesforce.connection import Connector  # noqa: E402
from salesforce.localorg.__main__ import QuietHandler, RunningOrg  # noqa: E402

PASSWORD = "benchmark-password"
ITEMS = 50
LARGE_FILES = 5
MEGABYTE = 1024 * 1024
LARGE_FILE_BYTES = 5 * MEGABYTE
SMALL_FILE_BYTES = 40 * 1024  # a photo of a business card


def pdf(size: int, seed: int) -> bytes:
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    body = (seed.to_bytes(4, "big") * (size // 4 + 1))[: size - len(head) - len(tail)]
    return head + body + tail


def measure_all() -> tuple[dict, dict]:
    """The drain of the outbox, and a repeat visit to My Deals with the shell cached."""
    org = RunningOrg(Path(tempfile.mkdtemp()), 0, PASSWORD).start()
    mailbox = MailCatcher().start()
    connector = Connector(mode="local", url=org.url, password=PASSWORD, ca_file=org.ca_file)
    sf = connector.connect()
    for name in routing.load().queues:
        demo.ensure_queue(sf, name, name.replace("_", " "))
    demo.ensure_queue(sf)
    account_id = demo.create_partner(sf, "Benchmark Partner")
    email = "bench.rep@partner.example"
    contact_id = demo.create_person(sf, account_id, "Bench", "Rep", email, "Rep")
    for number in range(20):  # My Deals with a realistic list on it
        demo.create_registration(
            sf,
            account_id=account_id,
            contact_id=contact_id,
            owner_id=demo.ensure_queue(sf),
            customer=f"Existing deal {number}",
        )

    server = make_server("localhost", 0, None, threaded=True, request_handler=QuietHandler)
    server.app = create_app(
        {
            "SALESFORCE": connector,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": mailbox.port,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "benchmark",
            "PORTAL_BASE_URL": f"http://localhost:{server.server_port}",
            "ROUTING_CHECK_OWNERS": False,
        }
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = NetCut(server.server_port).start()

    with sync_playwright() as playwright:
        browser = launch(playwright)
        device = {
            k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"
        }
        context = browser.new_context(**device, base_url=proxy.url)
        context.set_default_timeout(30_000)
        page = sign_in(context, mailbox, email, server.server_port, proxy)

        drain = measure_drain(page, proxy, org, sf, account_id)
        visit = measure_repeat_visit(browser, context, proxy)
        browser.close()

    background.wait_until_idle()
    proxy.stop()
    server.shutdown()
    mailbox.stop()
    org.stop()
    return drain, visit


def main() -> None:
    drain, visit = measure_all()
    rows = [
        ("queued registrations", f"{ITEMS}, {LARGE_FILES} with a 5 MB file"),
        ("file bytes queued", f"{drain['bytes'] / MEGABYTE:.1f} MB"),
        ("time to drain the outbox", f"{drain['seconds']:.1f} s"),
        ("registrations per second", f"{ITEMS / drain['seconds']:.1f}"),
        ("Salesforce API calls while draining", f"{drain['api_calls']}"),
        ("registrations in the org afterwards", f"{drain['records']}"),
        ("repeat visit to My Deals: bytes from the network", f"{visit['devtools']}"),
        ("  of which the page's HTML", f"{visit['html']}"),
        ("  requests answered from the cached shell", f"{visit['from_cache']}"),
        ("  bytes through the proxy, both ways", f"{visit['proxy']}"),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"Outbox and offline shell ({platform.node()}, Python {platform.python_version()})")
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")


def sign_in(context, mailbox, email: str, server_port: int, proxy: NetCut):
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("Work email").fill(email)
    seen = len(mailbox.messages)
    page.get_by_role("button", name="Email me a sign-in link").click()
    link = link_from(mailbox.wait_for(email, after=seen))
    page.goto(link.replace(f"http://localhost:{server_port}", proxy.url))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Not now").click()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    return page


def measure_drain(page, proxy: NetCut, org, sf, account_id: str) -> dict:
    """Queues ITEMS registrations with the network refused, then times the drain."""
    open_form(page)
    proxy.refuse()
    queued_bytes = 0
    for number in range(ITEMS):
        size = LARGE_FILE_BYTES if number % (ITEMS // LARGE_FILES) == 0 else SMALL_FILE_BYTES
        content = pdf(size, number)
        queued_bytes += len(content)
        open_form(page)
        proof = {"name": f"proof-{number}.pdf", "mimeType": "application/pdf", "buffer": content}
        fill_registration(page, f"Queued deal {number}", file=proof)
        outcome = submit(page)
        if outcome != "saved":
            raise SystemExit(f"item {number} was not saved on the phone: {outcome}")
    assert outbox_size(page) == ITEMS

    proxy.forward()
    calls_before = org.org.usage.total
    started = time.perf_counter()
    replay(page, "benchmark")  # one replay sends everything, oldest first
    seconds = time.perf_counter() - started
    left = outbox_size(page)
    if left:
        raise SystemExit(f"{left} items still queued after the replay")
    background.wait_until_idle()
    records = [
        r for r in registrations_of(sf, account_id) if "Queued deal" in r["End_Customer_Name__c"]
    ]
    return {
        "seconds": seconds,
        "bytes": queued_bytes,
        "api_calls": org.org.usage.total - calls_before,
        "records": len(records),
    }


def measure_repeat_visit(browser, context, proxy: NetCut) -> dict:
    """Bytes a second visit to My Deals takes from the network, the shell being cached."""
    page = context.new_page()
    page.goto("/")  # the first visit of this page: the worker already keeps the shell
    page.wait_for_load_state("networkidle")

    events = []
    page_cdp = context.new_cdp_session(page)
    for name in ("Network.responseReceived", "Network.loadingFinished"):
        page_cdp.on(name, lambda event, name=name: events.append(("page", name, event)))
    page_cdp.send("Network.enable")
    worker_cdp = attach_to_service_worker(browser, events)

    proxy.bytes_up = proxy.bytes_down = 0
    page.goto("/")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)  # the worker keeps the new copy after the page shows
    worker_cdp.poll()

    responses = {}
    finished = 0
    from_cache = 0
    for source, name, event in events:
        if name == "Network.responseReceived":
            responses[(source, event["requestId"])] = event["response"]
            if source == "page" and event["response"].get("fromServiceWorker"):
                from_cache += 1
        elif name == "Network.loadingFinished":
            response = responses.get((source, event["requestId"]), {})
            if source == "worker" or not response.get("fromServiceWorker"):
                finished += int(event["encodedDataLength"])
    html = sum(
        int(event["encodedDataLength"])
        for source, name, event in events
        if source == "worker"
        and name == "Network.loadingFinished"
        and responses.get((source, event["requestId"]), {}).get("mimeType") == "text/html"
    )
    return {
        "devtools": finished,
        "html": html,
        "from_cache": from_cache - 1,  # the navigation itself came from the network
        "proxy": proxy.bytes_up + proxy.bytes_down,
    }


if __name__ == "__main__":
    main()
