"""Fixtures for the offline tests: a phone whose network a test can really cut."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.netcut import NetCut
from portal.testing import link_from


@pytest.fixture
def netcut(live_server) -> NetCut:
    """A proxy in front of the portal, forwarding until the test cuts it."""
    proxy = NetCut(live_server.server_port).start()
    yield proxy
    proxy.stop()


@pytest.fixture(params=["Pixel 7"])
def offline_phone(request, playwright, browser, netcut):
    """A fresh phone that reaches the portal only through `netcut`."""
    device = {
        k: v for k, v in playwright.devices[request.param].items() if k != "default_browser_type"
    }
    context = browser.new_context(**device, base_url=netcut.url)
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def sign_in_offline_phone(mailbox, live_portal, netcut):
    """Signs `person` in on `context` through the proxy, and waits until the service worker
    controls the page, so forms go through the outbox. Returns the page, on My Deals."""

    def sign_in(context, person, page=None):
        page = page or context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Work email").fill(person.email)
        seen = len(mailbox.messages)
        page.get_by_role("button", name="Email me a sign-in link").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        link = link_from(mailbox.wait_for(person.email, after=seen))
        page.goto(link.replace(live_portal, netcut.url))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Not now").click()
        expect(page.get_by_role("heading", name="My deals")).to_be_visible()
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        return page

    return sign_in
