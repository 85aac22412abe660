"""Hostile values through every form and replay route: stored exactly as typed, shown
escaped, never changing a query, never a 500; what Salesforce cannot keep (control
characters) gets a field error instead."""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from markupsafe import escape
from simple_salesforce.format import format_soql

from portal import background, testing
from tests.softauthn import SoftAuthenticator
from tests.test_passkeys import ORIGIN, add_passkey, csrf, passkeys_of
from tests.test_registrations import NEW, form_data, registrations_with_key
from tests.test_workflow import act, approver, partner_act, submit  # noqa: F401 - fixture

# Values a person can type that break naive code: SOQL and SQL metacharacters, quotes and
# backslashes, markup and script, template syntax, bidirectional text, emoji sequences,
# invisible characters, and a value of exactly the largest length the field holds.
HOSTILE = {
    "soql-quote": "O'Brien & Sons",
    "soql-injection": "x' OR Name LIKE '%",
    "escaped-quote": "\\' OR Id != null --",
    "double-quotes": 'The "Best" Co',
    "backslashes": "C:\\deals\\new\\",
    "like-wildcards": "100% _real_ %_%",
    "html": "<b>bold</b> & <i>co</i>",
    "script": "<script>alert('x')</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "template": "{{ 7*7 }} {% if %}",
    "right-to-left": "\u202eevil\u202c שלום مرحبا",
    "direction-marks": "\u200fCompany\u200e",
    "emoji": "Rocket 🚀 Co 👩\u200d👩\u200d👧",
    "invisible": "Zero\u200bWidth\ufeff",
    "combining": "Cafe\u0301",
    "longest": "L" * 254 + "🚀",
}
# Salesforce cannot keep these; the person is told, next to the field.
CONTROL = {"nul": "Acme\x00Corp", "escape": "Acme\x1b[31mRed", "bell": "Acme\x07", "del": "A\x7f"}
CONTROL_MESSAGE = "invisible control characters that cannot be stored"
VALUES = list(HOSTILE.values())
IDS = list(HOSTILE)


def shown(value: str) -> str:
    """`value` as the page must show it: escaped by the template engine."""
    return str(escape(value))


def json_headers(page: str) -> dict:
    return {"Accept": "application/json", "X-CSRFToken": testing.CSRF_PATTERN.search(page).group(1)}


@pytest.fixture
def rep(sign_in, partner):
    return sign_in(partner.rep)


@pytest.fixture
def no_gateway_errors(caplog):
    """Every statement built from these values parsed: no query error was logged."""
    with caplog.at_level(logging.ERROR):
        yield
    background.wait_until_idle()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


# -- the registration form and its replay ------------------------------------------------


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_registration_keeps_hostile_text_exactly_and_shows_it_escaped(
    rep, sf, value, no_gateway_errors
):
    notes = f"{value}\r\nsecond line\twith a tab"
    data = form_data(rep, end_customer_name=value, notes=notes)

    response = rep.post(NEW, data=data)

    assert response.status_code == 302
    [record] = registrations_with_key(sf, data["submission_key"])
    assert record["End_Customer_Name__c"] == value
    assert record["Notes__c"] == notes
    page = rep.get(response.headers["Location"]).text
    listing = rep.get("/").text
    for text in (page, listing):
        assert shown(value) in text
        assert "<script>alert" not in text
        assert "<img src=x" not in text


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_replayed_registration_keeps_hostile_text_exactly(rep, sf, value):
    page = rep.get(NEW).text
    data = form_data(rep, end_customer_name=value, notes=value)

    response = rep.post(NEW, data=data, headers=json_headers(page))

    assert response.status_code == 200, response.get_data(as_text=True)
    registration_id = response.get_json()["registration"]["id"]
    [record] = registrations_with_key(sf, data["submission_key"])
    assert record["Id"] == registration_id
    assert (record["End_Customer_Name__c"], record["Notes__c"]) == (value, value)


@pytest.mark.parametrize("value", CONTROL.values(), ids=CONTROL.keys())
def test_registration_with_control_characters_gets_a_field_error(rep, sf, value):
    data = form_data(rep, end_customer_name=value, notes=value)

    response = rep.post(NEW, data=data)

    assert response.status_code == 400
    for field in ("end_customer_name", "notes"):
        error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', response.text)
        assert CONTROL_MESSAGE in error.group(1)
    assert 'value="Acme' in response.text or 'value="A' in response.text
    assert registrations_with_key(sf, data["submission_key"]) == []

    page = rep.get(NEW).text
    data = form_data(rep, end_customer_name=value)
    replayed = rep.post(NEW, data=data, headers=json_headers(page))

    assert replayed.status_code == 422
    assert CONTROL_MESSAGE in replayed.get_json()["fields"]["end_customer_name"][0]
    assert registrations_with_key(sf, data["submission_key"]) == []


# -- signing in ----------------------------------------------------------------------------


def test_sign_in_email_with_quotes_reaches_exactly_its_owner(client, sf, mailbox, partner):
    from salesforce import demo

    email = f"o'brien.{uuid.uuid4().hex[:6]}@partner.example"
    demo.create_person(sf, partner.account_id, "Olive", "O'Brien", email, "Rep", "Active")
    seen = len(mailbox.messages)

    response = testing.submit_form(client, "/sign-in", {"email": email})

    assert response.status_code == 200
    assert mailbox.wait_for(email, after=seen).to == email


@pytest.mark.parametrize(
    "email",
    [
        "x' OR Email != '@partner.example",
        "%@partner1.example",
        "_@partner1.example",
        "\\'@partner1.example",
        "<script>alert(1)</script>@x.example",
        "rhea.1@partner1.example\x00",
        "rhea.1@partner1.example' OR Email LIKE '%",
        "🚀@example.com",
        "\u202erhea@partner1.example",
        "a" * 300 + "@example.com",
    ],
)
def test_hostile_sign_in_email_sends_nothing_and_changes_no_query(
    client, mailbox, email, no_gateway_errors
):
    seen = len(mailbox.messages)

    response = testing.submit_form(client, "/sign-in", {"email": email})

    assert response.status_code in (200, 400)
    assert "<script>alert" not in response.text
    background.wait_until_idle()
    assert len(mailbox.messages) == seen


# -- inviting a partner person -----------------------------------------------------------


@pytest.fixture
def admin(make_internal):
    return make_internal("Admin")[1]


def invite(admin, account_id, **values):
    page = admin.get("/invitations/new").text
    data = {
        "csrf_token": testing.CSRF_PATTERN.search(page).group(1),
        "email": f"new.{uuid.uuid4().hex[:8]}@partner.example",
        "first_name": "Nina",
        "last_name": "New",
        "account_id": account_id,
        "role": "Rep",
        **values,
    }
    return data, admin.post("/invitations/new", data=data)


@pytest.mark.parametrize("value", ['O\'Neil "Jr" \\', "<script>x</script>", "Łukasz 🚀 שלום"])
def test_invitation_keeps_hostile_names_exactly(admin, partner, sf, value, no_gateway_errors):
    data, response = invite(admin, partner.account_id, first_name=value[:40], last_name=value)

    assert response.status_code == 200
    assert "<script>x" not in response.text
    [contact] = sf.query(
        format_soql("SELECT FirstName, LastName FROM Contact WHERE Email = {}", data["email"])
    )["records"]
    assert (contact["FirstName"], contact["LastName"]) == (value[:40], value)


def test_invitation_with_control_characters_gets_a_field_error(admin, partner, sf):
    data, response = invite(admin, partner.account_id, last_name="New\x00")

    assert response.status_code == 400
    error = re.search(r'<p class="error" id="last_name-error">([^<]*)</p>', response.text)
    assert CONTROL_MESSAGE in error.group(1)
    found = sf.query(format_soql("SELECT COUNT() FROM Contact WHERE Email = {}", data["email"]))
    assert found["totalSize"] == 0


# -- passkey labels --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [HOSTILE["script"], HOSTILE["soql-injection"], HOSTILE["emoji"]])
def test_passkey_labels_keep_hostile_text_exactly(rep, partner, sf, value):
    add_passkey(rep, SoftAuthenticator(ORIGIN), label=value)
    [passkey] = [p for p in passkeys_of(sf, partner.rep.id) if p["Label__c"] == value]
    page = rep.get("/account/passkeys").text
    assert shown(value) in page
    assert "<script>alert" not in page

    renamed = value[::-1]
    passkey_id = re.search(r"/account/passkeys/([A-Za-z0-9]+)/label", page).group(1)
    form = {"csrf_token": testing.CSRF_PATTERN.search(page).group(1), "label": renamed}
    response = rep.post(f"/account/passkeys/{passkey_id}/label", data=form)

    assert response.status_code == 302
    assert renamed in [p["Label__c"] for p in passkeys_of(sf, partner.rep.id)]
    assert passkey["Credential_Id__c"]


def test_passkey_label_with_control_characters_is_refused(rep, partner, sf):
    headers = csrf(rep)
    authenticator = SoftAuthenticator(ORIGIN)
    options = rep.post("/passkeys/new/options", headers=headers).get_json()

    answer = rep.post(
        "/passkeys/new",
        json={"credential": authenticator.create(options), "label": "Phone\x1b[2J"},
        headers=headers,
    )

    assert answer.status_code == 400
    assert answer.get_json()["field"] == "label"
    assert CONTROL_MESSAGE in answer.get_json()["message"]
    assert passkeys_of(sf, partner.rep.id) == []


# -- answering the channel team's question ---------------------------------------------------


@pytest.mark.parametrize(
    "value", [HOSTILE["script"], HOSTILE["escaped-quote"], HOSTILE["right-to-left"]]
)
def test_answer_to_a_question_keeps_hostile_text_exactly(rep, approver, sf, value):  # noqa: F811
    registration_id = submit(rep)
    act(approver[1], registration_id, "needs-info", question="Who signs?")

    response = partner_act(rep, registration_id, "answer", answer=value)

    assert response.status_code == 302
    comments = sf.query(
        format_soql(
            "SELECT Comment__c FROM Deal_Registration_Stage__c WHERE Registration__c = {}",
            registration_id,
        )
    )["records"]
    assert value in [stage["Comment__c"] for stage in comments]
    page = rep.get(f"/registrations/{registration_id}").text
    assert shown(value) in page
    assert "<script>alert" not in page


def test_answer_with_control_characters_gets_a_field_error(rep, approver, sf):  # noqa: F811
    registration_id = submit(rep)
    act(approver[1], registration_id, "needs-info", question="Who signs?")

    response = partner_act(rep, registration_id, "answer", answer="The CFO\x00")

    assert response.status_code == 400
    assert CONTROL_MESSAGE in response.text
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "Needs Info"
