"""The registration loop: decisions, the needs-info loop, the audit trail, notifications."""

import io
import re
from datetime import date, timedelta

import pytest
from simple_salesforce.format import format_soql

from portal import background, testing


def submit(client, customer="Globex GmbH", domain="globex.de", country="DE", value="120000"):
    page = client.get("/registrations/new").text
    response = client.post(
        "/registrations/new",
        data={
            "csrf_token": testing.CSRF_PATTERN.search(page).group(1),
            "submission_key": testing.KEY_PATTERN.search(page).group(1),
            "end_customer_name": customer,
            "end_customer_domain": domain,
            "country": country,
            "deal_value": value,
            "product_line": "Security Suite",
            "expected_close_date": (date.today() + timedelta(days=40)).isoformat(),
        },
    )
    assert response.status_code == 302, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def form_fields(page: str, action: str) -> dict:
    """The hidden fields of the form posting to `action` on `page`."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert form, f"no form posting to {action}"
    return dict(
        re.findall(
            r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', form.group(1)
        )
    )


def act(client, registration_id, action, **data):
    """Open the review page and post one of its forms, like the approver's browser."""
    page = client.get(f"/review/{registration_id}").text
    path = f"/review/{registration_id}/{action}"
    return client.post(path, data={**form_fields(page, path), **data})


def partner_act(client, registration_id, action, **data):
    page = client.get(f"/registrations/{registration_id}").text
    path = f"/registrations/{registration_id}/{action}"
    return client.post(
        path, data={**form_fields(page, path), **data}, content_type="multipart/form-data"
    )


def stages(sf, registration_id):
    statement = format_soql(
        "SELECT From_Status__c, To_Status__c, Actor__c, Actor_Id__c, Reason_Code__c, Comment__c, "
        "Source__c, Entered_At__c FROM Deal_Registration_Stage__c WHERE Registration__c = {} "
        "ORDER BY Entered_At__c",
        registration_id,
    )
    return sf.query(statement)["records"]


@pytest.fixture
def approver(make_internal):
    return make_internal("Approver", queues=["EMEA_Desk"], name="Ann Approver")


def test_full_loop_with_needs_info_twice_then_approval(sign_in, partner, approver, sf, mailbox):
    rep = sign_in(partner.rep)
    registration_id = submit(rep)
    approver_id, reviewer = approver

    assert act(reviewer, registration_id, "needs-info", question="Who signs?").status_code == 302
    page = rep.get(f"/registrations/{registration_id}").text
    assert "Needs your answer" in page and "Who signs?" in page
    assert "Who signs?" in rep.get("/").text or "Answer the question" in rep.get("/").text

    answer = partner_act(
        rep,
        registration_id,
        "answer",
        answer="The CFO.",
        attachment=(io.BytesIO(b"%PDF-1.4 org chart"), "org-chart.pdf"),
    )
    assert answer.status_code == 302
    record = sf.Deal_Registration__c.get(registration_id)
    assert record["Status__c"] == "In Review"
    assert record["Open_Question__c"] is None
    assert "org-chart.pdf" in rep.get(f"/registrations/{registration_id}").text

    act(reviewer, registration_id, "needs-info", question="And the budget?")
    partner_act(rep, registration_id, "answer", answer="Approved in Q3.")
    assert act(reviewer, registration_id, "approve").status_code == 302

    record = sf.Deal_Registration__c.get(registration_id)
    assert record["Status__c"] == "Approved"
    assert record["Expires_On__c"] == (date.today() + timedelta(days=90)).isoformat()
    assert record["Decided_By__c"] == "Vera Ann Approver"
    history = [
        (s["From_Status__c"], s["To_Status__c"], s["Comment__c"])
        for s in stages(sf, registration_id)
    ]
    assert history == [
        (None, "Submitted", None),
        ("Submitted", "Needs Info", "Who signs?"),
        ("Needs Info", "In Review", "The CFO."),
        ("In Review", "Needs Info", "And the budget?"),
        ("Needs Info", "In Review", "Approved in Q3."),
        ("In Review", "Approved", None),
    ]
    actors = [s["Actor_Id__c"] for s in stages(sf, registration_id)]
    assert actors == [
        partner.rep.id,
        approver_id,
        partner.rep.id,
        approver_id,
        partner.rep.id,
        approver_id,
    ]
    page = rep.get(f"/registrations/{registration_id}").text
    assert "Approved" in page and "Who signs?" in page and "The CFO." in page

    background.wait_until_idle()
    approved = mailbox.wait_for(partner.rep.email)
    subjects = [m.subject for m in mailbox.messages if partner.rep.email in (m.to or "")]
    assert "Registration received: Globex GmbH" in subjects
    assert subjects.count("Question about your registration: Globex GmbH") == 2
    assert "Approved: Globex GmbH" in subjects
    assert approved


def test_reject_needs_a_reason_and_tells_the_partner(sign_in, partner, approver, sf, mailbox):
    rep = sign_in(partner.rep)
    registration_id = submit(rep)
    _, reviewer = approver

    missing = act(reviewer, registration_id, "reject", reason_code="", comment="")
    assert missing.status_code == 400
    assert "Choose the reason the partner will see." in missing.text
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "Submitted"

    done = act(
        reviewer,
        registration_id,
        "reject",
        reason_code="Existing opportunity",
        comment="We already work with them.",
    )
    assert done.status_code == 302
    record = sf.Deal_Registration__c.get(registration_id)
    assert (record["Status__c"], record["Reason_Code__c"]) == ("Rejected", "Existing opportunity")
    page = rep.get(f"/registrations/{registration_id}").text
    assert (
        "Not approved" in page
        and "Existing opportunity" in page
        and "We already work with them." in page
    )

    background.wait_until_idle()
    mail = next(
        m
        for m in mailbox.messages
        if m.subject == "Not approved: Globex GmbH" and partner.rep.email in m.to
    )
    assert "Existing opportunity" in mail.text
    assert f"/registrations/{registration_id}" in mail.text


def test_needs_info_without_a_question_is_refused(sign_in, partner, approver, sf):
    registration_id = submit(sign_in(partner.rep))
    response = act(approver[1], registration_id, "needs-info", question="   ")
    assert response.status_code == 400
    assert "Write the question the partner must answer." in response.text
    assert len(stages(sf, registration_id)) == 1


def test_decided_registration_refuses_another_decision(sign_in, partner, approver, sf):
    registration_id = submit(sign_in(partner.rep))
    reviewer = approver[1]
    page = reviewer.get(f"/review/{registration_id}").text
    reject_fields = form_fields(page, f"/review/{registration_id}/reject")
    act(reviewer, registration_id, "approve")

    stale = reviewer.post(
        f"/review/{registration_id}/reject", data={**reject_fields, "reason_code": "Other"}
    )
    assert stale.status_code == 302
    assert (
        "changed this registration while you were looking"
        in reviewer.get(stale.headers["Location"]).text
    )
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "Approved"
    assert [s["To_Status__c"] for s in stages(sf, registration_id)] == ["Submitted", "Approved"]


def test_transition_outside_the_table_is_refused(sign_in, partner, approver, sf):
    registration_id = submit(sign_in(partner.rep))
    reviewer = approver[1]
    page = reviewer.get(f"/review/{registration_id}").text
    fields = form_fields(page, f"/review/{registration_id}/approve")
    response = reviewer.post(
        f"/review/{registration_id}/approve", data={**fields, "status": "Rejected"}
    )
    assert response.status_code == 400
    assert "cannot become approved now" in response.text
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "Submitted"


def test_repeating_a_decision_records_it_once(sign_in, partner, approver, sf, api_calls):
    registration_id = submit(sign_in(partner.rep))
    reviewer = approver[1]
    page = reviewer.get(f"/review/{registration_id}").text
    fields = form_fields(page, f"/review/{registration_id}/approve")

    with api_calls() as calls:
        first = reviewer.post(f"/review/{registration_id}/approve", data=fields)
    second = reviewer.post(f"/review/{registration_id}/approve", data=fields)

    assert calls.count == 1
    assert first.status_code == second.status_code == 302
    assert [s["To_Status__c"] for s in stages(sf, registration_id)] == ["Submitted", "Approved"]


def test_answer_costs_at_most_two_calls(sign_in, partner, approver, api_calls):
    rep = sign_in(partner.rep)
    registration_id = submit(rep)
    act(approver[1], registration_id, "needs-info", question="Proof?")
    page = rep.get(f"/registrations/{registration_id}").text
    path = f"/registrations/{registration_id}/answer"
    data = {
        **form_fields(page, path),
        "answer": "Attached.",
        "attachment": (io.BytesIO(b"%PDF-1.4 x"), "p.pdf"),
    }
    with api_calls() as calls:
        response = rep.post(path, data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert calls.count == 2


def test_partner_withdraws_an_undecided_registration(sign_in, partner, sf):
    rep = sign_in(partner.rep)
    registration_id = submit(rep)
    assert partner_act(rep, registration_id, "withdraw").status_code == 302
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "Withdrawn"
    page = rep.get(f"/registrations/{registration_id}").text
    assert "Withdraw registration" not in page


def test_partner_cannot_answer_or_withdraw_someone_elses_registration(
    sign_in, partner, make_partner, app, mailbox, sf
):
    registration_id = submit(sign_in(partner.rep))
    stranger = app.test_client()
    testing.sign_in(stranger, mailbox, make_partner().rep.email)
    token = testing.csrf_token(stranger, "/")
    for action in ("answer", "withdraw"):
        response = stranger.post(
            f"/registrations/{registration_id}/{action}",
            data={
                "csrf_token": token,
                "action_key": "6f1c2e36-3a43-4e0c-9c59-3f4d4c1b7a11",
                "status": "Submitted",
                "sequence": "2",
                "answer": "x",
            },
        )
        assert response.status_code == 404
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "Submitted"


def test_partner_cannot_reach_the_review_pages(sign_in, partner):
    rep = sign_in(partner.rep)
    registration_id = submit(rep)
    assert rep.get("/review/").status_code == 404
    assert rep.get(f"/review/{registration_id}").status_code == 404


def test_reassign_tells_the_new_owner(sign_in, partner, make_internal, sf, mailbox):
    registration_id = submit(sign_in(partner.rep))
    _, manager = make_internal("Channel Manager", regions=["EMEA"])
    new_owner_id, _ = make_internal("Approver", name="Nina Newowner")
    page = manager.get(f"/review/{registration_id}").text
    assert "Nina Newowner" in page

    response = act(
        manager, registration_id, "reassign", owner_id=new_owner_id, note="Nina knows them."
    )
    assert response.status_code == 302
    record = sf.Deal_Registration__c.get(registration_id)
    assert record["OwnerId"] == new_owner_id
    assert record["Status__c"] == "Submitted"
    background.wait_until_idle()
    [mail] = [m for m in mailbox.messages if "assigned to Vera Nina Newowner" in m.subject]
    assert f"/review/{registration_id}" in mail.text
    assert "Nina knows them." not in mail.text


def test_review_queue_lists_oldest_first_with_sla(sign_in, partner, make_internal, sf):
    rep = sign_in(partner.rep)
    first = submit(rep, customer="Oldco")
    submit(rep, customer="Newco")
    old = (date.today() - timedelta(days=10)).isoformat() + "T09:00:00Z"
    sf.Deal_Registration__c.update(first, {"Submitted_At__c": old})
    _, reviewer = make_internal("Approver", queues=["EMEA_Desk"])

    page = reviewer.get("/review/").text

    assert page.index("Oldco") < page.index("Newco")
    assert "past target" in page and "within target" in page


def test_channel_manager_reviews_their_regions_registrations(sign_in, partner, make_internal):
    registration_id = submit(sign_in(partner.rep), customer="Regional Co")
    _, manager = make_internal("Channel Manager", regions=["EMEA"])

    queue = manager.get("/review/").text
    deals = manager.get("/").text
    page = manager.get(f"/registrations/{registration_id}").text

    assert "Regional Co" in queue
    assert f'href="/review/{registration_id}"' in deals
    assert "Withdraw registration" not in page
