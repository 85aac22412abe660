"""The installed app on a phone whose network really drops: what a partner submits is
never lost and never sent twice.

The browser reaches the portal through a proxy the test cuts (`netcut`); every assertion
about delivery counts records in the org."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.sync_api import expect

from e2e.outbox import (
    STATIC_FILES,
    file_content,
    file_versions,
    fill_registration,
    open_form,
    outbox_size,
    registrations_named,
    replay,
    static_url,
    submit,
    wait_until,
)
from salesforce import demo

# Blink plays both phones, so one profile is enough for most cases; these run on both.
BOTH_PHONES = pytest.mark.parametrize("offline_phone", ["Pixel 7", "iPhone 13"], indirect=True)


def customer_name(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:8]}"


@BOTH_PHONES
def test_registration_submitted_offline_is_sent_once_when_back(
    offline_phone, netcut, partner, sign_in_offline_phone, sf
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    open_form(page)
    customer = customer_name("Offline Co")

    netcut.refuse()
    fill_registration(page, customer)
    assert submit(page) == "saved"
    expect(page.locator("[data-outbox-notice]")).to_contain_text(
        "Saved on this phone, will be sent automatically"
    )
    expect(page.locator("[data-outbox-status]")).to_contain_text("1 form saved on this phone")
    assert registrations_named(sf, partner.account_id, customer) == []

    netcut.forward()
    page.reload()
    records = wait_until(lambda: registrations_named(sf, partner.account_id, customer))
    assert len(records) == 1
    assert records[0]["Submitted_By__c"] == partner.rep.id
    wait_until(lambda: outbox_size(page) == 0)
    replay(page)
    assert len(registrations_named(sf, partner.account_id, customer)) == 1


@BOTH_PHONES
def test_pages_opened_before_are_readable_offline_by_their_owner_only(
    offline_phone, netcut, partner, sign_in_offline_phone, queue_id, sf
):
    customer = customer_name("Readable Co")
    registration_id = demo.create_registration(
        sf,
        account_id=partner.account_id,
        contact_id=partner.rep.id,
        owner_id=queue_id,
        customer=customer,
    )
    page = sign_in_offline_phone(offline_phone, partner.rep)
    page.get_by_text(customer).click()
    expect(page.get_by_role("heading", name=customer)).to_be_visible()
    # My Deals had the worker fetch the registration form ahead, never opened.
    page.wait_for_function("() => caches.match('/registrations/new').then(Boolean)")

    netcut.refuse()
    page.goto("/registrations/new")
    expect(page.get_by_role("heading", name="Register a deal")).to_be_visible()
    expect(page.locator("form[data-outbox][data-outbox-ready]")).to_have_count(1)
    page.goto("/")
    expect(page.get_by_text(customer)).to_be_visible()
    expect(page.locator("[data-offline-notice]")).to_contain_text("Offline copy, saved on")
    assert page.locator("[data-offline-notice] time").get_attribute("datetime")
    page.goto(f"/registrations/{registration_id}")
    expect(page.get_by_role("heading", name=customer)).to_be_visible()
    assert page.locator('meta[name="csrf-token"]').get_attribute("content") == ""
    assert page.locator('input[name="csrf_token"][value]:not([value=""])').count() == 0
    page.goto("/account/passkeys")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()

    netcut.forward()
    page.goto("/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    colleague_page = sign_in_offline_phone(offline_phone, partner.colleague, page)
    netcut.refuse()
    colleague_page.goto(f"/registrations/{registration_id}")
    expect(colleague_page.get_by_role("heading", name="You are offline")).to_be_visible()
    colleague_page.goto("/")
    expect(colleague_page.get_by_role("heading", name="My deals")).to_be_visible()
    expect(colleague_page.get_by_text(customer)).to_have_count(0)


def test_an_offline_copy_from_an_earlier_release_gets_this_releases_files(
    offline_phone, netcut, partner, sign_in_offline_phone
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    # A copy saved before an update names the stylesheet by a digest the shell lacks.
    earlier = re.sub(r"\.[0-9a-f]{12}\.", ".000000000000.", static_url("app.css"))

    netcut.refuse()
    status, text = page.evaluate(
        "(url) => fetch(url).then(async (answer) => [answer.status, await answer.text()])",
        earlier,
    )
    copy = page.goto("/")

    assert status == 200
    assert text == STATIC_FILES["app.css"].body.decode()
    expect(page.locator("[data-offline-notice]")).to_contain_text("Offline copy, saved on")
    # The copy is shown under the page's own security headers.
    assert "frame-ancestors 'none'" in copy.headers["content-security-policy"]


def test_overlapping_replay_triggers_send_once(
    offline_phone, netcut, partner, sign_in_offline_phone, sf
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    open_form(page)
    customer = customer_name("Overlap Co")
    netcut.refuse()
    fill_registration(page, customer)
    assert submit(page) == "saved"
    posts = count_posts(offline_phone)
    cdp, registration_id = worker_registration(offline_phone, page)

    netcut.latency_seconds = 0.3  # each send takes a while, so the triggers overlap
    netcut.forward()
    page.evaluate("() => { for (let i = 0; i < 3; i += 1) dispatchEvent(new Event('online')); }")
    second = offline_phone.new_page()
    second.goto("/")
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {
            "origin": netcut.url,
            "registrationId": registration_id,
            "tag": "outbox",
            "lastChance": False,
        },
    )
    page.evaluate(
        """(url) => import(url).then((client) => Promise.all(
            [1, 2, 3].map(() => client.ask('replay', {reason: 'test'}, {timeoutMs: 60000}))))""",
        static_url("worker-client.js"),
    )

    wait_until(lambda: outbox_size(page) == 0)
    assert len(registrations_named(sf, partner.account_id, customer)) == 1
    assert len(posts) == 1


def test_session_ended_while_offline_loses_nothing_and_sends_after_sign_in(
    offline_phone, netcut, partner, sign_in_offline_phone, sf
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    open_form(page)
    customer = customer_name("Expired Session Co")
    netcut.refuse()
    fill_registration(page, customer)
    assert submit(page) == "saved"

    offline_phone.clear_cookies()  # the session ends while the phone has no network
    netcut.forward()
    report = replay(page)

    assert report["stopped"] == "sign-in-required"
    expect(page.locator("[data-outbox-status]")).to_contain_text("Sign in again to send them")
    assert registrations_named(sf, partner.account_id, customer) == []
    assert outbox_size(page) == 1
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("[data-outbox-status]")).to_contain_text("Sign in to send them")

    sign_in_offline_phone(offline_phone, partner.rep, page)
    [record] = wait_until(lambda: registrations_named(sf, partner.account_id, customer))
    assert record["Submitted_By__c"] == partner.rep.id
    wait_until(lambda: outbox_size(page) == 0)


def test_expired_csrf_token_is_replaced_and_the_item_sent(
    offline_phone, netcut, partner, sign_in_offline_phone, live_app, sf
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    open_form(page)
    customer = customer_name("Stale Token Co")
    netcut.refuse()
    fill_registration(page, customer)
    assert submit(page) == "saved"
    expired = expired_csrf_token(live_app, offline_phone)
    answers = []

    def first_with_expired_token(route):
        if route.request.method != "POST":
            return route.continue_()
        if answers:
            answers.append(("fresh", None))
            return route.continue_()
        response = route.fetch(headers={**route.request.headers, "x-csrftoken": expired})
        answers.append((response.status, response.json()["error"]))
        return route.fulfill(response=response)

    offline_phone.route("**/registrations/new", first_with_expired_token)
    netcut.forward()
    replay(page)

    assert answers == [(400, "form-expired"), ("fresh", None)]
    assert len(registrations_named(sf, partner.account_id, customer)) == 1
    assert outbox_size(page) == 0


def test_refused_item_waits_for_the_partner_who_fixes_and_sends_it(
    offline_phone, netcut, partner, sign_in_offline_phone, sf
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    open_form(page)
    customer = customer_name("Refused Co")
    proof = {"name": "proof.pdf", "mimeType": "application/pdf", "buffer": PROOF}
    netcut.refuse()
    fill_registration(page, customer, value="0", file=proof)
    assert submit(page) == "saved"

    netcut.forward()
    replay(page)
    page.goto("/")
    saved = page.locator(".saved-item", has_text=customer)
    expect(saved).to_contain_text("Needs your attention")
    expect(saved).to_contain_text("Enter a value above 0.")
    expect(page.locator("[data-outbox-status]")).to_contain_text("1 form needs your attention")
    assert registrations_named(sf, partner.account_id, customer) == []

    saved.get_by_role("link", name="Fix and send").click()
    expect(page.get_by_label("End customer company")).to_have_value(customer)
    expect(page.locator(".field.has-error")).to_contain_text("Enter a value above 0.")
    page.get_by_label("Deal value (USD)").fill("52000")
    assert submit(page) == "sent"

    [record] = registrations_named(sf, partner.account_id, customer)
    assert record["Deal_Value__c"] == 52000
    [version_id] = file_versions(record)
    assert file_content(sf, version_id) == PROOF
    assert outbox_size(page) == 0


def test_second_person_on_the_phone_never_sends_the_first_persons_items(
    offline_phone, netcut, partner, sign_in_offline_phone, sf
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    open_form(page)
    customer = customer_name("First Person Co")
    netcut.refuse()
    fill_registration(page, customer)
    assert submit(page) == "saved"
    offline_phone.route("**/registrations/new", portal_failing)
    netcut.forward()

    page.goto("/")
    warnings = []
    page.once("dialog", lambda dialog: (warnings.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Sign out").click()
    wait_for(page, lambda: warnings)
    assert "1 form saved on this phone is not sent yet" in warnings[0]
    expect(page.get_by_role("heading", name="My deals")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    offline_phone.unroute("**/registrations/new", portal_failing)
    posts = count_posts(offline_phone)
    page = sign_in_offline_phone(offline_phone, partner.colleague, page)
    replay(page)
    assert posts == []
    assert registrations_named(sf, partner.account_id, customer) == []
    assert outbox_size(page) == 1
    expect(page.locator("[data-outbox-status]")).to_be_hidden()
    page.get_by_role("button", name="Sign out").click()  # no dialog: nothing of theirs waits
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    sign_in_offline_phone(offline_phone, partner.rep, page)
    [record] = wait_until(lambda: registrations_named(sf, partner.account_id, customer))
    assert record["Submitted_By__c"] == partner.rep.id
    assert len(posts) == 1


def test_queued_items_survive_an_app_update_and_are_sent(
    offline_phone, netcut, partner, sign_in_offline_phone, live_app, sf
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    customers = [customer_name("Update Co"), customer_name("Update Co")]
    open_form(page)
    netcut.refuse()
    for customer in customers:
        open_form(page)
        fill_registration(page, customer)
        assert submit(page) == "saved"
    offline_phone.route("**/registrations/new", portal_failing)
    netcut.forward()
    before = worker_version(page)

    released = live_app.config.get("SHELL_VERSION")
    live_app.config["SHELL_VERSION"] = f"update-{uuid.uuid4().hex[:8]}"
    try:
        page.goto("/")
        page.evaluate("() => navigator.serviceWorker.getRegistration().then((r) => r.update())")
        with page.expect_navigation():  # the new worker takes over, the page reloads
            page.get_by_role("button", name="Update now").click()
        page.wait_for_load_state()
        after = worker_version(page)
        assert after == live_app.config["SHELL_VERSION"]
    finally:
        live_app.config["SHELL_VERSION"] = released
    assert after != before
    assert outbox_size(page) == 2

    offline_phone.unroute("**/registrations/new", portal_failing)
    replay(page)
    for customer in customers:
        assert len(registrations_named(sf, partner.account_id, customer)) == 1
    assert outbox_size(page) == 0


def test_a_schema_upgrade_keeps_queued_items_and_their_files(
    offline_phone, netcut, partner, sign_in_offline_phone, sf
):
    page = sign_in_offline_phone(offline_phone, partner.rep)
    open_form(page)
    customer = customer_name("Migrated Co")
    proof = {"name": "proof.pdf", "mimeType": "application/pdf", "buffer": PROOF}
    netcut.refuse()
    fill_registration(page, customer, file=proof)
    assert submit(page) == "saved"

    # A later release adds a store: a fresh copy of the store module with one more
    # migration opens the database while the worker still holds it open.
    kept = page.evaluate(
        """async (url) => {
            const store = await import(url + '?next-release');
            store.MIGRATIONS.push((db) => db.createObjectStore('next-release'));
            const [item] = await store.list();
            const full = await store.get(item.key);
            return {count: await store.count(), bytes: full.files[0].data.byteLength};
        }""",
        static_url("sw/store.js"),
    )
    netcut.forward()
    replay(page)

    assert kept == {"count": 1, "bytes": len(PROOF)}
    [record] = wait_until(lambda: registrations_named(sf, partner.account_id, customer))
    assert file_content(sf, file_versions(record)[0]) == PROOF


# -- helpers --------------------------------------------------------------------------

PROOF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"


def portal_failing(route):
    """The portal answers every post with 503, as when it cannot reach the deal records."""
    if route.request.method != "POST":
        return route.continue_()
    return route.fulfill(status=503, json={"error": "unavailable", "message": "try later"})


def count_posts(context) -> list:
    """The posts of the registration form that leave the phone from now on."""
    posts = []

    def count(route):
        if route.request.method == "POST":
            posts.append(route.request.url)
        route.continue_()

    context.route("**/registrations/new", count)
    return posts


def worker_version(page) -> str:
    return page.evaluate(
        "(url) => import(url).then((client) => client.ask('version'))",
        static_url("worker-client.js"),
    )


def worker_registration(context, page) -> tuple:
    """A DevTools session with the ServiceWorker domain on, and the ID of the page's
    service worker registration, to fire sync events at it."""
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    wait_for(page, lambda: registrations)
    return cdp, registrations[0]["registrationId"]


def wait_for(page, check, timeout_ms: int = 5_000):
    """Waits for `check()` while letting Playwright deliver events (dialogs, DevTools)."""
    for _ in range(timeout_ms // 100):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the event did not come")


def expired_csrf_token(app, context) -> str:
    """A CSRF token of the phone's session, signed thirteen hours ago: expired."""

    class ThirteenHoursAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 13 * 60 * 60

    [cookie] = [c for c in context.cookies() if c["name"] == app.config["SESSION_COOKIE_NAME"]]
    session = app.session_interface.get_signing_serializer(app).loads(cookie["value"])
    serializer = URLSafeTimedSerializer(
        app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key,
        salt="wtf-csrf-token",
        signer=ThirteenHoursAgo,
    )
    return serializer.dumps(session["csrf_token"])
