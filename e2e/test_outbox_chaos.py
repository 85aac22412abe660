"""A partner on a flaky connection: twenty registrations and five answers with files of up
to 5 MB, while the network is cut and restored at random moments, uploads included.

Everything arrives, exactly once, byte for byte. Set CHAOS_SEED to replay a schedule."""

from __future__ import annotations

import hashlib
import os
import random
import uuid

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from simple_salesforce.format import format_soql

from e2e.outbox import (
    file_content,
    file_versions,
    fill_registration,
    open_form,
    outbox_size,
    registrations_of,
    replay,
    submit,
    wait_until,
)
from salesforce import demo

MEGABYTE = 1024 * 1024
REGISTRATIONS = 20
ANSWERS = 5
# Each registration's file size in bytes; four of them at the 5 MB this case promises.
SIZES = [5 * MEGABYTE] * 4 + [2 * MEGABYTE] * 4 + [600 * 1024] * 6 + [40 * 1024] * 6
ANSWER_SIZES = [5 * MEGABYTE, 1 * MEGABYTE, 300 * 1024, 20 * 1024, 5 * 1024]


@pytest.mark.chaos
def test_everything_arrives_once_through_a_flaky_connection(
    offline_phone, netcut, partner, sign_in_offline_phone, queue_id, sf
):
    seed = int(os.environ.get("CHAOS_SEED") or random.randrange(1 << 30))  # noqa: S311
    print(f"CHAOS_SEED={seed}")
    rng = random.Random(seed)  # noqa: S311 - test data, not a secret
    tag = uuid.uuid4().hex[:6]
    sizes = [5 * MEGABYTE, *rng.sample(SIZES[1:], len(SIZES) - 1)]
    registrations = {f"Flaky {number} {tag}": pdf(rng, size) for number, size in enumerate(sizes)}
    questions = {
        demo.create_registration(
            sf,
            account_id=partner.account_id,
            contact_id=partner.rep.id,
            owner_id=queue_id,
            customer=f"Question {number} {tag}",
            status="Needs Info",
        ): pdf(rng, size)
        for number, size in enumerate(ANSWER_SIZES)
    }
    page = sign_in_offline_phone(offline_phone, partner.rep)
    for registration_id in questions:  # so they can be answered offline
        page.goto(f"/registrations/{registration_id}")
    open_form(page)

    outcomes = []
    answers = iter(questions.items())
    for number, (customer, content) in enumerate(registrations.items()):
        if number == 0:
            netcut.refuse()  # the first two wait on the phone for certain
        elif number == 2:
            netcut.forward()
            netcut.cut_next_upload_after(MEGABYTE)  # and one upload dies half-way
        elif number == 3:
            netcut.chaos(seed)
        with_retries(lambda: open_form(page))
        proof = {"name": f"proof-{number}.pdf", "mimeType": "application/pdf", "buffer": content}
        fill_registration(page, customer, file=proof)
        outcomes.append(submit(page))
        if number % 4 == 3:
            registration_id, answer_file = next(answers)
            outcomes.append(answer(page, registration_id, answer_file))
    netcut.stop_chaos()
    sent, saved = outcomes.count("sent"), outcomes.count("saved")
    print(f"{sent} sent at once, {saved} saved on the phone, {netcut.uploads_cut} uploads cut")
    wait_until(lambda: outbox_size(page) == 0, timeout_seconds=180, every=lambda: replay(page))
    records = {
        record["End_Customer_Name__c"]: record
        for record in registrations_of(sf, partner.account_id)
    }
    assert len(records) == REGISTRATIONS + ANSWERS  # no duplicates: names are unique
    assert "refused" not in outcomes
    assert outcomes[:2] == ["saved", "saved"]
    assert netcut.uploads_cut >= 1
    keys = {records[customer]["Submission_Key__c"] for customer in registrations}
    assert len(keys) == REGISTRATIONS
    for customer, content in registrations.items():
        [version_id] = file_versions(records[customer])
        assert digest(file_content(sf, version_id)) == digest(content), customer
    for registration_id, content in questions.items():
        assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "In Review"
        assert answer_stages(sf, registration_id) == 1
        [record] = [r for r in records.values() if r["Id"] == registration_id]
        [version_id] = file_versions(record)
        assert digest(file_content(sf, version_id)) == digest(content)


def answer(page, registration_id: str, content: bytes) -> str:
    with_retries(lambda: open_answer_form(page, registration_id))
    page.get_by_role("textbox", name="Your answer").fill(
        "The CFO signs; the org chart is attached."
    )
    page.get_by_label("Supporting file (optional)").set_input_files(
        {"name": "org-chart.pdf", "mimeType": "application/pdf", "buffer": content}
    )
    return submit(page, button="Send answer")


def open_answer_form(page, registration_id: str) -> None:
    page.goto(f"/registrations/{registration_id}")
    expect(page.locator("form[data-outbox='answer'][data-outbox-ready]")).to_have_count(1)


def with_retries(action, attempts: int = 5):
    """A navigation can die with the connection half-way through the page, as on a phone."""
    for attempt in range(attempts):
        try:
            return action()
        except (PlaywrightError, AssertionError):
            if attempt == attempts - 1:
                raise
    return None


def answer_stages(sf, registration_id: str) -> int:
    statement = format_soql(
        "SELECT COUNT() FROM Deal_Registration_Stage__c "
        "WHERE Registration__c = {} AND To_Status__c = 'In Review'",
        registration_id,
    )
    return sf.query(statement)["totalSize"]


def pdf(rng: random.Random, size: int) -> bytes:
    """`size` bytes that the portal's upload check takes for a PDF, random inside."""
    head, tail = b"%PDF-1.7\n", b"\n%%EOF\n"
    return head + rng.randbytes(size - len(head) - len(tail)) + tail


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
