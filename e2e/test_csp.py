"""The strict Content-Security-Policy holds in a real browser: every page a partner goes
through, its scripts, styles, service worker and passkey ceremony, with no violation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from e2e.test_passkeys import add_authenticator, without_autofill
from portal.testing import link_from

PROOF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
# Collects what the page reports; runs before the page's own scripts, and CSP does not
# apply to scripts the browser's automation adds.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""

# What Chromium writes to the console when a policy header refuses or is wrong.
SIGNS = ("Content Security Policy", "Refused to", "Permissions-Policy")

pytestmark = pytest.mark.browser


@pytest.fixture
def pixel(playwright, browser, live_portal):
    device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
    context = browser.new_context(**device, base_url=live_portal)
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_VIOLATIONS)
    yield context
    context.close()


def test_a_partners_pages_run_without_a_single_csp_violation(pixel, partner, mailbox):
    page = pixel.new_page()
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if any(sign in message.text for sign in SIGNS) else None
        ),
    )
    seen_pages = []

    def check():
        seen_pages.append(page.url)
        violations = page.evaluate("window.__violations || []")
        assert violations == [], f"{page.url}: {violations}"

    without_autofill(page)
    add_authenticator(pixel, page)
    page.goto("/sign-in")
    check()
    page.get_by_label("Work email").fill(partner.rep.email)
    seen = len(mailbox.messages)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    check()
    page.goto(link_from(mailbox.wait_for(partner.rep.email, after=seen)))
    check()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in faster next time")).to_be_visible()
    check()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="My deals")).to_be_visible()
    check()

    page.goto("/registrations/new")
    page.get_by_label("End customer company").fill("Content Policy Ltd")
    page.get_by_label("Country").select_option("GB")
    page.get_by_label("Deal value (USD)").fill("48000")
    page.get_by_label("Product line").select_option("Analytics")
    page.get_by_label("Expected close date").fill((date.today() + timedelta(days=60)).isoformat())
    page.get_by_label("Proof or supporting file (optional)").set_input_files(
        {"name": "quote.pdf", "mimeType": "application/pdf", "buffer": PROOF}
    )
    check()
    page.get_by_role("button", name="Submit registration").click()
    expect(page.get_by_role("heading", name="Content Policy Ltd · Analytics")).to_be_visible()
    check()

    for path in ("/account/passkeys", "/", "/health/live", "/registrations/a01Hs0000000zzzIAA"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        check()

    assert refused == []
    assert len(seen_pages) >= 10
