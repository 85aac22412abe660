"""The portal's own time per answer, told apart from the time spent on Salesforce."""

from __future__ import annotations

import re

import pytest
import requests

from conftest import portal_config
from portal import create_app, testing

TIMING = re.compile(
    r"total;dur=([0-9.]+), salesforce;dur=([0-9.]+), org;dur=([0-9.]+), cpu;dur=([0-9.]+)"
)


@pytest.fixture
def timed(connector, mailbox, partner):
    app = create_app(portal_config(connector, mailbox, SERVER_TIMING=True))
    browser = app.test_client()
    testing.sign_in(browser, mailbox, partner.rep.email)
    return browser


def timings(response) -> tuple[float, ...]:
    found = TIMING.fullmatch(response.headers["Server-Timing"])
    assert found, response.headers["Server-Timing"]
    return tuple(float(value) for value in found.groups())


def test_the_local_org_reports_its_own_time(local_org, connector):
    answer = requests.get(f"{local_org.url}/services/data/", verify=connector.ca_file, timeout=10)

    assert re.fullmatch(r"org;dur=[0-9]+\.[0-9]{3}", answer.headers["Server-Timing"])


def test_an_answer_that_calls_salesforce_reports_the_round_trip_and_the_org_within_it(timed):
    total, salesforce, org, cpu = timings(timed.get("/"))  # My Deals: one query

    assert 0 < org <= salesforce <= total
    assert cpu > 0


def test_an_answer_without_salesforce_reports_none(timed):
    total, salesforce, org, cpu = timings(timed.get("/registrations/new"))

    assert cpu > 0
    assert total > 0
    assert salesforce == 0
    assert org == 0


def test_timings_are_off_unless_asked_for(sign_in, partner):
    rep = sign_in(partner.rep)

    assert "Server-Timing" not in rep.get("/").headers
