"""Registering a deal, My Deals and the registration page."""

import io
import re
from datetime import date, timedelta

import pytest
from simple_salesforce.format import format_soql

from portal import background, testing

NEW = "/registrations/new"


def form_data(client, **changes):
    """A valid registration as the form at /registrations/new would send it."""
    page = client.get(NEW).text
    data = {
        "csrf_token": testing.CSRF_PATTERN.search(page).group(1),
        "submission_key": testing.KEY_PATTERN.search(page).group(1),
        "end_customer_name": "Globex GmbH",
        "end_customer_domain": "https://www.Globex.de/about",
        "country": "DE",
        "deal_value": "125000.50",
        "product_line": "Security Suite",
        "expected_close_date": (date.today() + timedelta(days=45)).isoformat(),
        "notes": "Champion is the CISO.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def registrations_with_key(sf, key):
    statement = format_soql(
        "SELECT Id, End_Customer_Name__c, End_Customer_Domain__c, Country__c, Region__c, "
        "Deal_Value__c, Size_Band__c, Product_Line__c, Expected_Close_Date__c, Notes__c, "
        "Status__c, Next_Step__c, Partner_Account__c, Submitted_By__c, Owner.Name, Routing_Rule__c "
        "FROM Deal_Registration__c WHERE Submission_Key__c = {}",
        key,
    )
    return sf.query(statement)["records"]


def count_for(sf, account_id):
    statement = format_soql(
        "SELECT COUNT() FROM Deal_Registration__c WHERE Partner_Account__c = {}", account_id
    )
    return sf.query(statement)["totalSize"]


def test_submission_writes_the_registration_and_its_first_stage(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = form_data(client)

    response = client.post(NEW, data=data)

    assert response.status_code == 302
    [record] = registrations_with_key(sf, data["submission_key"])
    assert response.headers["Location"] == f"/registrations/{record['Id']}"
    assert record["End_Customer_Name__c"] == "Globex GmbH"
    assert record["End_Customer_Domain__c"] == "www.globex.de"
    assert record["Country__c"] == "DE"
    assert record["Region__c"] == "EMEA"
    assert record["Deal_Value__c"] == 125000.5
    assert record["Size_Band__c"] == "50K-250K"
    assert record["Product_Line__c"] == "Security Suite"
    assert record["Expected_Close_Date__c"] == data["expected_close_date"]
    assert record["Notes__c"] == "Champion is the CISO."
    assert record["Status__c"] == "Submitted"
    assert record["Next_Step__c"].startswith("Nothing to do now: expect a decision by")
    assert record["Partner_Account__c"] == partner.account_id
    assert record["Submitted_By__c"] == partner.rep.id
    assert record["Owner"]["Name"] == "EMEA Desk"
    assert record["Routing_Rule__c"] == "EMEA"
    stages = sf.query(
        format_soql(
            "SELECT From_Status__c, To_Status__c, Actor_Id__c, Source__c "
            "FROM Deal_Registration_Stage__c WHERE Registration__c = {}",
            record["Id"],
        )
    )["records"]
    assert [
        (s["From_Status__c"], s["To_Status__c"], s["Actor_Id__c"], s["Source__c"]) for s in stages
    ] == [(None, "Submitted", partner.rep.id, "Portal")]


def test_submitting_the_same_form_twice_makes_one_registration(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = form_data(client)

    first = client.post(NEW, data=data)
    second = client.post(NEW, data=data)

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(registrations_with_key(sf, data["submission_key"])) == 1


def test_attachment_becomes_a_file_on_the_registration(sign_in, partner, sf):
    client = sign_in(partner.rep)
    content = b"%PDF-1.7\n" + bytes(range(256)) * 40
    data = form_data(client, attachment=(io.BytesIO(content), "quote ä.pdf"))

    response = client.post(NEW, data=data, content_type="multipart/form-data")

    registration_id = response.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/registrations/{registration_id}")
    assert "quote ä.pdf" in page.text
    links = sf.query(
        format_soql(
            "SELECT ContentDocument.LatestPublishedVersionId FROM ContentDocumentLink "
            "WHERE LinkedEntityId = {}",
            registration_id,
        )
    )["records"]
    version_id = links[0]["ContentDocument"]["LatestPublishedVersionId"]
    stored = sf.session.get(
        f"{sf.base_url}sobjects/ContentVersion/{version_id}/VersionData", headers=sf.headers
    )
    assert stored.content == content
    download = client.get(f"/registrations/{registration_id}/files/{version_id}")
    assert download.status_code == 200
    assert download.data == content


def test_resubmitting_with_a_file_uploads_it_once(sign_in, partner, sf):
    client = sign_in(partner.rep)
    data = form_data(client)
    for _ in range(2):
        data["attachment"] = (io.BytesIO(b"%PDF-1.4 proof"), "proof.pdf")
        response = client.post(NEW, data=data, content_type="multipart/form-data")
    registration_id = response.headers["Location"].rsplit("/", 1)[1]
    count = sf.query(
        format_soql(
            "SELECT COUNT() FROM ContentDocumentLink WHERE LinkedEntityId = {}", registration_id
        )
    )["totalSize"]
    assert count == 1


FUTURE = (date.today() + timedelta(days=30)).isoformat()
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"end_customer_name": ""}, "end_customer_name", "Enter the customer&#39;s company name."),
        ({"end_customer_name": "x" * 256}, "end_customer_name", "under 255 characters"),
        ({"country": ""}, "country", "Choose the customer&#39;s country."),
        ({"country": "XX"}, "country", "Not a valid choice"),
        ({"deal_value": "abc"}, "deal_value", "Not a valid decimal value"),
        ({"deal_value": ""}, "deal_value", "Enter the expected deal value."),
        ({"deal_value": "0"}, "deal_value", "Enter a value above 0."),
        ({"deal_value": "-5"}, "deal_value", "Enter a value above 0."),
        ({"deal_value": "1e9999"}, "deal_value", "That value is too large for a deal."),
        ({"deal_value": "NaN"}, "deal_value", "Enter the value as a number, like 125000.50."),
        ({"deal_value": "-Infinity"}, "deal_value", "Enter the value as a number, like 125000"),
        ({"deal_value": "1.234"}, "deal_value", "Use at most two decimal places."),
        ({"product_line": "Toasters"}, "product_line", "Not a valid choice"),
        ({"product_line": ""}, "product_line", "Choose a product line."),
        ({"expected_close_date": YESTERDAY}, "expected_close_date", "cannot be in the past"),
        ({"expected_close_date": "31/12/2030"}, "expected_close_date", "Not a valid date value"),
        ({"expected_close_date": ""}, "expected_close_date", "Enter the date you expect"),
        ({"end_customer_domain": "not a domain"}, "end_customer_domain", "Enter a website like"),
        ({"notes": "n" * (10 * 1024 * 1024)}, "notes", "Notes can be at most 32,000 characters."),
    ],
)
def test_bad_input_gets_a_field_error_and_writes_nothing(
    sign_in, partner, sf, changes, field, message
):
    client = sign_in(partner.rep)
    data = form_data(client, **changes)

    response = client.post(NEW, data=data)

    assert response.status_code == 400
    error = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', response.text)
    assert error is not None, f"no error shown next to {field}"
    assert message in error.group(1)
    assert count_for(sf, partner.account_id) == 0
    if field != "end_customer_name":
        assert 'value="Globex GmbH"' in response.text


def test_form_keeps_a_fresh_submission_key_per_render(sign_in, partner):
    client = sign_in(partner.rep)
    assert form_data(client)["submission_key"] != form_data(client)["submission_key"]


def test_form_fields_suit_a_phone_keyboard(sign_in, partner):
    page = sign_in(partner.rep).get(NEW).text
    assert re.search(r'<input[^>]*id="deal_value"[^>]*inputmode="decimal"', page)
    assert re.search(r'<input[^>]*id="expected_close_date"[^>]*type="date"', page)
    assert re.search(r'<input[^>]*id="end_customer_domain"[^>]*inputmode="url"', page)
    assert "<script>" not in page


def test_my_deals_lists_newest_activity_first_with_status_and_next_step(sign_in, partner, sf):
    client = sign_in(partner.rep)
    for name in ("First Corp", "Second Corp"):
        # A customer of this partner alone: a conflict flag would count as newer activity.
        domain = f"{name.split()[0].lower()}-{partner.account_id.lower()}.example"
        client.post(NEW, data=form_data(client, end_customer_name=name, end_customer_domain=domain))
    background.wait_until_idle()

    page = client.get("/").text

    assert page.index("Second Corp") < page.index("First Corp")
    assert page.count("Submitted") >= 2
    assert "Nothing to do now: expect a decision by" in page
    assert "EMEA Desk" in page


def test_new_partner_sees_what_to_do(sign_in, partner):
    page = sign_in(partner.rep).get("/").text
    assert "No deals yet" in page
    assert "Register your first deal" in page


def test_registration_page_explains_status_and_next_step(sign_in, partner):
    client = sign_in(partner.rep)
    response = client.post(NEW, data=form_data(client))
    page = client.get(response.headers["Location"]).text
    assert "We have your registration and it is waiting for the channel team." in page
    assert "Next step:" in page
    assert "Germany" in page
    assert "$125,000.50" in page


def submit_as(client):
    response = client.post(NEW, data=form_data(client))
    return response.headers["Location"]


def test_visibility_between_rep_colleague_manager_and_other_partner(
    app, mailbox, partner, make_partner
):
    from portal.testing import link_from, submit_form

    def signed_in(person):
        client = app.test_client()
        seen = len(mailbox.messages)
        submit_form(client, "/sign-in", {"email": person.email})
        submit_form(
            client, "/" + link_from(mailbox.wait_for(person.email, after=seen)).split("/", 3)[3]
        )
        return client

    other = make_partner()
    rep, colleague, manager, stranger, stranger_manager = (
        signed_in(partner.rep),
        signed_in(partner.colleague),
        signed_in(partner.manager),
        signed_in(other.rep),
        signed_in(other.manager),
    )
    location = submit_as(rep)
    registration_id = location.rsplit("/", 1)[1]

    assert rep.get(location).status_code == 200
    assert manager.get(location).status_code == 200
    assert registration_id in manager.get("/").text
    for outsider in (colleague, stranger, stranger_manager):
        response = outsider.get(location)
        assert response.status_code == 404
        assert "Globex" not in response.text
        assert registration_id not in outsider.get("/").text
    assert stranger.get(location.lower()).status_code == 404
    assert rep.get("/registrations/a01Hs0000000zzzIAA").status_code == 404
    assert rep.get("/registrations/not-an-id").status_code == 404
