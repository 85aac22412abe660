"""Channel conflicts: the same end customer registered by two partners."""

import pytest

from portal import background, conflicts
from tests.test_workflow import submit


@pytest.mark.parametrize(
    ("domain", "key"),
    [
        ("acme.com", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("emea.sales.acme.com", "acme.com"),
        ("ACME.COM", "acme.com"),
        ("shop.acme.co.uk", "acme.co.uk"),
        ("acme.co.uk", "acme.co.uk"),
        ("", ""),
        ("localhost", ""),
    ],
)
def test_domain_key_is_the_registrable_domain(domain, key):
    assert conflicts.domain_key(domain) == key


@pytest.mark.parametrize(
    "name",
    [
        "Acme",
        "ACME Inc.",
        "Acme, Inc",
        "acme ltd",
        "Acme GmbH",
        "Acme Ltd.",
        "  Acme  LLC ",
        "Ácme",
    ],
)
def test_name_variants_share_one_key(name):
    assert conflicts.name_key(name) == "acme"


def test_different_companies_keep_different_keys():
    assert conflicts.name_key("Acme Holdings GmbH & Co. KG") == "acme holdings"
    assert conflicts.name_key("Acme Holdings") != conflicts.name_key("Acme")
    assert conflicts.name_key("Inc") == "inc"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Acme{n} Inc", "acme{n}.com"), ("Totally Different {n}", "www.acme{n}.com")),
        (("Acme{n} Inc", "acme{n}.com"), ("Totally Different {n}", "emea.acme{n}.com")),
        (("ACME{n}, Ltd.", ""), ("acme{n}", "")),
    ],
)
def test_second_partner_registering_the_same_customer_is_flagged(
    sign_in, make_partner, make_internal, sf, first, second
):
    early, late = make_partner(), make_partner()
    n = early.account_id[-5:].lower()  # a customer no other test registers
    first_id = submit(
        sign_in(early.rep), customer=first[0].format(n=n), domain=first[1].format(n=n)
    )
    second_id = submit(
        sign_in(late.rep), customer=second[0].format(n=n), domain=second[1].format(n=n)
    )
    background.wait_until_idle()

    assert sf.Deal_Registration__c.get(first_id)["Possible_Conflict__c"] is False
    assert sf.Deal_Registration__c.get(second_id)["Possible_Conflict__c"] is True

    _, reviewer = make_internal("Admin")
    page = reviewer.get(f"/review/{second_id}").text
    assert "Possible conflicts" in page
    assert early.name in page
    assert "earlier" in page


def test_partner_never_sees_the_other_partner(sign_in, make_partner, sf):
    early, late = make_partner(), make_partner()
    customer, domain = f"Initech {early.account_id}", f"i{early.account_id.lower()}.com"
    submit(sign_in(early.rep), customer=customer, domain=domain)
    late_client = sign_in(late.rep)
    second_id = submit(late_client, customer=customer, domain=domain)
    background.wait_until_idle()

    for path in ("/", f"/registrations/{second_id}"):
        page = late_client.get(path).text
        assert early.name not in page
        assert "conflict" not in page.lower()


def test_same_partner_twice_is_not_a_conflict(sign_in, partner, sf):
    client = sign_in(partner.rep)
    customer = f"Hooli {partner.account_id}"
    submit(client, customer=customer, domain=f"{partner.account_id.lower()}.com")
    second = submit(client, customer=customer, domain=f"{partner.account_id.lower()}.com")
    background.wait_until_idle()
    assert sf.Deal_Registration__c.get(second)["Possible_Conflict__c"] is False


def test_withdrawn_or_rejected_registrations_do_not_conflict(sign_in, make_partner, sf):
    early, late = make_partner(), make_partner()
    customer, domain = f"Pied Piper {early.account_id}", f"pp{early.account_id.lower()}.com"
    first = submit(sign_in(early.rep), customer=customer, domain=domain)
    sf.Deal_Registration__c.update(first, {"Status__c": "Withdrawn"})
    second = submit(sign_in(late.rep), customer=customer, domain=domain)
    background.wait_until_idle()
    assert sf.Deal_Registration__c.get(second)["Possible_Conflict__c"] is False
