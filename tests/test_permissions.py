"""Who may open what: every route, for every kind of person, including ones who must not."""

import io
from dataclasses import asdict

import pytest
from simple_salesforce.format import format_soql

from portal import testing
from portal.identity import Person
from salesforce import demo

REGISTRATION_PAGES = ("/registrations/{id}", "/registrations/{id}/files/{file}")
FOREIGN_MARKER = "Zanzibar Foreign Customer"


@pytest.fixture
def world(app, sf, make_partner, queue_id, mailbox):
    """Two partner companies, one registration with a file, and the vendor's people."""
    home, other = make_partner(), make_partner()
    owner = app.test_client()
    testing.sign_in(owner, mailbox, home.rep.email)
    page = owner.get("/registrations/new").text
    response = owner.post(
        "/registrations/new",
        data={
            "csrf_token": testing.CSRF_PATTERN.search(page).group(1),
            "submission_key": testing.KEY_PATTERN.search(page).group(1),
            "end_customer_name": FOREIGN_MARKER,
            "country": "DE",
            "deal_value": "5000",
            "product_line": "Analytics",
            "expected_close_date": "2099-01-01",
            "attachment": (io.BytesIO(b"%PDF-1.4 secret"), "secret.pdf"),
        },
        content_type="multipart/form-data",
    )
    registration_id = response.headers["Location"].rsplit("/", 1)[1]
    [link] = sf.query(
        format_soql(
            "SELECT ContentDocument.LatestPublishedVersionId FROM ContentDocumentLink "
            "WHERE LinkedEntityId = {}",
            registration_id,
        )
    )["records"]
    file_id = link["ContentDocument"]["LatestPublishedVersionId"]

    number = home.account_id[-6:]
    internal = {}
    for key, role, regions in (
        ("channel manager EMEA", "Channel Manager", ("EMEA",)),
        ("channel manager APAC", "Channel Manager", ("APAC",)),
        ("approver in queue", "Approver", ()),
        ("approver elsewhere", "Approver", ()),
        ("admin", "Admin", ()),
    ):
        email = f"{key.replace(' ', '.')}.{number}@vendor.example"
        internal[key] = demo.create_internal_user(sf, "Test", key.title(), email, role, regions)
    # A small German deal: the shipped routing rules send it to the EMEA desk.
    demo.add_to_queue(sf, demo.ensure_queue(sf, "EMEA_Desk"), internal["approver in queue"])
    return home, other, internal, registration_id, file_id


def client_for(app, mailbox, sf, world, who):
    home, other, internal, _, _ = world
    client = app.test_client()
    partners = {
        "rep who submitted": home.rep,
        "colleague rep": home.colleague,
        "manager of the company": home.manager,
        "rep of another company": other.rep,
        "manager of another company": other.manager,
        "disabled rep with a live session": home.rep,
    }
    if who == "anonymous":
        return client
    if who in partners:
        testing.sign_in(client, mailbox, partners[who].email)
        if who == "disabled rep with a live session":
            sf.Contact.update(home.rep.id, {"Portal_Status__c": "Disabled"})
        return client
    user = app.extensions["gateway"].internal_user(internal[who])
    person = Person.from_user(user, "sso")
    with client.session_transaction() as session:
        session["_user_id"] = person.id
        session["person"] = asdict(person)
    return client


SEES = {
    "rep who submitted": True,
    "manager of the company": True,
    "channel manager EMEA": True,
    "approver in queue": True,
    "admin": True,
    "colleague rep": False,
    "rep of another company": False,
    "manager of another company": False,
    "disabled rep with a live session": False,
    "channel manager APAC": False,
    "approver elsewhere": False,
}


@pytest.mark.parametrize("who", list(SEES))
def test_registration_and_its_file_are_visible_only_to_those_allowed(app, mailbox, sf, world, who):
    _, _, _, registration_id, file_id = world
    client = client_for(app, mailbox, sf, world, who)

    listing = client.get("/")
    page = client.get(f"/registrations/{registration_id}")
    download = client.get(f"/registrations/{registration_id}/files/{file_id}")

    assert listing.status_code == 200
    if SEES[who]:
        assert FOREIGN_MARKER in listing.text
        assert page.status_code == 200
        assert download.status_code == 200
        assert download.data == b"%PDF-1.4 secret"
    else:
        assert FOREIGN_MARKER not in listing.text
        assert registration_id not in listing.text
        assert page.status_code == 404
        assert FOREIGN_MARKER not in page.text
        assert download.status_code == 404
        assert b"secret" not in download.data


def test_anonymous_visitor_is_sent_to_sign_in_everywhere(app, world):
    _, _, _, registration_id, file_id = world
    client = app.test_client()
    for path in (
        "/",
        "/registrations/new",
        f"/registrations/{registration_id}",
        f"/registrations/{registration_id}/files/{file_id}",
        "/account/passkeys",
        "/passkeys/offer",
        "/invitations/new",
    ):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/sign-in"), path
        assert FOREIGN_MARKER not in response.text


def test_scripts_get_json_401_not_a_redirect(app, world):
    _, _, _, registration_id, _ = world
    client = app.test_client()
    for path in ("/", f"/registrations/{registration_id}", "/account/passkeys"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 401, path
        assert response.get_json()["error"] == "sign-in-required"


ONLY_PARTNERS = ("/registrations/new", "/account/passkeys")
ONLY_INVITERS = ("/invitations/new",)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("rep who submitted", ONLY_PARTNERS),
        ("manager of the company", ONLY_PARTNERS),
        ("channel manager EMEA", ONLY_INVITERS),
        ("approver in queue", ()),
        ("admin", ONLY_INVITERS),
    ],
)
def test_each_role_reaches_only_its_own_pages(app, mailbox, sf, world, who, allowed):
    client = client_for(app, mailbox, sf, world, who)
    for path in ONLY_PARTNERS + ONLY_INVITERS:
        expected = 200 if path in allowed else 404
        assert client.get(path).status_code == expected, (who, path)


def test_disabled_rep_cannot_submit_with_a_live_session(app, mailbox, sf, world):
    home, *_ = world
    client = client_for(app, mailbox, sf, world, "disabled rep with a live session")
    page = client.get("/registrations/new").text
    response = client.post(
        "/registrations/new",
        data={
            "csrf_token": testing.CSRF_PATTERN.search(page).group(1),
            "submission_key": testing.KEY_PATTERN.search(page).group(1),
            "end_customer_name": "Sneaky Corp",
            "country": "DE",
            "deal_value": "5000",
            "product_line": "Analytics",
            "expected_close_date": "2099-01-01",
        },
    )
    assert response.status_code == 403
    assert "access to the portal is switched off" in response.text
    count = sf.query(
        format_soql(
            "SELECT COUNT() FROM Deal_Registration__c WHERE End_Customer_Name__c = {}",
            "Sneaky Corp",
        )
    )["totalSize"]
    assert count == 0
    assert client.get("/").status_code == 302


def test_partner_sees_no_internal_only_fields(app, mailbox, sf, world):
    home, _, _, registration_id, _ = world
    sf.Deal_Registration__c.update(
        registration_id, {"Possible_Conflict__c": True, "Routing_Rule__c": "EMEA big deals"}
    )
    client = client_for(app, mailbox, sf, world, "manager of the company")
    page = client.get(f"/registrations/{registration_id}").text
    assert "EMEA big deals" not in page
    assert "conflict" not in page.lower()
