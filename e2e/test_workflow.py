"""The whole loop on two phones: a partner registers, an approver asks, the partner answers
with a file, the approver approves, and the partner sees the protection date."""

import uuid
from datetime import date, timedelta

from playwright.sync_api import expect
from simple_salesforce.format import format_soql

from portal import background
from salesforce import demo

PROOF = b"%PDF-1.7\n" + bytes(range(256)) * 64


def test_register_ask_answer_approve_on_two_phones(
    phone, playwright, browser, live_portal, local_idp, partner, sign_in_page, sf, mailbox
):
    number = uuid.uuid4().hex[:8]
    customer = f"Initrode {number}"
    approver_name = f"Arun Approver{number}"
    approver_email = f"arun.{number}@vendor.example"
    approver_id = demo.create_internal_user(
        sf, "Arun", f"Approver{number}", approver_email, "Approver"
    )
    demo.add_to_queue(sf, demo.ensure_queue(sf, "EMEA_Desk"), approver_id)
    local_idp.add_identity(approver_email, approver_name)

    # The partner registers the deal.
    partner_page = sign_in_page(phone, partner.rep)
    partner_page.get_by_role("link", name="Register a deal").click()
    partner_page.get_by_label("End customer company").fill(customer)
    partner_page.get_by_label("Country").select_option("FR")
    partner_page.get_by_label("Deal value (USD)").fill("75000")
    partner_page.get_by_label("Product line").select_option("Cloud Platform")
    close = date.today() + timedelta(days=50)
    partner_page.get_by_label("Expected close date").fill(close.isoformat())
    partner_page.get_by_role("button", name="Submit registration").click()
    expect(partner_page.locator(".status-card .badge")).to_have_text("Submitted")
    registration_id = partner_page.url.rsplit("/", 1)[1]

    # The approver, on a phone of their own, asks a question.
    device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
    approver_context = browser.new_context(**device, base_url=live_portal)
    approver_page = approver_context.new_page()
    approver_page.goto("/sign-in")
    approver_page.get_by_role("link", name="Sign in with Vendor staff").click()
    approver_page.get_by_role("button", name=approver_name).click()
    approver_page.get_by_role("link", name="Review", exact=True).click()
    approver_page.locator(".deal", has_text=customer).click()
    approver_page.get_by_label("Question for the partner").fill("Who is the economic buyer?")
    approver_page.get_by_role("button", name="Send question").click()
    expect(approver_page.get_by_text("Question sent.")).to_be_visible()

    # The partner sees the question on My Deals and answers it with a file.
    partner_page.goto("/")
    deal = partner_page.locator(".deal", has_text=customer)
    expect(deal.locator(".badge")).to_have_text("Needs your answer")
    expect(deal.locator(".deal-next")).to_have_text("Answer the question on this registration.")
    deal.click()
    expect(partner_page.get_by_text("Who is the economic buyer?").first).to_be_visible()
    partner_page.get_by_role("textbox", name="Your answer").fill("The CFO, Ms Lee.")
    partner_page.get_by_label("Supporting file (optional)").set_input_files(
        {"name": "org-chart.pdf", "mimeType": "application/pdf", "buffer": PROOF}
    )
    partner_page.get_by_role("button", name="Send answer").click()
    expect(partner_page.locator(".status-card .badge")).to_have_text("In review")

    # The approver sees the answer and the file, and approves.
    approver_page.reload()
    expect(approver_page.get_by_text("The CFO, Ms Lee.")).to_be_visible()
    expect(approver_page.get_by_role("link", name="org-chart.pdf")).to_be_visible()
    approver_page.get_by_role("button", name="Approve").click()
    expect(approver_page.get_by_text("Approved. The partner is told")).to_be_visible()
    approver_context.close()

    # The partner sees Approved with the protection date, also through the email's link.
    background.wait_until_idle()
    expires = date.today() + timedelta(days=90)
    mail = next(m for m in reversed(mailbox.messages) if m.subject == f"Approved: {customer}")
    assert partner.rep.email in mail.to
    assert f"{expires:%d %b %Y}" in mail.text
    link = next(line for line in mail.text.split() if "/registrations/" in line)
    partner_page.goto(link)
    expect(partner_page.locator(".status-card .badge")).to_have_text("Approved")
    expect(partner_page.get_by_text(f"{expires:%d %b %Y}").first).to_be_visible()

    question_mail = next(
        m for m in mailbox.messages if m.subject == f"Question about your registration: {customer}"
    )
    assert f"/registrations/{registration_id}" in question_mail.text
    # Everyone in the owning queue hears of the answer, the approver among them.
    answered_mail = next(
        m
        for m in mailbox.messages
        if m.subject == f"Answer received: {customer}" and approver_email in m.to
    )
    assert f"/review/{registration_id}" in answered_mail.text

    history = sf.query(
        format_soql(
            "SELECT From_Status__c, To_Status__c, Actor_Id__c, Entered_At__c, Source__c "
            "FROM Deal_Registration_Stage__c WHERE Registration__c = {} ORDER BY Entered_At__c",
            registration_id,
        )
    )["records"]
    assert [(s["From_Status__c"], s["To_Status__c"], s["Actor_Id__c"]) for s in history] == [
        (None, "Submitted", partner.rep.id),
        ("Submitted", "Needs Info", approver_id),
        ("Needs Info", "In Review", partner.rep.id),
        ("In Review", "Approved", approver_id),
    ]
    times = [s["Entered_At__c"] for s in history]
    assert times == sorted(times)
    assert {s["Source__c"] for s in history} == {"Portal"}
    record = sf.Deal_Registration__c.get(registration_id)
    assert record["Expires_On__c"] == expires.isoformat()
