"""What the phone's outbox gets when it replays a form: JSON it can act on, never a page
or a redirect, with the same validation and idempotency a person gets."""

from __future__ import annotations

import io
import json
import re

import pytest

from portal import form_counts, testing
from salesforce import demo
from salesforce.gateway import Unavailable
from tests.test_registrations import NEW, form_data, registrations_with_key
from tests.test_workflow import form_fields

JSON = {"Accept": "application/json"}


def replay_headers(client, owner: str | None = None) -> dict:
    """The headers the outbox sends: JSON, a fresh CSRF token from /session.json, the owner."""
    session = client.get("/session.json", headers=JSON).get_json()
    headers = {**JSON, "X-CSRFToken": session["csrf_token"]}
    if owner:
        headers["X-Portal-Owner"] = owner
    return headers


def replayed(data: dict) -> dict:
    """The form as the outbox posts it: without the page's CSRF token."""
    return {name: value for name, value in data.items() if name != "csrf_token"}


def test_replay_answers_json_naming_the_registration(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = replayed(form_data(client))

    response = client.post(NEW, data=data, headers=replay_headers(client, partner.rep.id))

    assert response.status_code == 200
    [record] = registrations_with_key(sf, data["submission_key"])
    assert response.get_json() == {
        "registration": {"id": record["Id"], "url": f"/registrations/{record['Id']}"}
    }


def test_replaying_the_same_submission_key_lands_on_the_same_record(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = replayed(form_data(client))
    content = b"%PDF-1.7\n" + bytes(range(256)) * 8

    answers = [
        client.post(
            NEW,
            data={**data, "attachment": (io.BytesIO(content), "proof.pdf")},
            headers=replay_headers(client, partner.rep.id),
            content_type="multipart/form-data",
        )
        for _ in range(2)
    ]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].get_json() == answers[1].get_json()
    [record] = registrations_with_key(sf, data["submission_key"])
    page = client.get(f"/registrations/{record['Id']}").text
    assert page.count("proof.pdf") == 1


def test_validation_errors_come_back_by_field(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = replayed(form_data(client, deal_value="0", end_customer_name=""))

    response = client.post(NEW, data=data, headers=replay_headers(client, partner.rep.id))

    assert response.status_code == 422
    answer = response.get_json()
    assert answer["error"] == "validation-failed"
    assert answer["fields"] == {
        "end_customer_name": ["Enter the customer's company name."],
        "deal_value": ["Enter a value above 0."],
    }
    assert registrations_with_key(sf, data["submission_key"]) == []


def test_a_form_filled_in_by_someone_else_is_refused(sign_in, partner, sf):
    client = sign_in(partner.colleague)
    data = replayed(form_data(client))

    response = client.post(NEW, data=data, headers=replay_headers(client, partner.rep.id))

    assert response.status_code == 403
    assert response.get_json()["error"] == "wrong-person"
    assert registrations_with_key(sf, data["submission_key"]) == []


def test_a_replay_after_sign_out_is_never_redirected(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = replayed(form_data(client))
    headers = replay_headers(client, partner.rep.id)
    client.post("/sign-out", data={"csrf_token": headers["X-CSRFToken"]})

    response = client.post(NEW, data=data, headers=headers)
    page = client.get(NEW, headers=JSON)

    # The token died with the session; the outbox then asks who is signed in: nobody.
    assert response.status_code == 400
    assert response.get_json()["error"] == "form-expired"
    assert page.status_code == 401
    assert page.get_json()["error"] == "sign-in-required"
    assert "Location" not in response.headers and "Location" not in page.headers
    assert client.get("/session.json").get_json() == {"person": None}
    assert registrations_with_key(sf, data["submission_key"]) == []


def test_an_expired_csrf_token_is_named(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = replayed(form_data(client))

    response = client.post(
        NEW, data=data, headers={**JSON, "X-CSRFToken": "stale", "X-Portal-Owner": partner.rep.id}
    )

    assert response.status_code == 400
    assert response.get_json()["error"] == "form-expired"
    assert registrations_with_key(sf, data["submission_key"]) == []


def test_salesforce_unreachable_is_503_unavailable(sign_in, partner, app, monkeypatch):
    client = sign_in(partner.rep)
    data = replayed(form_data(client))

    def unreachable(*args, **kwargs):
        raise Unavailable("submit registration")

    monkeypatch.setattr(app.extensions["gateway"], "submit_registration", unreachable)
    response = client.post(NEW, data=data, headers=replay_headers(client, partner.rep.id))

    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"


def test_a_person_still_gets_the_form_page_with_errors(sign_in, partner):
    client = sign_in(partner.rep)

    response = client.post(NEW, data=form_data(client, deal_value="0"))

    assert response.status_code == 400
    assert "Enter a value above 0." in response.text


# -- the app shell --------------------------------------------------------------------


def test_service_worker_is_stamped_with_the_shell_and_never_cached(client, app):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["Service-Worker-Allowed"] == "/"
    stamp = re.match(r"const SHELL = (\{.*\});\n", response.text)
    assert stamp
    assets = json.loads(stamp.group(1))["assets"]
    assert re.fullmatch(r"/static/app\.[0-9a-f]{12}\.css", assets[2])
    assert "/offline" in assets
    assert not [url for url in assets if url.startswith("/static/sw.")]
    # The worker imports its modules by their digested names, which it also keeps.
    imports = re.findall(r"from '(/static/sw/[^']+)'", response.text)
    assert imports
    assert set(imports) <= set(assets)


def test_a_new_shell_version_changes_the_worker(client, app):
    before = client.get("/sw.js").text
    app.config["SHELL_VERSION"] = "next-release"

    after = client.get("/sw.js").text

    assert before != after
    assert '"version": "next-release"' in after


def test_manifest_covers_the_whole_portal(client):
    response = client.get("/manifest.webmanifest")

    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["scope"] == "/"
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


@pytest.mark.parametrize("signed_in", [False, True])
def test_pages_name_the_signed_in_person(sign_in, client, partner, signed_in):
    if signed_in:
        sign_in(partner.rep)

    page = client.get("/" if signed_in else "/sign-in")

    assert page.headers["X-Portal-Person"] == (partner.rep.id if signed_in else "")
    assert client.get("/static/app.css").headers.get("X-Portal-Person") is None


def test_offline_page_shows_nobody(sign_in, partner):
    client = sign_in(partner.rep)

    page = client.get("/offline")

    assert page.status_code == 200
    assert partner.rep.name not in page.text
    assert "csrf" not in page.text
    assert 'name="portal-person"' not in page.text


def test_session_state_for_the_outbox(sign_in, client, partner):
    signed_out = client.get("/session.json")
    sign_in(partner.rep)
    signed_in = client.get("/session.json")

    assert signed_out.get_json() == {"person": None}
    assert signed_in.get_json()["person"] == {"id": partner.rep.id}
    assert signed_in.get_json()["csrf_token"]
    assert signed_in.headers["Cache-Control"] == "no-store"


def test_csrf_token_from_session_state_is_accepted(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = replayed(form_data(client))
    token = client.get("/session.json").get_json()["csrf_token"]

    response = client.post(NEW, data={**data, "csrf_token": token})

    assert response.status_code == 302
    assert len(registrations_with_key(sf, data["submission_key"])) == 1


def test_form_is_marked_for_the_outbox(sign_in, partner):
    client = sign_in(partner.rep)

    page = client.get(NEW).text

    assert 'data-outbox="registration"' in page
    assert testing.KEY_PATTERN.search(page)


# -- the needs-info answer -----------------------------------------------------------


def test_answer_replayed_twice_lands_once_with_its_file(sign_in, partner, queue_id, sf):
    client = sign_in(partner.rep)
    registration_id = demo.create_registration(
        sf,
        account_id=partner.account_id,
        contact_id=partner.rep.id,
        owner_id=queue_id,
        customer="Answer Co",
        status="Needs Info",
    )
    path = f"/registrations/{registration_id}/answer"
    page = client.get(f"/registrations/{registration_id}").text
    assert 'data-outbox="answer"' in page
    fields = replayed(form_fields(page, path))

    answers = [
        client.post(
            path,
            data={
                **fields,
                "answer": "The CFO signs.",
                "attachment": (io.BytesIO(b"%PDF-1.4 org chart"), "org-chart.pdf"),
            },
            headers=replay_headers(client, partner.rep.id),
            content_type="multipart/form-data",
        )
        for _ in range(2)
    ]

    url = f"/registrations/{registration_id}"
    for answer in answers:
        assert answer.status_code == 200
        assert answer.get_json() == {"registration": {"id": registration_id, "url": url}}
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "In Review"
    page = client.get(url).text
    assert page.count("org-chart.pdf") == 1
    assert "Answer sent" not in page  # a replay leaves no message for a later page


def test_answer_filled_in_by_someone_else_is_refused(sign_in, partner, queue_id, sf):
    client = sign_in(partner.manager)
    registration_id = demo.create_registration(
        sf,
        account_id=partner.account_id,
        contact_id=partner.rep.id,
        owner_id=queue_id,
        customer="Answer Co",
        status="Needs Info",
    )
    path = f"/registrations/{registration_id}/answer"
    fields = replayed(form_fields(client.get(f"/registrations/{registration_id}").text, path))

    response = client.post(
        path, data={**fields, "answer": "x"}, headers=replay_headers(client, partner.rep.id)
    )

    assert response.status_code == 403
    assert response.get_json()["error"] == "wrong-person"
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "Needs Info"


def test_empty_answer_comes_back_by_field(sign_in, partner, queue_id, sf):
    client = sign_in(partner.rep)
    registration_id = demo.create_registration(
        sf,
        account_id=partner.account_id,
        contact_id=partner.rep.id,
        owner_id=queue_id,
        customer="Answer Co",
        status="Needs Info",
    )
    path = f"/registrations/{registration_id}/answer"
    fields = replayed(form_fields(client.get(f"/registrations/{registration_id}").text, path))

    response = client.post(
        path, data={**fields, "answer": ""}, headers=replay_headers(client, partner.rep.id)
    )

    assert response.status_code == 422
    assert response.get_json()["fields"] == {"answer": ["Write your answer to the question."]}


def test_the_workers_prefetch_of_the_form_is_not_counted_as_opened(sign_in, partner, app):
    client = sign_in(partner.rep)

    client.get(NEW, headers={"Purpose": "prefetch"})
    with app.app_context():
        after_prefetch = [(c.opened, c.submitted) for c in form_counts.counts().pending()]
    client.get(NEW)
    with app.app_context():
        after_opening = [(c.opened, c.submitted) for c in form_counts.counts().pending()]

    assert after_prefetch == []
    assert after_opening == [(1, 0)]
