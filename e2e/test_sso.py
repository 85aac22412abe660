"""A channel manager signs in with single sign-on from a phone, in the same window."""

import uuid

from playwright.sync_api import expect

from salesforce import demo


def test_channel_manager_signs_in_with_sso_from_a_phone(
    phone, live_portal, local_idp, partner, sf, queue_id
):
    number = uuid.uuid4().hex[:8]
    email = f"chiara.{number}@vendor.example"
    demo.create_internal_user(sf, "Chiara", f"Channel{number}", email, "Channel Manager", ["APAC"])
    local_idp.add_identity(email, f"Chiara Channel{number}")
    customers = {}
    for region, country in (("APAC", "SG"), ("LATAM", "MX")):
        customers[region] = f"{region} Buyer {number}"
        demo.create_registration(
            sf,
            account_id=partner.account_id,
            contact_id=partner.rep.id,
            owner_id=queue_id,
            customer=customers[region],
            country=country,
            region=region,
        )
    page = phone.new_page()

    page.goto("/sign-in")
    page.get_by_role("link", name="Sign in with Vendor staff").click()
    expect(page.get_by_role("heading", name="Local sign-in provider")).to_be_visible()
    page.get_by_role("button", name=f"Chiara Channel{number}").click()

    expect(page.get_by_role("heading", name="Deals", exact=True)).to_be_visible()
    assert page.url == f"{live_portal}/"
    assert len(phone.pages) == 1
    expect(page.get_by_text(f"Chiara Channel{number}")).to_be_visible()
    expect(page.get_by_text(customers["APAC"])).to_be_visible()
    expect(page.get_by_text(customers["LATAM"])).to_have_count(0)
