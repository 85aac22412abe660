"""Signing in with an emailed, single-use link."""

from datetime import UTC, datetime, timedelta

from portal.testing import csrf_token, link_from, path_of, submit_form


def request_link(client, mailbox, email):
    seen = len(mailbox.messages)
    response = submit_form(client, "/sign-in", {"email": email})
    return response, seen


def test_partner_signs_in_with_emailed_link(client, mailbox, partner):
    response, seen = request_link(client, mailbox, partner.rep.email)
    assert "Check your email" in response.text

    mail = mailbox.wait_for(partner.rep.email, after=seen)
    link = link_from(mail)
    assert "Sign in" in mail.subject or "sign-in" in mail.subject.lower()
    assert link in mail.html
    path = "/" + link.split("/", 3)[3]

    confirm = client.get(path)
    assert confirm.status_code == 200
    assert partner.rep.name in confirm.text
    signed_in = submit_form(client, path)
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200


def test_opening_the_link_does_not_use_it_up(client, mailbox, partner):
    _, seen = request_link(client, mailbox, partner.rep.email)
    path = path_of(link_from(mailbox.wait_for(partner.rep.email, after=seen)))

    for _ in range(2):
        assert client.get(path).status_code == 200
    assert submit_form(client, path).status_code == 302


def test_link_works_only_once(app, mailbox, partner, sf):
    client = app.test_client()
    _, seen = request_link(client, mailbox, partner.rep.email)
    path = path_of(link_from(mailbox.wait_for(partner.rep.email, after=seen)))
    other = app.test_client()
    token = csrf_token(other, path)
    assert submit_form(client, path).status_code == 302

    second = other.post(path, data={"csrf_token": token})
    assert second.status_code == 410
    assert "no longer works" in second.text
    assert other.get("/").status_code == 302
    contact = sf.Contact.get(partner.rep.id)
    assert contact["Portal_Login_Token_Hash__c"] is None
    assert contact["Portal_Status__c"] == "Active"


def test_expired_link_is_refused(client, mailbox, partner, sf):
    _, seen = request_link(client, mailbox, partner.rep.email)
    path = path_of(link_from(mailbox.wait_for(partner.rep.email, after=seen)))
    token = csrf_token(client, path)
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sf.Contact.update(partner.rep.id, {"Portal_Login_Token_Expires__c": past})

    assert client.post(path, data={"csrf_token": token}).status_code == 410
    assert client.get("/").status_code == 302


def test_guessed_link_is_refused(client):
    response = client.get("/sign-in/not-a-real-token-at-all")
    assert response.status_code == 410


def test_unknown_email_gets_the_same_answer_and_no_mail(client, mailbox):
    response, seen = request_link(client, mailbox, "nobody@nowhere.example")
    assert "Check your email" in response.text
    assert all("nobody@nowhere.example" not in (m.to or "") for m in mailbox.messages[seen:])


def test_disabled_contact_gets_no_link(client, mailbox, make_partner):
    disabled = make_partner(status="Disabled")
    response, seen = request_link(client, mailbox, disabled.rep.email)
    assert "Check your email" in response.text
    assert all(disabled.rep.email not in (m.to or "") for m in mailbox.messages[seen:])


def test_partner_of_a_company_outside_the_pilot_gets_no_link(client, mailbox, make_partner):
    outsider = make_partner(enabled=False)
    _, seen = request_link(client, mailbox, outsider.rep.email)
    assert all(outsider.rep.email not in (m.to or "") for m in mailbox.messages[seen:])


def test_malformed_email_gets_a_field_error(client):
    response = submit_form(client, "/sign-in", {"email": "not an email"})
    assert response.status_code == 200
    assert "Enter an email address like name@company.com." in response.text


def test_pages_need_sign_in(client):
    for path in ("/", "/registrations/new", "/registrations/a01Hs0000000001IAA"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]


def test_sign_out_ends_the_session(sign_in, partner):
    client = sign_in(partner.rep)
    assert client.get("/").status_code == 200
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/").status_code == 302


def test_sign_in_requests_are_rate_limited(connector, mailbox, queue_id, partner):
    from conftest import portal_config
    from portal import create_app

    app = create_app(
        portal_config(connector, mailbox, RATELIMIT_ENABLED=True, WTF_CSRF_ENABLED=False)
    )
    client = app.test_client()
    statuses = [
        client.post("/sign-in", data={"email": partner.rep.email}).status_code for _ in range(7)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]


def test_disabled_person_loses_access_at_the_next_check(app, sign_in, partner, sf):
    client = sign_in(partner.rep)
    app.config["IDENTITY_RECHECK_SECONDS"] = 0
    assert client.get("/").status_code == 200

    sf.Contact.update(partner.rep.id, {"Portal_Status__c": "Disabled"})
    assert client.get("/").status_code == 302
