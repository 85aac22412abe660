"""Demo data: partner companies, their people, a queue, and registrations in several statuses."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from simple_salesforce import Salesforce
from simple_salesforce.format import format_soql

DEFAULT_QUEUE = "Channel_Desk"

PARTNERS = [
    {
        "name": "Northwind Systems",
        "region": "EMEA",
        "people": [
            ("Rita", "Rep", "rita.rep@northwind.example", "Rep"),
            ("Manu", "Manager", "manu.manager@northwind.example", "Manager"),
            ("Ravi", "Second", "ravi.rep@northwind.example", "Rep"),
        ],
    },
    {
        "name": "Contoso Partners",
        "region": "North America",
        "people": [
            ("Carla", "Rep", "carla.rep@contoso.example", "Rep"),
            ("Colm", "Manager", "colm.manager@contoso.example", "Manager"),
        ],
    },
]

REGISTRATIONS = [
    # (rep email, customer, domain, country, value, product, status, days ago)
    (
        "rita.rep@northwind.example",
        "Globex GmbH",
        "globex.de",
        "DE",
        120000,
        "Security Suite",
        "Submitted",
        1,
    ),
    (
        "rita.rep@northwind.example",
        "Initech Ltd",
        "initech.co.uk",
        "GB",
        45000,
        "Analytics",
        "Needs Info",
        4,
    ),
    (
        "rita.rep@northwind.example",
        "Umbrella SA",
        "umbrella.fr",
        "FR",
        800000,
        "Cloud Platform",
        "Approved",
        12,
    ),
    (
        "ravi.rep@northwind.example",
        "Hooli BV",
        "hooli.nl",
        "NL",
        30000,
        "Professional Services",
        "In Review",
        2,
    ),
    (
        "carla.rep@contoso.example",
        "Vandelay Industries",
        "vandelay.com",
        "US",
        260000,
        "Cloud Platform",
        "Rejected",
        20,
    ),
]

# The vendor's own people, who sign in with single sign-on:
# (first, last, email, portal role, regions, queue they work in)
INTERNAL_USERS = [
    ("Chiara", "Channel", "chiara.channel@vendor.example", "Channel Manager", ("EMEA",), None),
    ("Arun", "Approver", "arun.approver@vendor.example", "Approver", (), DEFAULT_QUEUE),
    ("Ada", "Admin", "ada.admin@vendor.example", "Admin", (), None),
]

NEXT_STEPS = {
    "Submitted": "Nothing to do now: expect a decision within two business days.",
    "In Review": "Nothing to do now: expect a decision within two business days.",
    "Needs Info": "Answer the question on this registration.",
    "Approved": "Nothing to do: the deal is protected until the expiry date.",
    "Rejected": "Read the reason; register again if the situation changes.",
}


def ensure_queue(
    sf: Salesforce, developer_name: str = DEFAULT_QUEUE, label: str = "Channel Desk"
) -> str:
    statement = format_soql(
        "SELECT Id FROM Group WHERE Type = 'Queue' AND DeveloperName = {}", developer_name
    )
    found = sf.query(statement)["records"]
    if found:
        return found[0]["Id"]
    return sf.Group.create({"Name": label, "DeveloperName": developer_name, "Type": "Queue"})["id"]


def create_partner(sf: Salesforce, name: str, region: str = "EMEA", enabled: bool = True) -> str:
    answer = sf.Account.create({"Name": name, "Region__c": region, "Portal_Enabled__c": enabled})
    return answer["id"]


def create_person(
    sf: Salesforce,
    account_id: str,
    first: str,
    last: str,
    email: str,
    role: str,
    status: str = "Active",
) -> str:
    answer = sf.Contact.create(
        {
            "AccountId": account_id,
            "FirstName": first,
            "LastName": last,
            "Email": email,
            "Portal_Role__c": role,
            "Portal_Status__c": status,
        }
    )
    return answer["id"]


def create_internal_user(
    sf: Salesforce,
    first: str,
    last: str,
    email: str,
    role: str,
    regions: tuple[str, ...] | list[str] = (),
    active: bool = True,
) -> str:
    answer = sf.User.create(
        {
            "Username": email,
            "FirstName": first,
            "LastName": last,
            "Email": email,
            "IsActive": active,
            "Portal_Role__c": role,
            "Portal_Regions__c": ";".join(regions) or None,
        }
    )
    return answer["id"]


def add_to_queue(sf: Salesforce, queue_id: str, user_id: str) -> str:
    return sf.GroupMember.create({"GroupId": queue_id, "UserOrGroupId": user_id})["id"]


def seed_internal_users(sf: Salesforce) -> list[str]:
    """Create the demo internal users that are missing; the emails that can sign in."""
    emails = [user[2] for user in INTERNAL_USERS]
    found = sf.query(format_soql("SELECT Email FROM User WHERE Email IN {}", emails))
    existing = {record["Email"].lower() for record in found["records"]}
    for first, last, email, role, regions, queue in INTERNAL_USERS:
        if email.lower() in existing:
            continue
        user_id = create_internal_user(sf, first, last, email, role, regions)
        if queue:
            add_to_queue(sf, ensure_queue(sf, queue), user_id)
    return emails


def create_registration(
    sf: Salesforce,
    *,
    account_id: str,
    contact_id: str,
    owner_id: str,
    customer: str,
    domain: str = "",
    country: str = "DE",
    region: str = "EMEA",
    value: float = 100000,
    product: str = "Cloud Platform",
    status: str = "Submitted",
    close_in_days: int = 60,
) -> str:
    key = str(uuid.uuid4())
    answer = sf.Deal_Registration__c.create(
        {
            "Partner_Account__c": account_id,
            "Submitted_By__c": contact_id,
            "OwnerId": owner_id,
            "End_Customer_Name__c": customer,
            "End_Customer_Domain__c": domain or None,
            "Country__c": country,
            "Region__c": region,
            "Deal_Value__c": value,
            "Product_Line__c": product,
            "Expected_Close_Date__c": (date.today() + timedelta(days=close_in_days)).isoformat(),
            "Status__c": status,
            "Next_Step__c": NEXT_STEPS.get(status, ""),
            "Open_Question__c": "Who is the customer's economic buyer?"
            if status == "Needs Info"
            else None,
            "Expires_On__c": (date.today() + timedelta(days=90)).isoformat()
            if status == "Approved"
            else None,
            "Reason_Code__c": "Existing opportunity" if status == "Rejected" else None,
            "Submission_Key__c": key,
            "Submitted_At__c": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    return answer["id"]


def seed(sf: Salesforce) -> list[str]:
    """Create the demo data unless it is there already; the emails that can sign in."""
    existing = sf.query(
        format_soql("SELECT COUNT() FROM Account WHERE Name = {}", PARTNERS[0]["name"])
    )
    emails = [person[2] for partner in PARTNERS for person in partner["people"]]
    if existing["totalSize"]:
        return emails
    queue_id = ensure_queue(sf)
    people = {}
    for partner in PARTNERS:
        account_id = create_partner(sf, partner["name"], partner["region"])
        for first, last, email, role in partner["people"]:
            people[email] = (account_id, create_person(sf, account_id, first, last, email, role))
    for email, customer, domain, country, value, product, status, _ in REGISTRATIONS:
        account_id, contact_id = people[email]
        create_registration(
            sf,
            account_id=account_id,
            contact_id=contact_id,
            owner_id=queue_id,
            customer=customer,
            domain=domain,
            country=country,
            region="North America" if country == "US" else "EMEA",
            value=value,
            product=product,
            status=status,
        )
    return emails
