"""Passkeys on a phone, through Chromium's own WebAuthn stack and a virtual authenticator."""

from playwright.sync_api import expect
from simple_salesforce.format import format_soql

from portal.testing import link_from


def without_autofill(page):
    """Hide the browser's passkey autofill, so only a tap on the button can sign in.

    Chromium's virtual authenticator answers an autofill request at once, where a person
    would pick the passkey from the keyboard's suggestions."""
    page.add_init_script("PublicKeyCredential.isConditionalMediationAvailable = async () => false")


def add_authenticator(context, page) -> tuple:
    """A platform authenticator with resident keys and user verification, for this page."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    answer = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, answer["authenticatorId"]


def passkeys_in_org(sf, contact_id):
    statement = format_soql(
        "SELECT Label__c, Revoked__c, Last_Used__c FROM Portal_Passkey__c "
        "WHERE Contact__c = {} ORDER BY CreatedDate",
        contact_id,
    )
    return sf.query(statement)["records"]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_invited_partner_creates_a_passkey_and_signs_in_with_it(
    phone, live_app, mailbox, make_partner, sf
):
    company = make_partner()
    seen = len(mailbox.messages)
    email = f"new.person.{company.account_id.lower()}@partner.example"
    result = live_app.test_cli_runner().invoke(
        args=[
            "invite",
            email,
            "--account",
            company.name,
            "--role",
            "Rep",
            "--first",
            "Nia",
            "--last",
            "Newman",
        ]
    )
    assert result.exit_code == 0, result.output
    invitation = mailbox.wait_for(email, after=seen)
    assert "invited" in invitation.subject

    page = phone.new_page()
    without_autofill(page)
    add_authenticator(phone, page)
    page.goto(link_from(invitation))
    expect(page.get_by_role("heading", name="Welcome, Nia Newman")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in faster next time")).to_be_visible()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("heading", name="My deals")).to_be_visible()
    [contact] = sf.query(
        format_soql("SELECT Id, Portal_Status__c FROM Contact WHERE Email = {}", email)
    )["records"]
    assert contact["Portal_Status__c"] == "Active"
    assert len(passkeys_in_org(sf, contact["Id"])) == 1

    sign_out(page)
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("heading", name="My deals")).to_be_visible()
    assert passkeys_in_org(sf, contact["Id"])[0]["Last_Used__c"] is not None


def test_passkey_autofill_signs_in_without_typing(phone, partner, sign_in_page, sf):
    page = sign_in_page(phone, partner.rep)
    add_authenticator(phone, page)
    page.goto("/account/passkeys")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator(".passkey-name")).to_have_count(1)

    # Signing out lands on the sign-in page, where the browser offers the passkey at once.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="My deals")).to_be_visible()
    assert passkeys_in_org(sf, partner.rep.id)[0]["Last_Used__c"] is not None


def test_second_passkey_added_and_first_revoked(phone, partner, sign_in_page, sf):
    page = sign_in_page(phone, partner.rep)
    without_autofill(page)
    cdp, first = add_authenticator(phone, page)
    page.goto("/account/passkeys")
    page.get_by_label("Name for this device").fill("Old phone")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Old phone").first).to_be_visible()

    # A second device: the first authenticator leaves, a new one arrives.
    cdp.send(
        "WebAuthn.setAutomaticPresenceSimulation", {"authenticatorId": first, "enabled": False}
    )
    old_credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": first})["credentials"]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
    _, second = add_authenticator(phone, page)
    page.get_by_label("Name for this device").fill("New phone")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator(".passkey-name", has_text="New phone")).to_be_visible()

    page.get_by_role("button", name="Remove Old phone").click()
    expect(page.get_by_text("“Old phone” can no longer sign in.")).to_be_visible()
    expect(page.locator(".passkey-name", has_text="Old phone")).to_have_count(0)
    records = passkeys_in_org(sf, partner.rep.id)
    assert [(r["Label__c"], r["Revoked__c"]) for r in records] == [
        ("Old phone", True),
        ("New phone", False),
    ]

    # The old phone comes back and tries to sign in: refused.
    sign_out(page)
    page.close()
    old_page = phone.new_page()
    without_autofill(old_page)
    old_cdp, old_id = add_authenticator(phone, old_page)
    old_cdp.send(
        "WebAuthn.addCredential", {"authenticatorId": old_id, "credential": old_credentials[0]}
    )
    old_page.goto("/sign-in")
    old_page.get_by_role("button", name="Sign in with a passkey").click()
    expect(old_page.get_by_text("This passkey was removed.")).to_be_visible()
    old_page.goto("/")
    expect(old_page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_email_link_recovery_offers_a_passkey(phone, partner, mailbox):
    page = phone.new_page()
    page.goto("/sign-in")
    page.get_by_label("Work email").fill(partner.manager.email)
    seen = len(mailbox.messages)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.goto(link_from(mailbox.wait_for(partner.manager.email, after=seen)))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in faster next time")).to_be_visible()
    page.get_by_role("link", name="Not now").click()
    expect(page.get_by_role("heading", name="My deals")).to_be_visible()
