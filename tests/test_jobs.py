"""Work on a timer: expiry, and status changes made directly in Salesforce."""

from datetime import date, timedelta

from simple_salesforce.format import format_soql

from portal import background, jobs
from tests.test_workflow import act, stages, submit


def run_jobs(app):
    with app.app_context():
        return jobs.Jobs().run_once()


def test_decision_made_in_salesforce_is_recorded_once_and_told(app, sign_in, partner, sf, mailbox):
    registration_id = submit(sign_in(partner.rep))
    sf.Deal_Registration__c.update(
        registration_id, {"Status__c": "Rejected", "Reason_Code__c": "Outside partner territory"}
    )

    first = run_jobs(app)
    second = run_jobs(app)
    background.wait_until_idle()

    assert first["recorded"] >= 1
    assert second["recorded"] == 0
    history = stages(sf, registration_id)
    assert [(s["From_Status__c"], s["To_Status__c"], s["Source__c"]) for s in history] == [
        (None, "Submitted", "Portal"),
        ("Submitted", "Rejected", "Salesforce"),
    ]
    assert history[1]["Actor__c"] == "Portal Integration"
    mails = [
        m
        for m in mailbox.messages
        if partner.rep.email in (m.to or "") and m.subject == "Not approved: Globex GmbH"
    ]
    assert len(mails) == 1
    assert "Outside partner territory" in mails[0].text


def test_portal_decisions_are_not_recorded_again(app, sign_in, partner, make_internal, sf):
    registration_id = submit(sign_in(partner.rep))
    _, reviewer = make_internal("Approver", queues=["EMEA_Desk"])
    act(reviewer, registration_id, "approve")

    run_jobs(app)

    assert [s["To_Status__c"] for s in stages(sf, registration_id)] == ["Submitted", "Approved"]


def test_approved_registration_expires_after_its_protection_period(app, sign_in, partner, sf):
    registration_id = submit(sign_in(partner.rep))
    make_internal_approval = {
        "Status__c": "Approved",
        "Expires_On__c": (date.today() - timedelta(days=1)).isoformat(),
    }
    sf.Deal_Registration__c.update(registration_id, make_internal_approval)
    run_jobs(app)  # records the approval made in Salesforce, and expires it

    record = sf.Deal_Registration__c.get(registration_id)
    assert record["Status__c"] == "Expired"
    assert [s["To_Status__c"] for s in stages(sf, registration_id)] == [
        "Submitted",
        "Approved",
        "Expired",
    ]
    statement = format_soql(
        "SELECT COUNT() FROM Deal_Registration_Stage__c WHERE Registration__c = {} "
        "AND To_Status__c = 'Expired'",
        registration_id,
    )
    run_jobs(app)
    assert sf.query(statement)["totalSize"] == 1


def test_registration_still_protected_does_not_expire(app, sign_in, partner, make_internal, sf):
    registration_id = submit(sign_in(partner.rep))
    _, reviewer = make_internal("Approver", queues=["EMEA_Desk"])
    act(reviewer, registration_id, "approve")
    run_jobs(app)
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "Approved"
