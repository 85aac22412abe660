"""Signing in with single sign-on (OpenID Connect), against a real provider on loopback."""

from __future__ import annotations

import logging
import socket
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal import create_app, localidp
from portal.localidp import LocalIdP
from salesforce import demo

IDP_TIMEOUT_SECONDS = 10


@dataclass
class Staff:
    id: str
    email: str
    name: str


@pytest.fixture
def make_staff(sf, local_idp):
    """Creates an internal user in the org whom the local provider can sign in."""

    def make(role="Channel Manager", regions=("EMEA",), active=True, queue_id=None) -> Staff:
        number = uuid.uuid4().hex[:8]
        email = f"sam.{number}@vendor.example"
        user_id = demo.create_internal_user(
            sf, "Sam", f"Staff{number}", email, role, regions, active
        )
        if queue_id:
            demo.add_to_queue(sf, queue_id, user_id)
        local_idp.add_identity(email, f"Sam Staff{number}")
        return Staff(user_id, email, f"Sam Staff{number}")

    return make


@pytest.fixture
def make_app(connector, mailbox, local_idp):
    """Builds a portal app like `app`, with other SSO settings."""
    from conftest import portal_config, sso_providers

    def make(providers=None, **settings):
        settings = {
            "PORTAL_BASE_URL": "http://localhost",
            "SSO_PROVIDERS": providers or sso_providers(local_idp),
            **settings,
        }
        return create_app(portal_config(connector, mailbox, **settings))

    return make


def begin(client, provider="staff") -> str:
    """Start signing in at the portal; the provider's sign-in page it sends the browser to."""
    response = client.get(f"/sso/{provider}")
    assert response.status_code == 302
    return response.headers["Location"]


def choose(authorize_url: str, email: str, tamper: str = "") -> str:
    """Pick `email` on the provider's page; the portal address the provider sends back."""
    page = requests.get(authorize_url, timeout=IDP_TIMEOUT_SECONDS)
    assert page.status_code == 200
    assert email in page.text
    answer = requests.post(
        authorize_url,
        data={"email": email, "tamper": tamper},
        allow_redirects=False,
        timeout=IDP_TIMEOUT_SECONDS,
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def sso_sign_in(client, email: str, provider="staff", tamper=""):
    return client.get(choose(begin(client, provider), email, tamper))


def assert_signed_out(client):
    home = client.get("/")
    assert home.status_code == 302
    assert "/sign-in" in home.headers["Location"]


def registration_in(sf, partner, region: str, country: str, owner_id: str) -> str:
    customer = f"{region} Customer {uuid.uuid4().hex[:6]}"
    demo.create_registration(
        sf,
        account_id=partner.account_id,
        contact_id=partner.rep.id,
        owner_id=owner_id,
        customer=customer,
        country=country,
        region=region,
    )
    return customer


# -- signing in ------------------------------------------------------------------------


def test_channel_manager_signs_in_and_sees_only_their_region(
    client, make_staff, partner, sf, queue_id
):
    manager = make_staff(regions=("APAC",))
    apac = registration_in(sf, partner, "APAC", "JP", queue_id)
    latam = registration_in(sf, partner, "LATAM", "BR", queue_id)

    response = sso_sign_in(client, manager.email)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert manager.name in home.text
    assert "channel manager" in home.text
    assert apac in home.text
    assert latam not in home.text


def test_approver_sees_what_their_queue_owns(client, make_staff, partner, sf, queue_id):
    approvals = demo.ensure_queue(sf, "Sso_Approvals", "SSO Approvals")
    approver = make_staff(role="Approver", regions=(), queue_id=approvals)
    theirs = registration_in(sf, partner, "EMEA", "DE", approvals)
    desk = registration_in(sf, partner, "EMEA", "FR", queue_id)

    assert sso_sign_in(client, approver.email).status_code == 302

    home = client.get("/")
    assert theirs in home.text
    assert desk not in home.text


def test_sign_in_request_uses_pkce_s256_nonce_and_state(client, local_idp):
    authorize_url = begin(client)

    assert authorize_url.startswith(f"{local_idp.issuer}/authorize?")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["portal-staff"]
    assert query["redirect_uri"] == ["http://localhost/sso/staff/callback"]
    assert {"openid", "email"} <= set(query["scope"][0].split())
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["nonce"][0]
    assert query["state"][0]


def test_redirect_uri_follows_the_configured_base_url(make_app):
    app = make_app(PORTAL_BASE_URL="https://partners.vendor.example/")

    authorize_url = begin(app.test_client())

    redirect_uri = parse_qs(urlsplit(authorize_url).query)["redirect_uri"]
    assert redirect_uri == ["https://partners.vendor.example/sso/staff/callback"]


def test_partner_signs_in_with_their_company_provider(client, make_partner, sf, local_idp):
    partner = make_partner(status="Invited")
    sf.Account.update(partner.account_id, {"Portal_Identity_Provider__c": "partner-sso"})
    local_idp.add_identity(partner.rep.email, partner.rep.name)
    mine = registration_in(sf, partner, "EMEA", "DE", demo.ensure_queue(sf))

    response = sso_sign_in(client, partner.rep.email, provider="partner-sso")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert partner.rep.name in home.text
    assert mine in home.text
    assert sf.Contact.get(partner.rep.id)["Portal_Status__c"] == "Active"


def test_partner_whose_company_has_no_provider_is_not_invited(client, partner, local_idp):
    local_idp.add_identity(partner.rep.email, partner.rep.name)

    response = sso_sign_in(client, partner.rep.email, provider="partner-sso")

    assert response.status_code == 403
    assert "not invited" in response.text
    assert "partner manager" in response.text
    assert_signed_out(client)


def test_partner_cannot_sign_in_as_staff(client, partner, sf, local_idp):
    sf.Account.update(partner.account_id, {"Portal_Identity_Provider__c": "partner-sso"})
    local_idp.add_identity(partner.rep.email, partner.rep.name)

    response = sso_sign_in(client, partner.rep.email, provider="staff")

    assert response.status_code == 403
    assert "not invited" in response.text
    assert_signed_out(client)


def test_unknown_email_gets_the_not_invited_page(client, local_idp):
    stranger = local_idp.add_identity(f"new.{uuid.uuid4().hex[:8]}@vendor.example", "New Hire")

    response = sso_sign_in(client, stranger.email)

    assert response.status_code == 403
    assert "You are not invited" in response.text
    assert stranger.email in response.text
    assert "Ask a portal admin" in response.text
    assert_signed_out(client)


def test_inactive_user_is_not_invited(client, make_staff):
    former = make_staff(active=False)

    response = sso_sign_in(client, former.email)

    assert response.status_code == 403
    assert_signed_out(client)


def test_unknown_provider_is_not_found(client):
    assert client.get("/sso/nobody").status_code == 404
    assert client.get("/sso/nobody/callback?code=x&state=y").status_code == 404


def test_sign_in_buttons_are_plain_links_in_the_same_window(app):
    with app.test_request_context("/sign-in"):
        from flask import render_template

        buttons = render_template("sso/_buttons.html")

    assert 'href="/sso/staff"' in buttons
    assert "Sign in with Vendor staff" in buttons
    assert "Sign in with Partner Co" in buttons
    assert "target=" not in buttons
    assert "<script" not in buttons


def test_providers_come_from_json_in_the_environment(monkeypatch):
    from portal import config, sso

    setting = (
        '{"staff": {"label": "Vendor staff", "issuer": "https://idp.example.com",'
        ' "client_id": "portal", "client_secret": "s3cret", "kind": "internal"}}'
    )
    monkeypatch.setenv("SSO_PROVIDERS", setting)
    monkeypatch.setenv("SSO_LEEWAY_SECONDS", "30")

    settings = config.from_env()
    providers = sso.load_providers(settings["SSO_PROVIDERS"])

    assert settings["SSO_LEEWAY_SECONDS"] == 30
    assert providers["staff"].label == "Vendor staff"
    assert providers["staff"].metadata_url == (
        "https://idp.example.com/.well-known/openid-configuration"
    )


def test_incomplete_provider_settings_stop_the_app(make_app):
    with pytest.raises(ValueError, match="staff"):
        make_app(providers={"staff": {"label": "Vendor staff", "issuer": "https://x.example"}})


# -- rejections ------------------------------------------------------------------------

BAD_TOKENS = [
    (localidp.WRONG_NONCE, "invalid_claim nonce"),
    (localidp.WRONG_AUDIENCE, "invalid_claim aud"),
    (localidp.WRONG_ISSUER, "invalid_claim iss"),
    (localidp.EXPIRED, "expired_token exp"),
    (localidp.ISSUED_IN_FUTURE, "invalid_claim iat"),
    (localidp.BAD_SIGNATURE, "bad_signature"),
]


@pytest.mark.parametrize(("tamper", "logged"), BAD_TOKENS)
def test_bad_id_token_is_refused(client, make_staff, caplog, tamper, logged):
    staff = make_staff()
    caplog.set_level(logging.INFO)

    response = sso_sign_in(client, staff.email, tamper=tamper)

    assert response.status_code == 400
    assert "could not verify the answer from Vendor staff" in response.text
    assert_signed_out(client)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [f"sso id token from staff rejected: {logged}"]
    assert staff.email not in caplog.text
    assert "eyJ" not in caplog.text  # no JWT


def test_unverified_email_is_refused(client, make_staff, caplog):
    staff = make_staff()

    response = sso_sign_in(client, staff.email, tamper=localidp.UNVERIFIED_EMAIL)

    assert response.status_code == 403
    assert "has not verified your email address" in response.text
    assert_signed_out(client)
    assert "unverified email" in caplog.text
    assert staff.email not in caplog.text


def test_clock_leeway_accepts_a_token_that_just_expired(client, make_staff):
    staff = make_staff()

    response = sso_sign_in(client, staff.email, tamper=localidp.JUST_EXPIRED)

    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_without_leeway_a_token_that_just_expired_is_refused(make_app, make_staff):
    client = make_app(SSO_LEEWAY_SECONDS=0).test_client()
    staff = make_staff()

    response = sso_sign_in(client, staff.email, tamper=localidp.JUST_EXPIRED)

    assert response.status_code == 400
    assert_signed_out(client)


def test_answer_meant_for_another_browser_is_refused(app, make_staff, caplog):
    staff = make_staff()
    victim, attacker = app.test_client(), app.test_client()
    callback = choose(begin(attacker), staff.email)

    response = victim.get(callback)

    assert response.status_code == 400
    assert "started in another window" in response.text
    assert_signed_out(victim)
    assert "no matching sign-in" in caplog.text


def test_tampered_state_is_refused(client, make_staff):
    staff = make_staff()
    callback = choose(begin(client), staff.email)
    state = parse_qs(urlsplit(callback).query)["state"][0]

    response = client.get(callback.replace(state, state[::-1]))

    assert response.status_code == 400
    assert_signed_out(client)


def test_cancelling_at_the_provider_is_explained(client, caplog):
    authorize_url = begin(client)
    answer = requests.post(
        authorize_url, data={"cancel": "1"}, allow_redirects=False, timeout=IDP_TIMEOUT_SECONDS
    )
    assert "error=access_denied" in answer.headers["Location"]

    response = client.get(answer.headers["Location"])

    assert response.status_code == 403
    assert "did not sign you in" in response.text
    assert_signed_out(client)
    assert "sso sign-in with staff ended by the provider: access_denied" in caplog.text


def test_other_provider_error_is_explained(client):
    begin(client)

    response = client.get("/sso/staff/callback?error=server_error&state=anything")

    assert response.status_code == 400
    assert "could not verify the answer" in response.text
    assert_signed_out(client)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def test_provider_down_before_sign_in(make_app, caplog):
    down = {
        "down": {
            "label": "Vendor staff",
            "issuer": f"http://localhost:{closed_port()}",
            "client_id": "portal",
            "client_secret": "unused",
            "kind": "internal",
        }
    }
    client = make_app(providers=down).test_client()

    response = client.get("/sso/down")

    assert response.status_code == 503
    assert "cannot reach Vendor staff" in response.text
    assert "sso provider down unreachable: ConnectionError" in caplog.text


def test_provider_down_when_the_browser_comes_back(make_app, make_staff):
    idp = LocalIdP()
    client_of_idp = idp.add_client("portal", "secret", ["http://localhost/sso/brief/callback"])
    idp.start()
    staff = make_staff()
    idp.add_identity(staff.email, staff.name)
    providers = {"brief": idp.provider_config(client_of_idp, "Vendor staff", "internal")}
    client = make_app(providers=providers).test_client()
    callback = choose(begin(client, "brief"), staff.email)
    idp.stop()

    response = client.get(callback)

    assert response.status_code == 503
    assert "cannot reach Vendor staff" in response.text
    assert_signed_out(client)
