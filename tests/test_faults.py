"""What a partner sees when Salesforce falters, proved through the portal's own routes with
faults the local org injects: nothing lost, nothing twice, a message a person understands,
and no more attempts than the request allows."""

from __future__ import annotations

import ast
import dataclasses
import io
import logging
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest
from simple_salesforce.format import format_soql

from conftest import portal_config
from portal import background, create_app
from salesforce import gateway
from salesforce.connection import TimeoutSession
from salesforce.gateway import LimitReached
from salesforce.localorg.server import DAILY_API_LIMIT
from salesforce.resilience import Breaker, Policy
from tests.test_registrations import NEW, form_data, registrations_with_key

READ_TIMEOUT_SECONDS = 0.4
LATE_ANSWER_SECONDS = 1.0  # past READ_TIMEOUT_SECONDS
COOLDOWN_SECONDS = 1


@pytest.fixture
def app(connector, mailbox, queue_id):
    """The portal with a short read timeout, quick retries and a one-second limit cool-down."""
    quick = dataclasses.replace(connector, read_timeout_seconds=READ_TIMEOUT_SECONDS)
    return create_app(
        portal_config(
            quick,
            mailbox,
            PORTAL_BASE_URL="http://localhost",
            SALESFORCE_RETRY_BACKOFF_SECONDS=0.01,
            SALESFORCE_LIMIT_COOLDOWN_SECONDS=COOLDOWN_SECONDS,
        )
    )


class Faults:
    """The local org's fault rules, set and read over its admin endpoints."""

    def __init__(self, local_org):
        self.url = f"{local_org.url}/local"
        self.http = TimeoutSession(local_org.ca_file)

    def inject(self, *rules: dict) -> None:
        background.wait_until_idle()  # follow-up work must not meet the faults
        answer = self.http.post(f"{self.url}/faults", json=list(rules))
        assert answer.status_code == 201, answer.text

    def fired(self) -> list[int]:
        return [rule["fired"] for rule in self.http.get(f"{self.url}/faults").json()]

    def clear(self) -> None:
        self.http.delete(f"{self.url}/faults")

    def set_daily_limit(self, requests: int) -> None:
        self.http.post(f"{self.url}/limits", json={"daily_api_requests": requests})


@pytest.fixture
def faults(local_org):
    faults = Faults(local_org)
    yield faults
    faults.clear()
    faults.set_daily_limit(DAILY_API_LIMIT)


@pytest.fixture
def rep(sign_in, partner):
    return sign_in(partner.rep)


def registered_once(sf, key) -> str:
    """The ID of the one registration with this submission key."""
    [record] = registrations_with_key(sf, key)
    return record["Id"]


def files_of(sf, registration_id) -> int:
    statement = format_soql(
        "SELECT COUNT() FROM ContentDocumentLink WHERE LinkedEntityId = {}", registration_id
    )
    return sf.query(statement)["totalSize"]


def page_error(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page)
    return found.group(1) if found else ""


# -- transient faults: retried when the request is idempotent ------------------------


@pytest.mark.parametrize(
    "fault",
    [
        {"fault": "UNABLE_TO_LOCK_ROW", "times": 2},
        {"fault": "SERVER_ERROR_503", "times": 2},
        {"fault": "CONNECTION_RESET", "times": 2},
        {"fault": "TIMEOUT", "times": 1, "seconds": LATE_ANSWER_SECONDS},
    ],
    ids=lambda fault: fault["fault"],
)
def test_submission_meeting_a_transient_fault_is_retried_and_registered_once(
    rep, sf, faults, fault
):
    data = form_data(rep)
    faults.inject({"match": "composite", **fault})

    response = rep.post(NEW, data=data)

    assert response.status_code == 302
    registration_id = registered_once(sf, data["submission_key"])
    assert response.headers["Location"] == f"/registrations/{registration_id}"
    assert faults.fired() == [fault["times"]]


@pytest.mark.parametrize("fault", ["SERVER_ERROR_503", "CONNECTION_RESET", "TIMEOUT"])
def test_submission_whose_answer_is_lost_after_commit_lands_on_the_one_registration(
    rep, sf, faults, fault
):
    data = form_data(rep)
    faults.inject(
        {"match": "composite", "fault": fault, "after_commit": True, "seconds": LATE_ANSWER_SECONDS}
    )

    response = rep.post(NEW, data=data)

    assert response.status_code == 302
    registration_id = registered_once(sf, data["submission_key"])
    assert response.headers["Location"] == f"/registrations/{registration_id}"
    assert faults.fired() == [1]


def test_file_whose_answer_is_lost_after_commit_is_stored_once(rep, sf, faults):
    data = form_data(rep, attachment=(io.BytesIO(b"%PDF-1.7 proof"), "proof.pdf"))
    faults.inject(
        {"match": "sobjects/ContentVersion$", "fault": "SERVER_ERROR_503", "after_commit": True}
    )

    response = rep.post(NEW, data=data, content_type="multipart/form-data")

    assert response.status_code == 302
    assert files_of(sf, registered_once(sf, data["submission_key"])) == 1
    assert faults.fired() == [1]


def test_submission_gives_up_after_the_allowed_attempts_and_keeps_what_was_typed(rep, sf, faults):
    data = form_data(rep, end_customer_name="Initech Ltd")
    faults.inject({"match": "composite", "fault": "CONNECTION_RESET", "times": 10})

    response = rep.post(NEW, data=data)

    assert response.status_code == 503
    assert "the registration is not sent yet" in response.text
    assert "send it again in a minute" in response.text
    assert 'value="Initech Ltd"' in response.text
    assert registrations_with_key(sf, data["submission_key"]) == []
    assert faults.fired() == [3]  # SALESFORCE_RETRY_ATTEMPTS

    faults.clear()
    again = rep.post(NEW, data=data)

    assert again.status_code == 302
    registered_once(sf, data["submission_key"])


def test_page_read_meeting_locked_rows_is_retried(rep, faults, partner):
    faults.inject({"match": "^query", "fault": "UNABLE_TO_LOCK_ROW", "times": 2})

    page = rep.get("/")

    assert page.status_code == 200
    assert "My deals" in page.text
    assert faults.fired() == [2]


def test_write_that_is_not_idempotent_is_not_retried(make_internal, faults, partner, sf):
    _, admin = make_internal("Admin")
    page = admin.get("/invitations/new").text
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    faults.inject(
        {"match": "sobjects/Contact/?$", "method": "POST", "fault": "SERVER_ERROR_503", "times": 5}
    )
    email = f"nina.{uuid.uuid4().hex[:8]}@partner.example"

    response = admin.post(
        "/invitations/new",
        data={
            "csrf_token": csrf,
            "email": email,
            "first_name": "Nina",
            "last_name": "New",
            "account_id": partner.account_id,
            "role": "Rep",
        },
    )

    assert response.status_code == 503
    assert "Nothing was lost" in response.text
    assert faults.fired() == [1]
    contacts = sf.query(format_soql("SELECT COUNT() FROM Contact WHERE Email = {}", email))
    assert contacts["totalSize"] == 0


def test_expired_session_is_renewed_once_and_the_page_loads(rep, faults):
    faults.inject({"match": "^query", "fault": "INVALID_SESSION_ID"})

    page = rep.get("/")

    assert page.status_code == 200
    assert "My deals" in page.text
    assert faults.fired() == [1]


# -- the daily API allowance ----------------------------------------------------------


def test_used_up_allowance_stops_calls_says_when_to_return_and_recovers(
    app, rep, sf, faults, local_org, partner
):
    data = form_data(rep)
    faults.inject({"match": "composite", "fault": "REQUEST_LIMIT_EXCEEDED"})

    refused = rep.post(NEW, data=data)

    assert refused.status_code == 503
    assert "daily allowance of requests is used up" in refused.text
    assert "Nothing was lost" in refused.text
    shown = re.search(r"try again after (\d\d):(\d\d) UTC", refused.text)
    assert shown is not None
    resume = datetime.now(UTC) + timedelta(seconds=COOLDOWN_SECONDS)
    assert (int(shown.group(1)), int(shown.group(2))) in {
        (moment.hour, moment.minute) for moment in (resume, resume + timedelta(minutes=1))
    }
    assert 1 <= int(refused.headers["Retry-After"]) <= COOLDOWN_SECONDS
    assert 'value="Globex GmbH"' in refused.text

    served = local_org.org.usage.total
    again = rep.post(NEW, data=data)

    assert again.status_code == 503
    assert "daily allowance of requests is used up" in again.text
    with pytest.raises(LimitReached):  # follow-up work stops too
        app.extensions["background_gateway"].contact(partner.rep.id)
    assert local_org.org.usage.total == served  # the portal did not call at all

    time.sleep(COOLDOWN_SECONDS)
    recovered = rep.post(NEW, data=data)

    assert recovered.status_code == 302
    registered_once(sf, data["submission_key"])
    assert faults.fired() == [1]


def test_org_that_enforces_its_allowance_gets_the_same_plain_page(rep, faults, local_org):
    faults.set_daily_limit(local_org.org.usage.total)

    page = rep.get("/", headers={"Accept": "text/html"})

    assert page.status_code == 503
    assert "daily allowance of requests is used up" in page.text
    assert "Traceback" not in page.text


def test_json_clients_get_the_limit_as_json_with_retry_after(rep, faults, local_org):
    faults.set_daily_limit(local_org.org.usage.total)

    answer = rep.get("/", headers={"Accept": "application/json"})

    assert answer.status_code == 503
    assert answer.get_json()["error"] == "try-again-later"
    assert "daily allowance" in answer.get_json()["message"]
    assert int(answer.headers["Retry-After"]) >= 1


def test_usage_past_the_threshold_logs_a_warning_and_shows_on_health(
    rep, faults, local_org, caplog
):
    used = local_org.org.usage.total
    faults.set_daily_limit(int(used / 0.85))

    with caplog.at_level(logging.WARNING, logger="salesforce.resilience"):
        rep.get("/")
    health = rep.get("/health").get_json()

    warnings = [r.getMessage() for r in caplog.records if r.name == "salesforce.resilience"]
    assert any("api usage at 8" in message for message in warnings)
    assert health["status"] == "degraded"
    assert health["salesforce"]["api_usage"]["percent"] >= 80


# -- the org's own rules --------------------------------------------------------------


def test_validation_rule_message_shows_next_to_the_field_it_names(rep, sf, faults):
    data = form_data(rep, end_customer_name="Globex")
    faults.inject(
        {
            "match": "composite",
            "fault": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Use the customer's full legal name.",
            "fields": ["End_Customer_Name__c"],
        }
    )

    response = rep.post(NEW, data=data)

    assert response.status_code == 400
    assert (
        page_error(response.text, "end_customer_name") == "Use the customer&#39;s full legal name."
    )
    assert 'value="Globex"' in response.text
    assert "Champion is the CISO." in response.text
    assert registrations_with_key(sf, data["submission_key"]) == []


def test_validation_rule_naming_no_field_shows_above_the_form(rep, sf, faults):
    data = form_data(rep)
    faults.inject(
        {
            "match": "composite",
            "fault": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
            "message": "Deals above 1M need a signed NDA on file.",
        }
    )

    response = rep.post(NEW, data=data)

    assert response.status_code == 400
    notice = re.search(
        r'<div class="notice notice-error" role="alert">(.*?)</div>', response.text, re.S
    )
    assert "Deals above 1M need a signed NDA on file." in notice.group(1)
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" not in response.text
    assert 'value="Globex GmbH"' in response.text
    assert registrations_with_key(sf, data["submission_key"]) == []


def test_duplicate_rule_message_shows_above_the_form_and_keeps_the_values(rep, sf, faults):
    data = form_data(rep)
    faults.inject({"match": "composite", "fault": "DUPLICATES_DETECTED"})

    response = rep.post(NEW, data=data)

    assert response.status_code == 400
    assert "You&#39;re creating a duplicate record." in response.text
    assert 'value="Globex GmbH"' in response.text
    assert registrations_with_key(sf, data["submission_key"]) == []


# -- health ---------------------------------------------------------------------------


def test_health_reports_a_reachable_org_without_credentials(rep, connector):
    answer = rep.get("/health")

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] in ("ok", "degraded")
    assert body["salesforce"]["reachable"] is True
    assert body["salesforce"]["calls"] == "closed"
    text = answer.get_data(as_text=True)
    for secret in (connector.password, connector.url, "access_token", "00D"):
        assert secret not in text


def test_health_answers_503_when_the_org_cannot_be_reached(connector, mailbox):
    nowhere = dataclasses.replace(connector, url="https://localhost:9", connect_timeout_seconds=0.5)
    app = create_app(
        portal_config(
            nowhere, mailbox, SALESFORCE_RETRY_BACKOFF_SECONDS=0.01, ROUTING_CHECK_OWNERS=False
        )
    )

    answer = app.test_client().get("/health")

    assert answer.status_code == 503
    assert answer.get_json()["status"] == "unavailable"
    assert app.test_client().get("/health/live").status_code == 200


def test_every_gateway_call_states_whether_it_may_be_repeated():
    source = Path(gateway.__file__).read_text()
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_call"
    ]

    assert calls
    for call in calls:
        stated = [keyword.arg for keyword in call.keywords]
        assert "idempotent" in stated, f"line {call.lineno}: say whether it may be repeated"


def test_backoff_grows_exponentially_up_to_its_cap_with_jitter():
    policy = Policy(backoff_base_seconds=0.5, backoff_cap_seconds=4.0)

    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)):
        waits = [policy.backoff_seconds(attempt) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling / 2
        assert len(set(waits)) > 100  # spread apart, not in lockstep


def test_breaker_refuses_during_the_cooldown_then_lets_one_probe_through():
    now = [0.0]
    breaker = Breaker(60, clock=lambda: now[0])
    assert breaker.admit() == (True, False)

    breaker.trip()
    assert breaker.state == "open"
    assert breaker.admit() == (False, False)

    now[0] = 61
    assert breaker.state == "half-open"
    assert breaker.admit() == (True, True)
    assert breaker.admit() == (False, False)  # one probe at a time

    breaker.trip()  # the probe met the limit again
    assert breaker.admit() == (False, False)

    now[0] = 122
    assert breaker.admit() == (True, True)
    assert breaker.close() is True
    assert breaker.state == "closed"
    assert breaker.admit() == (True, False)


# -- the local org's fault rules themselves ---------------------------------------------


def test_unknown_fault_rule_is_refused(faults):
    answer = faults.http.post(f"{faults.url}/faults", json=[{"fault": "GREMLINS"}])

    assert answer.status_code == 400
    assert "GREMLINS" in answer.json()["error"]


def test_duplicate_rule_answers_as_salesforce_does(sf, faults):
    faults.inject({"match": "sobjects/Deal_Registration__c/?$", "fault": "DUPLICATES_DETECTED"})

    with pytest.raises(SalesforceMalformedRequest) as refused:
        sf.Deal_Registration__c.create({"End_Customer_Name__c": "Dup Co"})

    [error] = refused.value.content
    assert error["errorCode"] == "DUPLICATES_DETECTED"
    assert error["duplicateResult"]["allowSave"] is False
    assert faults.fired() == [1]
