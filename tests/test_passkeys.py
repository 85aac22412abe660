"""Passkeys: created and checked with py_webauthn, kept in Salesforce, refused when wrong."""

import logging
import re
import time

import pytest
from simple_salesforce.format import format_soql

from portal import testing
from tests.softauthn import SoftAuthenticator

ORIGIN = "http://localhost"


def csrf(client) -> dict:
    page = client.get("/sign-in", follow_redirects=True).text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    return {"X-CSRFToken": token, "Accept": "application/json"}


def add_passkey(client, authenticator, label="Test phone"):
    headers = csrf(client)
    options = client.post("/passkeys/new/options", headers=headers).get_json()
    answer = client.post(
        "/passkeys/new",
        json={"credential": authenticator.create(options), "label": label},
        headers=headers,
    )
    assert answer.status_code == 200, answer.get_json()
    return answer


def sign_in_with(client, authenticator, **misbehaviour):
    headers = csrf(client)
    options = client.post("/passkeys/sign-in/options", headers=headers).get_json()
    return client.post(
        "/passkeys/sign-in",
        json={"credential": authenticator.get(options, **misbehaviour)},
        headers=headers,
    )


def passkeys_of(sf, contact_id):
    return sf.query(
        format_soql(
            "SELECT Credential_Id__c, Label__c, Sign_Count__c, Revoked__c, Last_Used__c, "
            "Transports__c FROM Portal_Passkey__c WHERE Contact__c = {}",
            contact_id,
        )
    )["records"]


@pytest.fixture
def enrolled(app, sign_in, partner):
    """A rep with one passkey on a software authenticator, signed out again."""
    client = sign_in(partner.rep)
    authenticator = SoftAuthenticator(ORIGIN)
    add_passkey(client, authenticator)
    client.post("/sign-out", data={"csrf_token": testing.csrf_token(client, "/")})
    return app.test_client(), authenticator


def test_new_passkey_is_kept_in_salesforce(sign_in, partner, sf):
    client = sign_in(partner.rep)
    authenticator = SoftAuthenticator(ORIGIN)

    add_passkey(client, authenticator, label="Work iPhone")

    [record] = passkeys_of(sf, partner.rep.id)
    assert record["Credential_Id__c"] == authenticator.id
    assert record["Label__c"] == "Work iPhone"
    assert record["Sign_Count__c"] == 0
    assert record["Revoked__c"] is False
    assert record["Transports__c"] == "internal"
    assert "Work iPhone" in client.get("/account/passkeys").text


def test_passkey_signs_in_without_typing(enrolled, sf, partner, api_calls):
    client, authenticator = enrolled
    headers = csrf(client)
    options = client.post("/passkeys/sign-in/options", headers=headers).get_json()
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"

    with api_calls() as calls:
        answer = client.post(
            "/passkeys/sign-in", json={"credential": authenticator.get(options)}, headers=headers
        )

    assert answer.status_code == 200
    assert answer.get_json() == {"redirect": "/"}
    assert calls.count == 2
    assert client.get("/").status_code == 200
    assert passkeys_of(sf, partner.rep.id)[0]["Last_Used__c"] is not None


def test_signed_in_page_views_cost_one_call_and_none_for_identity(enrolled, api_calls):
    client, authenticator = enrolled
    sign_in_with(client, authenticator)
    with api_calls() as calls:
        client.get("/")
    assert calls.count == 1
    with api_calls() as calls:
        client.get("/account/passkeys")
    assert calls.count == 1


def refused(answer, reason):
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == "passkey-refused"
    assert body["reason"] == reason
    assert body["message"]


def not_signed_in(client):
    return client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("misbehaviour", "reason"),
    [
        ({"origin": "https://evil.example"}, "invalid assertion"),
        ({"origin": "http://localhost:1"}, "invalid assertion"),
        ({"rp_id": "evil.example"}, "invalid assertion"),
        ({"tamper": True}, "invalid assertion"),
        ({"verified": False}, "invalid assertion"),
    ],
)
def test_wrong_answers_are_refused_with_a_log_line(enrolled, caplog, misbehaviour, reason):
    client, authenticator = enrolled
    with caplog.at_level(logging.WARNING, logger="portal.passkeys"):
        answer = sign_in_with(client, authenticator, **misbehaviour)
    refused(answer, reason)
    assert not_signed_in(client)
    assert any("refused" in record.message for record in caplog.records)


def test_unknown_credential_is_refused(app, caplog):
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="portal.passkeys"):
        answer = sign_in_with(client, SoftAuthenticator(ORIGIN))
    refused(answer, "unknown credential")
    assert "Sign in with an emailed link instead." in answer.get_json()["message"]
    assert caplog.records


def test_replayed_answer_is_refused(enrolled):
    client, authenticator = enrolled
    headers = csrf(client)
    options = client.post("/passkeys/sign-in/options", headers=headers).get_json()
    credential = authenticator.get(options)
    assert (
        client.post(
            "/passkeys/sign-in", json={"credential": credential}, headers=headers
        ).status_code
        == 200
    )

    again = client.post("/passkeys/sign-in", json={"credential": credential}, headers=csrf(client))
    refused(again, "no pending challenge")


def test_replayed_answer_with_the_old_cookie_is_refused(app, enrolled):
    client, authenticator = enrolled
    headers = csrf(client)
    options = client.post("/passkeys/sign-in/options", headers=headers).get_json()
    cookie = client.get_cookie("session").value
    credential = authenticator.get(options)
    assert (
        client.post(
            "/passkeys/sign-in", json={"credential": credential}, headers=headers
        ).status_code
        == 200
    )

    attacker = app.test_client()
    attacker.set_cookie("session", cookie)
    again = attacker.post("/passkeys/sign-in", json={"credential": credential}, headers=headers)
    refused(again, "replayed challenge")
    assert not_signed_in(attacker)


def test_expired_challenge_is_refused(enrolled):
    client, authenticator = enrolled
    headers = csrf(client)
    options = client.post("/passkeys/sign-in/options", headers=headers).get_json()
    with client.session_transaction() as session:
        pending = session["webauthn_authentication"]
        session["webauthn_authentication"] = {**pending, "issued_at": pending["issued_at"] - 301}
    answer = client.post(
        "/passkeys/sign-in", json={"credential": authenticator.get(options)}, headers=headers
    )
    refused(answer, "challenge expired")


def test_revoked_passkey_no_longer_signs_in(enrolled, sf, partner):
    client, authenticator = enrolled
    [record] = sf.query(
        format_soql("SELECT Id FROM Portal_Passkey__c WHERE Contact__c = {}", partner.rep.id)
    )["records"]
    sf.Portal_Passkey__c.update(record["Id"], {"Revoked__c": True})
    refused(sign_in_with(client, authenticator), "revoked")


def test_passkey_of_a_disabled_contact_is_refused(enrolled, sf, partner):
    client, authenticator = enrolled
    sf.Contact.update(partner.rep.id, {"Portal_Status__c": "Disabled"})
    answer = sign_in_with(client, authenticator)
    refused(answer, "disabled")
    assert not_signed_in(client)


def test_synced_passkey_counting_zero_keeps_working(enrolled):
    client, authenticator = enrolled
    for _ in range(2):
        assert sign_in_with(client, authenticator).status_code == 200
        client.post("/sign-out", data={"csrf_token": testing.csrf_token(client, "/")})
        # A challenge counts as fresh only when issued after the passkey's last use.
        time.sleep(1.01)


def test_counter_going_backwards_is_refused(sign_in, partner, app):
    client = sign_in(partner.rep)
    authenticator = SoftAuthenticator(ORIGIN, sign_count=10)
    add_passkey(client, authenticator)
    fresh = app.test_client()
    assert sign_in_with(fresh, authenticator).status_code == 200

    other = app.test_client()
    authenticator.sign_count = 3
    authenticator.counts_up = False
    time.sleep(1.01)
    refused(sign_in_with(other, authenticator), "invalid assertion")


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"credential": "x"},
        {"credential": {}},
        {"credential": {"id": 5}},
        {"credential": {"id": "abc", "response": "nonsense"}},
        ["list"],
    ],
)
def test_garbage_answers_get_a_clear_error_not_a_500(app, body):
    client = app.test_client()
    headers = csrf(client)
    client.post("/passkeys/sign-in/options", headers=headers)
    answer = client.post("/passkeys/sign-in", json=body, headers=headers)
    assert answer.status_code == 400
    assert answer.is_json


def test_person_can_rename_and_revoke_only_their_own_passkeys(sign_in, partner, app, mailbox, sf):
    client = sign_in(partner.rep)
    add_passkey(client, SoftAuthenticator(ORIGIN), label="Mine")
    [mine] = sf.query(
        format_soql("SELECT Id FROM Portal_Passkey__c WHERE Contact__c = {}", partner.rep.id)
    )["records"]

    colleague = app.test_client()
    testing.sign_in(colleague, mailbox, partner.colleague.email)
    token = testing.csrf_token(colleague, "/account/passkeys")
    assert (
        colleague.post(
            f"/account/passkeys/{mine['Id']}/revoke", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        colleague.post(
            f"/account/passkeys/{mine['Id']}/label", data={"csrf_token": token, "label": "Hacked"}
        ).status_code
        == 404
    )

    token = testing.csrf_token(client, "/account/passkeys")
    client.post(
        f"/account/passkeys/{mine['Id']}/label", data={"csrf_token": token, "label": "Renamed"}
    )
    assert "Renamed" in client.get("/account/passkeys").text
    client.post(f"/account/passkeys/{mine['Id']}/revoke", data={"csrf_token": token})
    [record] = passkeys_of(sf, partner.rep.id)
    assert (record["Label__c"], record["Revoked__c"]) == ("Renamed", True)
