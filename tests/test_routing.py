"""Routing rules: first match wins, a default queue, and a file checked before it is used."""

import pytest
from simple_salesforce.format import format_soql

from portal import routing

RULES = """
default_queue = "Channel_Desk"

[[rule]]
name = "Big EMEA security"
region = ["EMEA"]
size_band = ["Over 1M"]
product_line = ["Security Suite"]
user = "ada@vendor.example"

[[rule]]
name = "Big EMEA"
region = ["EMEA"]
size_band = ["250K-1M", "Over 1M"]
queue = "EMEA_Large_Deals"

[[rule]]
name = "EMEA"
region = ["EMEA"]
queue = "EMEA_Desk"

[[rule]]
name = "Analytics anywhere else"
region = ["North America", "LATAM", "APAC"]
product_line = ["Analytics"]
queue = "Analytics_Desk"
"""


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "routing.toml"
    path.write_text(RULES)
    return routing.load(path)


@pytest.mark.parametrize(
    ("region", "band", "product", "rule", "queue", "user"),
    [
        ("EMEA", "Over 1M", "Security Suite", "Big EMEA security", "", "ada@vendor.example"),
        ("EMEA", "Over 1M", "Analytics", "Big EMEA", "EMEA_Large_Deals", ""),
        ("EMEA", "250K-1M", "Security Suite", "Big EMEA", "EMEA_Large_Deals", ""),
        ("EMEA", "Under 50K", "Cloud Platform", "EMEA", "EMEA_Desk", ""),
        ("APAC", "Under 50K", "Analytics", "Analytics anywhere else", "Analytics_Desk", ""),
        ("LATAM", "Over 1M", "Analytics", "Analytics anywhere else", "Analytics_Desk", ""),
        ("APAC", "Over 1M", "Cloud Platform", "Default queue", "Channel_Desk", ""),
    ],
)
def test_first_matching_rule_chooses_the_owner(rules, region, band, product, rule, queue, user):
    assert rules.route(region, band, product) == routing.Route(rule, queue, user)


def write(tmp_path, text):
    path = tmp_path / "routing.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "set default_queue"),
        ('default_queue = "Q"\n[[rule]]\nqueue = "A"', "give the rule a name"),
        ('default_queue = "Q"\n[[rule]]\nname = "x"', "either a queue or a user"),
        ('default_queue = "Q"\n[[rule]]\nname = "x"\nqueue = "A"\nuser = "u"', "not both"),
        ('default_queue = "Q"\n[[rule]]\nname = "x"\nqueue = "A"\nregion = ["Mars"]', "'Mars'"),
        (
            'default_queue = "Q"\n[[rule]]\nname = "x"\nqueue = "A"\ncolour = "red"',
            "unknown setting colour",
        ),
        (
            'default_queue = "Q"\n[[rule]]\nname = "All EMEA"\nregion = ["EMEA"]\nqueue = "A"\n'
            '[[rule]]\nname = "EMEA analytics"\nregion = ["EMEA"]\n'
            'product_line = ["Analytics"]\nqueue = "B"',
            "'EMEA analytics' can never match",
        ),
        (
            'default_queue = "Q"\n[[rule]]\nname = "EMEA"\nregion = ["EMEA"]\nqueue = "A"\n'
            '[[rule]]\nname = "Analytics"\nproduct_line = ["Analytics"]\nqueue = "B"',
            "overlap",
        ),
        (
            'default_queue = "Q"\n[[rule]]\nname = "x"\nregion = ["EMEA"]\nqueue = "A"\n'
            '[[rule]]\nname = "x"\nregion = ["APAC"]\nqueue = "B"',
            "two rules are called 'x'",
        ),
        ("default_queue = ", "cannot read"),
    ],
)
def test_wrong_files_are_refused_with_a_clear_message(tmp_path, text, message):
    with pytest.raises(routing.RoutingError, match=message.replace("(", r"\(")):
        routing.load(write(tmp_path, text))


def test_unknown_owners_are_named(rules):
    with pytest.raises(routing.RoutingError) as refusal:
        routing.check_owners(rules, {"Channel_Desk", "EMEA_Desk"}, set())
    assert "queue 'Analytics_Desk'" in str(refusal.value)
    assert "queue 'EMEA_Large_Deals'" in str(refusal.value)
    assert "user 'ada@vendor.example'" in str(refusal.value)


def test_portal_refuses_to_start_when_the_org_lacks_a_queue(connector, mailbox, queue_id, tmp_path):
    from conftest import portal_config
    from portal import create_app

    path = write(tmp_path, 'default_queue = "No_Such_Queue"\n')
    with pytest.raises(routing.RoutingError, match="No_Such_Queue"):
        create_app(
            portal_config(
                connector, mailbox, ROUTING_RULES_FILE=str(path), ROUTING_CHECK_OWNERS=True
            )
        )


def test_shipped_rules_are_valid():
    rules = routing.load()
    assert rules.default_queue == "Channel_Desk"
    assert rules.route("EMEA", "Over 1M", "Analytics").rule == "Large EMEA deals"


def test_submission_records_the_rule_that_routed_it(sign_in, partner, sf):
    from tests.test_workflow import submit

    registration_id = submit(sign_in(partner.rep), country="GB", value="900000")
    statement = format_soql(
        "SELECT Routing_Rule__c, Owner.Name FROM Deal_Registration__c WHERE Id = {}",
        registration_id,
    )
    record = sf.query(statement)["records"][0]
    assert record["Routing_Rule__c"] == "Large EMEA deals"
    assert record["Owner"]["Name"] == "EMEA Large Deals"
