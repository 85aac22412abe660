"""Does an org have what the portal needs? Checked through the integration user's eyes
(describe and SOQL answer only what that user may see), so a missing permission shows up
the same way a missing field does. Every missing item is named."""

from __future__ import annotations

from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError
from simple_salesforce.format import format_soql

from salesforce import schema
from salesforce.deploy import WRITTEN

API_VERSION = "62.0"
# Sites (Network) exist only in orgs with Experience Cloud; ContentDocument and its links
# are Salesforce's own, always there for any user who may upload files.
OPTIONAL = {"Network", "ContentDocument", "ContentDocumentLink"}


def problems(
    sf: Salesforce, queues: set[str], expected: schema.Schema | None = None, sites: bool = False
) -> list[str]:
    """What the org lacks, one sentence per missing item; empty when it is ready.

    `sites`: files are published to an Experience Cloud site, so ContentVersion must
    have NetworkId (orgs without Experience Cloud do not).
    """
    expected = expected or schema.load()
    skipped = set() if sites else {"ContentVersion.NetworkId"}
    found = []
    versions = sf.session.get(f"https://{sf.sf_instance}/services/data/", headers=sf.headers)
    if versions.ok and API_VERSION not in {item["version"] for item in versions.json()}:
        found.append(f"API version {API_VERSION} is not available")
    visible = {item["name"]: item for item in sf.describe()["sobjects"]}
    for name, sobject in sorted(expected.objects.items()):
        if name in OPTIONAL:
            continue
        if name not in visible:
            found.append(f"object {name} is missing, or the integration user cannot see it")
            continue
        found += _object_problems(sf, sobject, visible[name], skipped)
    found += _queue_problems(sf, queues)
    return found


def _object_problems(
    sf: Salesforce, sobject: schema.SObject, summary: dict, skipped: set[str]
) -> list[str]:
    found = []
    access = WRITTEN.get(sobject.name, {})
    needs = (
        ("createable", access.get("create")),
        ("updateable", access.get("edit")),
        ("deletable", access.get("delete")),
    )
    for flag, needed in needs:
        if needed and not summary.get(flag):
            found.append(f"object {sobject.name} is not {flag} by the integration user")
    described = {item["name"]: item for item in getattr(sf, sobject.name).describe()["fields"]}
    for field in sorted(sobject.fields.values(), key=lambda item: item.name):
        full_name = f"{sobject.name}.{field.name}"
        if field.system or full_name in skipped:
            continue
        actual = described.get(field.name)
        if actual is None:
            found.append(f"field {full_name} is missing, or the integration user cannot read it")
            continue
        custom = field.name.endswith("__c")
        if custom and access and not (actual.get("createable") or actual.get("updateable")):
            found.append(f"field {full_name} is read-only for the integration user")
        active = {value["value"] for value in actual.get("picklistValues") or [] if value["active"]}
        for value in field.picklist:
            if value not in active:
                found.append(f"picklist value {value!r} of {full_name} is missing or inactive")
    return found


def _queue_problems(sf: Salesforce, queues: set[str]) -> list[str]:
    if not queues:
        return []
    statement = format_soql(
        "SELECT Id, DeveloperName FROM Group WHERE Type = 'Queue' AND DeveloperName IN {}",
        sorted(queues),
    )
    existing = {record["DeveloperName"]: record["Id"] for record in sf.query(statement)["records"]}
    found = [f"queue {name} is missing" for name in sorted(queues - set(existing))]
    if not existing:
        return found
    statement = format_soql(
        "SELECT QueueId FROM QueueSobject WHERE SobjectType = 'Deal_Registration__c' "
        "AND QueueId IN {}",
        sorted(existing.values()),
    )
    try:
        allowed = {record["QueueId"] for record in sf.query(statement)["records"]}
    except SalesforceError:
        # The local org does not model which objects a queue may own; a real org always does.
        return found
    for name, queue_id in sorted(existing.items()):
        if queue_id not in allowed:
            found.append(f"queue {name} cannot own Deal_Registration__c records")
    return found
