"""A channel manager reads the pilot's numbers on a phone; a partner cannot find them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from salesforce import demo
from tests.reporting_seed import Planned, Step, remove, seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded_partner(local_org, sf):
    """A partner with three EMEA registrations and two APAC ones from the last few days."""
    owner = demo.ensure_queue(sf, "Metrics_Desk", "Metrics Desk")
    recently = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
    plans = [
        Planned(
            f"{region} Buyer {number}",
            region,
            "Analytics",
            [
                Step("Submitted", recently + timedelta(hours=number), actor="Seeded Rep"),
                Step("Approved", recently + timedelta(hours=number + 6)),
            ],
            country="DE" if region == "EMEA" else "JP",
        )
        for number, region in enumerate(("EMEA", "EMEA", "EMEA", "APAC", "APAC"))
    ]
    name = f"Phone Metrics Partner {uuid.uuid4().hex[:6]}"
    store = local_org.org.store
    seeded = seed(store, local_org.org.integration_user_id, name, "EMEA", owner, plans)
    yield seeded
    remove(store, [seeded.account_id])


def headline(page, metric: str):
    return page.locator(f'[data-metric="{metric}"] .figure-value')


def test_channel_manager_filters_the_dashboard_by_region_on_a_phone(
    phone, live_portal, local_idp, sf, seeded_partner
):
    number = uuid.uuid4().hex[:8]
    email = f"mira.{number}@vendor.example"
    demo.create_internal_user(
        sf, "Mira", f"Metrics{number}", email, "Channel Manager", ["EMEA", "APAC"]
    )
    local_idp.add_identity(email, f"Mira Metrics{number}")
    page = phone.new_page()
    page.goto("/sign-in")
    page.get_by_role("link", name="Sign in with Vendor staff").click()
    page.get_by_role("button", name=f"Mira Metrics{number}").click()
    expect(page.get_by_role("heading", name="Deals", exact=True)).to_be_visible()

    page.get_by_role("link", name="Metrics", exact=True).click()
    expect(page.get_by_role("heading", name="Pilot metrics")).to_be_visible()
    page.get_by_label("Partner", exact=True).select_option(label=seeded_partner.account_name)
    page.get_by_role("button", name="Show").click()
    expect(headline(page, "submissions")).to_have_text("5")
    expect(headline(page, "decided")).to_have_text("100%")

    page.get_by_label("Region", exact=True).select_option("APAC")
    page.get_by_role("button", name="Show").click()

    expect(headline(page, "submissions")).to_have_text("2")
    assert "region=APAC" in page.url
    expect(page.locator("#scope")).to_contain_text("APAC")
    chart = page.get_by_role("img", name="Registrations submitted per week")
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box["width"] <= page.viewport_size["width"]
    page.get_by_text("The numbers behind this chart").first.click()
    expect(page.locator("#weeks")).to_be_visible()


def test_partner_gets_not_found_for_the_dashboard(phone, partner, sign_in_page):
    page = sign_in_page(phone, partner.rep)
    expect(page.get_by_role("link", name="Metrics", exact=True)).to_have_count(0)

    response = page.goto("/metrics/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
