"""Helpers for the tests and the benchmark that drive the outbox from a phone."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from simple_salesforce.format import format_soql

import portal
from portal import assets

REGISTRATION_PAGE = re.compile(r"/registrations/[A-Za-z0-9]{18}$")
OUTCOME = "[data-outbox-notice]"


def open_form(page) -> None:
    """Opens the registration form, from the network or this phone's copy, ready to send
    through the outbox."""
    page.goto("/registrations/new")
    expect(page.locator("form[data-outbox][data-outbox-ready]")).to_have_count(1)


def fill_registration(page, customer: str, value: str = "48000", file: dict | None = None):
    page.get_by_label("End customer company").fill(customer)
    page.get_by_label("Country").select_option("GB")
    page.get_by_label("Deal value (USD)").fill(value)
    page.get_by_label("Product line").select_option("Analytics")
    page.get_by_label("Expected close date").fill((date.today() + timedelta(days=60)).isoformat())
    if file:
        page.get_by_label("Proof or supporting file (optional)").set_input_files(file)


def submit(page, button: str = "Submit registration", timeout_seconds: float = 90) -> str:
    """Taps the form's button; 'sent' once the portal confirmed it and the registration
    page opened, 'saved' or 'refused' when the page says the form waits on this phone."""
    page.evaluate("() => { window.beforeSubmit = true; }")
    page.get_by_role("button", name=button).click()
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        try:
            left = page.evaluate("() => !window.beforeSubmit")
            if left and REGISTRATION_PAGE.search(page.url):
                return "sent"
            outcome = page.locator(OUTCOME).get_attribute("data-outbox-notice", timeout=100)
            if outcome in ("saved", "refused"):
                return outcome
        except PlaywrightError:
            pass  # no outcome yet, or the page is navigating
        page.wait_for_timeout(100)
    raise AssertionError(f"no outcome for the submission within {timeout_seconds} s")


STATIC_FILES = assets.build(Path(portal.__file__).parent / "static")


def static_url(name: str) -> str:
    """The digested address of a static file, as pages and the worker's shell name it: a
    module imported under its plain name is a second copy, fetched from the network."""
    return f"/static/{STATIC_FILES[name].digested_name}"


def outbox_size(page) -> int:
    """How many items wait in this phone's outbox, whoever they belong to."""
    return page.evaluate(
        "(url) => import(url).then((store) => store.count())", static_url("sw/store.js")
    )


def replay(page, reason: str = "test") -> dict:
    """Asks the worker for a replay, the way a page load or the `online` event does, and
    waits for it to finish."""
    return page.evaluate(
        """([url, reason]) => import(url).then(
            (client) => client.ask('replay', {reason}, {timeoutMs: 300000}))""",
        [static_url("worker-client.js"), reason],
    )


def wait_until(check, timeout_seconds: float = 30, every=None, message: str = ""):
    """Polls `check()` until it is truthy; calls `every()` between polls."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(message or "condition not met in time")
        if every:
            every()
        time.sleep(0.25)


def registrations_named(sf, account_id: str, customer: str) -> list[dict]:
    statement = format_soql(
        "SELECT Id, Submission_Key__c, Submitted_By__c, Deal_Value__c, "
        "(SELECT ContentDocument.LatestPublishedVersionId FROM ContentDocumentLinks) "
        "FROM Deal_Registration__c WHERE Partner_Account__c = {} AND End_Customer_Name__c = {}",
        account_id,
        customer,
    )
    return sf.query(statement)["records"]


def registrations_of(sf, account_id: str) -> list[dict]:
    statement = format_soql(
        "SELECT Id, End_Customer_Name__c, Submission_Key__c, Submitted_By__c, "
        "(SELECT ContentDocument.LatestPublishedVersionId FROM ContentDocumentLinks) "
        "FROM Deal_Registration__c WHERE Partner_Account__c = {}",
        account_id,
    )
    return sf.query_all(statement)["records"]


def file_versions(record: dict) -> list[str]:
    links = (record.get("ContentDocumentLinks") or {}).get("records", [])
    return [link["ContentDocument"]["LatestPublishedVersionId"] for link in links]


def file_content(sf, version_id: str) -> bytes:
    response = sf.session.get(
        f"{sf.base_url}sobjects/ContentVersion/{version_id}/VersionData", headers=sf.headers
    )
    response.raise_for_status()
    return response.content
