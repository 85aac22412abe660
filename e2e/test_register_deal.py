"""A partner signs in from a phone, registers a deal with a file, and finds it in My Deals."""

from datetime import date, timedelta

from playwright.sync_api import expect
from simple_salesforce.format import format_soql

from portal.testing import link_from

PROOF = b"%PDF-1.7\n" + bytes(range(256)) * 200 + b"\n%%EOF\n"


def test_partner_registers_a_deal_from_a_phone(phone, mailbox, partner, sf):
    page = phone.new_page()
    close_date = date.today() + timedelta(days=60)

    page.goto("/")
    page.get_by_label("Work email").fill(partner.rep.email)
    seen = len(mailbox.messages)
    page.get_by_role("button", name="Email me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    page.goto(link_from(mailbox.wait_for(partner.rep.email, after=seen)))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in faster next time")).to_be_visible()
    page.get_by_role("link", name="Not now").click()
    expect(page.get_by_role("heading", name="My deals")).to_be_visible()
    expect(page.get_by_text("No deals yet")).to_be_visible()

    page.get_by_role("link", name="Register your first deal").click()
    page.get_by_label("End customer company").fill("Initech Ltd")
    page.get_by_label("Customer website").fill("initech.co.uk")
    page.get_by_label("Country").select_option("GB")
    page.get_by_label("Deal value (USD)").fill("48000")
    page.get_by_label("Product line").select_option("Analytics")
    page.get_by_label("Expected close date").fill(close_date.isoformat())
    page.get_by_label("Notes for the channel team").fill("Renewal of a competitor contract.")
    page.get_by_label("Proof or supporting file (optional)").set_input_files(
        {"name": "quote.pdf", "mimeType": "application/pdf", "buffer": PROOF}
    )
    page.get_by_role("button", name="Submit registration").click()

    expect(page.get_by_role("heading", name="Initech Ltd · Analytics")).to_be_visible()
    expect(page.locator(".status-card .badge")).to_have_text("Submitted")
    expect(page.get_by_text("Next step:")).to_be_visible()
    expect(page.get_by_role("link", name="quote.pdf")).to_be_visible()
    registration_id = page.url.rsplit("/", 1)[1]

    page.get_by_role("link", name="My deals").first.click()
    deal = page.locator(".deal", has_text="Initech Ltd")
    expect(deal.locator(".badge")).to_have_text("Submitted")
    expect(deal.locator(".deal-next")).to_contain_text("expect a decision by")
    deal.click()
    expect(page).to_have_url(f"/registrations/{registration_id}")

    record = sf.Deal_Registration__c.get(registration_id)
    assert record["End_Customer_Name__c"] == "Initech Ltd"
    assert record["End_Customer_Domain__c"] == "initech.co.uk"
    assert record["Country__c"] == "GB"
    assert record["Region__c"] == "EMEA"
    assert record["Deal_Value__c"] == 48000.0
    assert record["Size_Band__c"] == "Under 50K"
    assert record["Product_Line__c"] == "Analytics"
    assert record["Expected_Close_Date__c"] == close_date.isoformat()
    assert record["Notes__c"] == "Renewal of a competitor contract."
    assert record["Status__c"] == "Submitted"
    assert record["Partner_Account__c"] == partner.account_id
    assert record["Submitted_By__c"] == partner.rep.id
    links = sf.query(
        format_soql(
            "SELECT ContentDocument.Title, ContentDocument.LatestPublishedVersionId "
            "FROM ContentDocumentLink WHERE LinkedEntityId = {}",
            registration_id,
        )
    )["records"]
    assert [link["ContentDocument"]["Title"] for link in links] == ["quote"]
    version_id = links[0]["ContentDocument"]["LatestPublishedVersionId"]
    stored = sf.session.get(
        f"{sf.base_url}sobjects/ContentVersion/{version_id}/VersionData", headers=sf.headers
    )
    assert stored.content == PROOF


def test_form_is_usable_at_320_pixels(phone, partner, sign_in_page):
    page = sign_in_page(phone, partner.rep)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/registrations/new")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
    box = page.get_by_role("button", name="Submit registration").bounding_box()
    assert box["height"] >= 44
    font = page.get_by_label("End customer company").evaluate("e => getComputedStyle(e).fontSize")
    assert font == "16px"
