"""The local org's REST API as simple-salesforce sees it: IDs, records, upserts, queries,
errors, sessions, limits, composite requests and files, with Salesforce's status codes."""

from __future__ import annotations

import json
import re
import shutil
import threading
import uuid

import pytest
import requests
from lxml import etree
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql
from werkzeug.serving import make_server

from salesforce import ids, schema
from salesforce.connection import API_VERSION, Connector, TimeoutSession
from salesforce.localorg import certs
from salesforce.localorg.__main__ import QuietHandler
from salesforce.localorg.server import (
    DAILY_API_LIMIT,
    DEFAULT_BATCH_SIZE,
    INTEGRATION_USERNAME,
    SESSION_IDLE_SECONDS,
    LocalOrg,
    create_app,
)
from salesforce.localorg.store import Store

SALESFORCE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
STAGES_PAST_ONE_BATCH = DEFAULT_BATCH_SIZE + 150
SMALL_BATCH = 200
# Every byte value, NUL and the high half included: 1 MiB that no text decoding survives intact.
FILE_BYTES = bytes(range(256)) * 4096
LOOSE_ORG_PASSWORD = "loose-org-password"


def registration(**changes) -> dict:
    """A valid Deal_Registration__c body; `changes` override or add fields."""
    return {
        "End_Customer_Name__c": "Globex GmbH",
        "Country__c": "DE",
        "Deal_Value__c": 120000,
        "Expected_Close_Date__c": "2026-06-30",
        "Product_Line__c": "Security Suite",
        **changes,
    }


def new_key() -> str:
    return str(uuid.uuid4())


def raw(sf: Salesforce, method: str, path: str, **kwargs) -> requests.Response:
    """One request with the client's own session and headers, answered as it came."""
    return sf.session.request(method, sf.base_url + path, headers=sf.headers, **kwargs)


def only_error(raised: pytest.ExceptionInfo) -> dict:
    [error] = raised.value.content
    return error


def record_url(object_name: str, record_id: str) -> str:
    return f"/services/data/v{API_VERSION}/sobjects/{object_name}/{record_id}"


@pytest.fixture
def registration_id(sf) -> str:
    return sf.Deal_Registration__c.create(registration())["id"]


# -- IDs ----------------------------------------------------------------------------


def test_id_suffix_matches_salesforce_checksum():
    assert ids.suffix("001A0000006Vm9r") == "IAC"


def test_new_record_id_has_18_characters_with_the_object_key_prefix(sf, registration_id):
    key_prefix = sf.Deal_Registration__c.describe()["keyPrefix"]

    assert len(registration_id) == 18
    assert registration_id[:3] == key_prefix
    assert registration_id[15:] == ids.suffix(registration_id[:15])


def test_record_can_be_read_by_its_15_character_id(sf, registration_id):
    record = sf.Deal_Registration__c.get(registration_id[:15])

    assert record["Id"] == registration_id


# -- create, read, update, delete ---------------------------------------------------


def test_create_answers_201_with_id_success_and_no_errors(sf):
    answer = raw(sf, "POST", "sobjects/Deal_Registration__c", json=registration())

    assert answer.status_code == 201
    body = answer.json()
    assert body == {"id": body["id"], "success": True, "errors": []}
    assert ids.is_valid(body["id"])


def test_get_answers_the_stored_record_with_attributes(sf, registration_id):
    record = sf.Deal_Registration__c.get(registration_id)

    assert record["attributes"] == {
        "type": "Deal_Registration__c",
        "url": record_url("Deal_Registration__c", registration_id),
    }
    assert record["End_Customer_Name__c"] == "Globex GmbH"
    assert record["Deal_Value__c"] == 120000
    assert record["Expected_Close_Date__c"] == "2026-06-30"
    assert record["Status__c"] == "Submitted"
    assert record["Possible_Conflict__c"] is False
    assert re.fullmatch(r"DR-\d{6}", record["Name"])


def test_update_answers_204_and_changes_the_record(sf, registration_id):
    status = sf.Deal_Registration__c.update(registration_id, {"Status__c": "In Review"})

    assert status == 204
    assert sf.Deal_Registration__c.get(registration_id)["Status__c"] == "In Review"


def test_delete_answers_204_and_the_record_is_gone(sf, registration_id):
    status = sf.Deal_Registration__c.delete(registration_id)

    assert status == 204
    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Deal_Registration__c.get(registration_id)
    assert raised.value.status == 404
    assert only_error(raised)["errorCode"] == "NOT_FOUND"


# -- upsert by external ID ----------------------------------------------------------


def test_upsert_creates_a_record_when_no_key_matches(sf):
    key = new_key()

    answer = sf.Deal_Registration__c.upsert(
        f"Submission_Key__c/{key}", registration(), raw_response=True
    )

    assert answer.status_code == 201
    body = answer.json()
    assert body["created"] is True
    assert body["success"] is True
    assert sf.Deal_Registration__c.get(body["id"])["Submission_Key__c"] == key


def test_upsert_updates_the_matching_record(sf):
    key = new_key()
    created = sf.Deal_Registration__c.create(registration(Submission_Key__c=key))

    answer = sf.Deal_Registration__c.upsert(
        f"Submission_Key__c/{key}",
        registration(End_Customer_Name__c="Initech Ltd"),
        raw_response=True,
    )

    assert answer.status_code == 200
    assert answer.json()["created"] is False
    assert answer.json()["id"] == created["id"]
    assert sf.Deal_Registration__c.get(created["id"])["End_Customer_Name__c"] == "Initech Ltd"


@pytest.mark.parametrize("field_name", ["Id", "Submission_Key__c"])
def test_upsert_refuses_a_body_naming_the_id_or_the_key(sf, field_name):
    key = new_key()
    body = registration(**{field_name: "a00000000000000AAA" if field_name == "Id" else key})

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Deal_Registration__c.upsert(f"Submission_Key__c/{key}", body)

    assert raised.value.status == 400
    assert only_error(raised)["errorCode"] == "INVALID_FIELD"
    assert only_error(raised)["fields"] == [field_name]
    with pytest.raises(SalesforceResourceNotFound):
        sf.Deal_Registration__c.get_by_custom_id("Submission_Key__c", key)


@pytest.mark.parametrize("body", [[], ["Id"], "Initech Ltd"], ids=["empty list", "list", "string"])
def test_upsert_refuses_a_body_that_is_not_an_object(sf, body):
    key = new_key()

    answer = raw(sf, "PATCH", f"sobjects/Deal_Registration__c/Submission_Key__c/{key}", json=body)

    assert answer.status_code == 400
    assert answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    with pytest.raises(SalesforceResourceNotFound):
        sf.Deal_Registration__c.get_by_custom_id("Submission_Key__c", key)


def test_get_by_external_id_answers_the_record(sf):
    key = new_key()
    created = sf.Deal_Registration__c.create(registration(Submission_Key__c=key))

    record = sf.Deal_Registration__c.get_by_custom_id("Submission_Key__c", key)

    assert record["Id"] == created["id"]


@pytest.fixture(scope="module")
def loose_sf(tmp_path_factory) -> Salesforce:
    """A client of a second org whose Submission_Key__c is an external ID but not unique.

    Salesforce answers 300 only when several records share an external ID value. The portal's
    own metadata makes that impossible (the key is unique, which is the point), so this org
    is served from a copy of the metadata without `<unique>`, by the same server code: the
    duplicates are created through the API, not slipped into SQLite behind its back.
    """
    directory = tmp_path_factory.mktemp("loose-org")
    metadata = directory / "metadata"
    shutil.copytree(schema.METADATA_DIR, metadata)
    object_file = metadata / "objects" / "Deal_Registration__c.object"
    tree = etree.parse(str(object_file))
    [unique] = tree.xpath(
        "md:fields[md:fullName='Submission_Key__c']/md:unique", namespaces=schema.NS
    )
    unique.getparent().remove(unique)
    tree.write(str(object_file), xml_declaration=True, encoding="UTF-8")

    cert, key = certs.ensure(directory)
    org = LocalOrg(Store(schema.load(metadata), directory / "org.sqlite3"), LOOSE_ORG_PASSWORD)
    server = make_server(
        "localhost",
        0,
        create_app(org),
        threaded=True,
        ssl_context=(str(cert), str(key)),
        request_handler=QuietHandler,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://localhost:{server.server_port}"
    yield Connector(mode="local", url=url, password=LOOSE_ORG_PASSWORD, ca_file=str(cert)).connect()
    server.shutdown()


@pytest.fixture
def shared_key(loose_sf) -> tuple[str, list[str]]:
    """A key two registrations of the loose org share, and their IDs."""
    key = new_key()
    created = [
        loose_sf.Deal_Registration__c.create(registration(Submission_Key__c=key))["id"]
        for _ in range(2)
    ]
    return key, created


def test_upsert_answers_300_when_several_records_share_the_key(loose_sf, shared_key):
    key, created = shared_key

    with pytest.raises(SalesforceMoreThanOneRecord) as raised:
        loose_sf.Deal_Registration__c.upsert(
            f"Submission_Key__c/{key}", {"End_Customer_Name__c": "Initech Ltd"}
        )

    assert raised.value.status == 300
    assert sorted(raised.value.content) == sorted(
        record_url("Deal_Registration__c", record_id) for record_id in created
    )
    for record_id in created:
        stored = loose_sf.Deal_Registration__c.get(record_id)
        assert stored["End_Customer_Name__c"] == "Globex GmbH"


def test_get_by_external_id_answers_300_when_several_records_share_the_key(loose_sf, shared_key):
    key, created = shared_key

    with pytest.raises(SalesforceMoreThanOneRecord) as raised:
        loose_sf.Deal_Registration__c.get_by_custom_id("Submission_Key__c", key)

    assert raised.value.status == 300
    assert len(raised.value.content) == len(created)


# -- queries ------------------------------------------------------------------------


def test_query_answers_total_size_done_and_records_with_attributes(sf, registration_id):
    statement = format_soql(
        "SELECT Id, End_Customer_Name__c FROM Deal_Registration__c WHERE Id = {}",
        registration_id,
    )

    answer = sf.query(statement)

    assert answer["totalSize"] == 1
    assert answer["done"] is True
    assert "nextRecordsUrl" not in answer
    assert answer["records"] == [
        {
            "attributes": {
                "type": "Deal_Registration__c",
                "url": record_url("Deal_Registration__c", registration_id),
            },
            "Id": registration_id,
            "End_Customer_Name__c": "Globex GmbH",
        }
    ]


@pytest.fixture(scope="module")
def many_stages(local_org) -> str:
    """A registration with more stage records than one query batch holds; its ID.

    The records are written through the store, in one transaction, for speed: the subject
    here is paging, not creation. The registration (and with it every stage) goes afterwards.
    """
    store, user_id = local_org.org.store, local_org.org.integration_user_id
    with store.transaction():
        parent_id = store.create("Deal_Registration__c", registration(), user_id)
        for number in range(STAGES_PAST_ONE_BATCH):
            store.create(
                "Deal_Registration_Stage__c",
                {
                    "Registration__c": parent_id,
                    "To_Status__c": "In Review",
                    "Entered_At__c": "2026-01-05T09:00:00.000Z",
                    "Comment__c": f"stage {number}",
                },
                user_id,
            )
    yield parent_id
    store.delete("Deal_Registration__c", parent_id)


def stages_of(registration_id: str) -> str:
    return format_soql(
        "SELECT Id FROM Deal_Registration_Stage__c WHERE Registration__c = {}", registration_id
    )


def test_query_past_the_batch_size_answers_a_next_records_url(sf, many_stages):
    answer = sf.query(stages_of(many_stages))

    assert answer["totalSize"] == STAGES_PAST_ONE_BATCH
    assert answer["done"] is False
    assert len(answer["records"]) == DEFAULT_BATCH_SIZE
    assert answer["nextRecordsUrl"].startswith(f"/services/data/v{API_VERSION}/query/")


def test_query_all_follows_next_records_url_to_every_record(sf, many_stages):
    answer = sf.query_all(stages_of(many_stages))

    ids_seen = {record["Id"] for record in answer["records"]}
    assert len(ids_seen) == STAGES_PAST_ONE_BATCH


def test_next_records_url_answers_the_rest(sf, many_stages):
    first = sf.query(stages_of(many_stages))

    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)

    assert rest["done"] is True
    assert rest["totalSize"] == STAGES_PAST_ONE_BATCH
    assert len(rest["records"]) == STAGES_PAST_ONE_BATCH - DEFAULT_BATCH_SIZE
    assert "nextRecordsUrl" not in rest


def test_batch_size_option_sets_the_page_size(sf, many_stages, api_calls):
    options = {"Sforce-Query-Options": f"batchSize={SMALL_BATCH}"}

    first = sf.query(stages_of(many_stages), headers=options)
    with api_calls(everyone=True) as calls:
        every = sf.query_all(stages_of(many_stages), headers=options)

    assert len(first["records"]) == SMALL_BATCH
    assert first["done"] is False
    assert len(every["records"]) == STAGES_PAST_ONE_BATCH
    assert calls.count == -(-STAGES_PAST_ONE_BATCH // SMALL_BATCH)


def test_count_query_answers_total_size_without_records(sf, many_stages):
    statement = format_soql(
        "SELECT COUNT() FROM Deal_Registration_Stage__c WHERE Registration__c = {}", many_stages
    )

    answer = sf.query(statement)

    assert answer["totalSize"] == STAGES_PAST_ONE_BATCH
    assert answer["records"] == []
    assert answer["done"] is True


# -- system fields ------------------------------------------------------------------


def test_new_record_carries_system_datetimes_in_salesforce_format(sf, registration_id):
    record = sf.Deal_Registration__c.get(registration_id)

    for name in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert SALESFORCE_DATETIME.match(record[name]), (name, record[name])


def test_owner_and_creator_default_to_the_integration_user(sf, registration_id, local_org):
    record = sf.Deal_Registration__c.get(registration_id)

    user_id = local_org.org.integration_user_id
    assert record["OwnerId"] == user_id
    assert record["CreatedById"] == user_id
    assert record["LastModifiedById"] == user_id
    assert sf.User.get(user_id)["Username"] == INTEGRATION_USERNAME


# -- errors -------------------------------------------------------------------------


def test_missing_required_fields_answer_required_field_missing(sf):
    body = registration()
    del body["End_Customer_Name__c"], body["Country__c"]

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Deal_Registration__c.create(body)

    assert raised.value.status == 400
    assert only_error(raised)["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert sorted(only_error(raised)["fields"]) == ["Country__c", "End_Customer_Name__c"]


@pytest.mark.parametrize(
    ("changes", "code", "field_name"),
    [
        ({"Discount__c": 5}, "INVALID_FIELD", "Discount__c"),
        ({"Country__c": "DEU"}, "STRING_TOO_LONG", "Country__c"),
        ({"Product_Line__c": "Hardware"}, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", None),
    ],
    ids=["unknown field", "too long", "restricted picklist"],
)
def test_invalid_field_value_answers_400_naming_the_field(sf, changes, code, field_name):
    field_name = field_name or next(iter(changes))

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Deal_Registration__c.create(registration(**changes))

    assert raised.value.status == 400
    assert only_error(raised)["errorCode"] == code
    assert only_error(raised)["fields"] == [field_name]


def test_second_record_with_the_same_submission_key_answers_duplicate_value(sf):
    key = new_key()
    first = sf.Deal_Registration__c.create(registration(Submission_Key__c=key))

    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.Deal_Registration__c.create(registration(Submission_Key__c=key))

    assert raised.value.status == 400
    assert only_error(raised)["errorCode"] == "DUPLICATE_VALUE"
    assert first["id"] in only_error(raised)["message"]
    assert only_error(raised)["fields"] == []


def test_unknown_field_in_soql_answers_invalid_field(sf):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id, Discount__c FROM Deal_Registration__c")

    assert raised.value.status == 400
    assert only_error(raised)["errorCode"] == "INVALID_FIELD"


@pytest.mark.parametrize(
    "statement",
    ["SELECT Id FROM", "SELEC Id FROM Account", "SELECT Id FROM Account WHERE Name = 'open"],
)
def test_malformed_soql_answers_malformed_query(sf, statement):
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query(statement)

    assert raised.value.status == 400
    assert only_error(raised)["errorCode"] == "MALFORMED_QUERY"


def test_unknown_record_id_answers_not_found(sf, registration_id):
    unknown = ids.make(registration_id[:3], 62**6)

    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Deal_Registration__c.get(unknown)

    assert raised.value.status == 404
    assert only_error(raised)["errorCode"] == "NOT_FOUND"


def test_unknown_sobject_answers_not_found(sf):
    with pytest.raises(SalesforceResourceNotFound) as raised:
        sf.Opportunity_Split__c.create({"Name": "x"})

    assert raised.value.status == 404
    assert only_error(raised)["errorCode"] == "NOT_FOUND"


# -- sessions -----------------------------------------------------------------------


def client_with_session(local_org, session_id: str) -> Salesforce:
    return Salesforce(
        instance_url=local_org.url,
        session_id=session_id,
        version=API_VERSION,
        session=TimeoutSession(local_org.ca_file),
    )


def expire(local_org, client: Salesforce) -> int:
    """End `client`'s session only: the shared `sf` fixture keeps working."""
    answer = TimeoutSession(local_org.ca_file).post(
        f"{local_org.url}/local/sessions/expire", params={"token": client.session_id}
    )
    return answer.json()["expired"]


def test_unknown_session_answers_401_invalid_session_id(local_org):
    client = client_with_session(local_org, "00Dnot-a-session-the-org-issued")

    with pytest.raises(SalesforceExpiredSession) as raised:
        client.restful("limits")

    assert raised.value.status == 401
    assert only_error(raised)["errorCode"] == "INVALID_SESSION_ID"


def test_expired_session_answers_401_until_the_client_signs_in_again(local_org, connector):
    client = connector.connect()
    client.restful("limits")

    assert expire(local_org, client) == 1
    with pytest.raises(SalesforceExpiredSession) as raised:
        client.restful("limits")

    assert raised.value.status == 401
    assert only_error(raised)["errorCode"] == "INVALID_SESSION_ID"
    assert connector.connect().restful("limits")["DailyApiRequests"]["Max"] == DAILY_API_LIMIT


def test_expiring_one_session_leaves_the_others_working(local_org, connector, sf):
    assert expire(local_org, connector.connect()) == 1

    assert sf.restful("limits")["DailyApiRequests"]["Max"] == DAILY_API_LIMIT


def test_session_idle_longer_than_the_timeout_answers_401(local_org, connector):
    client = connector.connect()
    # Two hours of idleness, without the wait: the org keeps when each session was last used.
    local_org.org.sessions[client.session_id]["seen"] -= SESSION_IDLE_SECONDS + 1

    with pytest.raises(SalesforceExpiredSession) as raised:
        client.restful("limits")

    assert only_error(raised)["errorCode"] == "INVALID_SESSION_ID"


# -- limits -------------------------------------------------------------------------


def test_answers_carry_api_usage_in_sforce_limit_info(sf, local_org):
    sf.restful("limits")

    usage = sf.api_usage["api-usage"]
    assert usage.used == local_org.org.usage.total
    assert usage.total == DAILY_API_LIMIT


def test_error_answers_carry_sforce_limit_info_too(sf, local_org):
    answer = raw(sf, "GET", "sobjects/Opportunity_Split__c/describe")

    assert answer.status_code == 404
    assert answer.headers["Sforce-Limit-Info"] == (
        f"api-usage={local_org.org.usage.total}/{DAILY_API_LIMIT}"
    )


def test_limits_report_the_daily_api_allowance(sf, local_org):
    daily = sf.restful("limits")["DailyApiRequests"]

    assert daily["Max"] == DAILY_API_LIMIT
    assert daily["Remaining"] == DAILY_API_LIMIT - local_org.org.usage.total


def test_each_request_counts_once(sf, registration_id, api_calls):
    with api_calls(everyone=True) as calls:
        sf.Deal_Registration__c.get(registration_id)

    assert calls.count == 1


def test_composite_request_counts_once(sf, api_calls):
    body = {
        "compositeRequest": [
            {"method": "GET", "url": f"/services/data/v{API_VERSION}/limits", "referenceId": ref}
            for ref in ("first", "second", "third")
        ]
    }

    with api_calls(everyone=True) as calls:
        answer = sf.restful("composite", method="POST", json=body)

    assert [item["httpStatusCode"] for item in answer["compositeResponse"]] == [200, 200, 200]
    assert calls.count == 1


# -- composite ----------------------------------------------------------------------


def subrequest_creating(object_name: str, reference: str, body: dict) -> dict:
    return {
        "method": "POST",
        "url": f"/services/data/v{API_VERSION}/sobjects/{object_name}",
        "referenceId": reference,
        "body": body,
    }


def composite(sf, *subrequests, all_or_none: bool = True) -> list[dict]:
    """The subrequests' answers to one composite request."""
    body = {"allOrNone": all_or_none, "compositeRequest": list(subrequests)}
    return sf.restful("composite", method="POST", json=body)["compositeResponse"]


def accounts_named(sf, name: str) -> list[str]:
    statement = format_soql("SELECT Id FROM Account WHERE Name = {}", name)
    return [record["Id"] for record in sf.query(statement)["records"]]


def test_composite_creates_referenced_records_together(sf):
    name = f"Composite {new_key()}"

    partner, rep = composite(
        sf,
        subrequest_creating("Account", "partner", {"Name": name}),
        subrequest_creating("Contact", "rep", {"AccountId": "@{partner.id}", "LastName": "Rep"}),
    )

    assert (partner["httpStatusCode"], rep["httpStatusCode"]) == (201, 201)
    assert accounts_named(sf, name) == [partner["body"]["id"]]
    assert sf.Contact.get(rep["body"]["id"])["AccountId"] == partner["body"]["id"]


def test_composite_all_or_none_rolls_back_when_a_subrequest_fails(sf):
    name = f"Composite {new_key()}"

    partner, rep = composite(
        sf,
        subrequest_creating("Account", "partner", {"Name": name}),
        subrequest_creating("Contact", "rep", {"AccountId": "@{partner.id}"}),
    )

    assert partner["httpStatusCode"] == 400
    assert partner["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert rep["httpStatusCode"] == 400
    assert rep["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert rep["body"][0]["fields"] == ["LastName"]
    assert accounts_named(sf, name) == []


def test_composite_without_all_or_none_keeps_what_succeeded(sf):
    name = f"Composite {new_key()}"

    partner, rep = composite(
        sf,
        subrequest_creating("Account", "partner", {"Name": name}),
        subrequest_creating("Contact", "rep", {"AccountId": "@{partner.id}"}),
        all_or_none=False,
    )

    assert (partner["httpStatusCode"], rep["httpStatusCode"]) == (201, 400)
    assert accounts_named(sf, name) == [partner["body"]["id"]]


def test_composite_without_all_or_none_skips_only_what_depends_on_a_failure(sf):
    name = f"Composite {new_key()}"

    partner, rep, independent = composite(
        sf,
        subrequest_creating("Account", "partner", {}),
        subrequest_creating("Contact", "rep", {"AccountId": "@{partner.id}", "LastName": "Rep"}),
        subrequest_creating("Account", "independent", {"Name": name}),
        all_or_none=False,
    )

    assert partner["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert rep["httpStatusCode"] == 400
    assert independent["httpStatusCode"] == 201
    assert accounts_named(sf, name) == [independent["body"]["id"]]


# -- files --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def uploaded_file(sf) -> tuple[str, str]:
    """A registration and the ID of a ContentVersion uploaded to it as multipart."""
    registration_id = sf.Deal_Registration__c.create(registration())["id"]
    entity = {
        "Title": "Signed quote",
        "PathOnClient": "signed-quote.bin",
        "FirstPublishLocationId": registration_id,
    }
    answer = sf.restful(
        "sobjects/ContentVersion",
        method="POST",
        files={
            "entity_content": (None, json.dumps(entity), "application/json"),
            "VersionData": ("signed-quote.bin", FILE_BYTES, "application/octet-stream"),
        },
        headers={"Content-Type": None},
    )
    return registration_id, answer["id"]


def test_multipart_upload_links_the_file_to_the_registration(sf, uploaded_file):
    registration_id, version_id = uploaded_file
    statement = format_soql(
        "SELECT ContentDocumentId, ContentDocument.Title, "
        "ContentDocument.LatestPublishedVersionId "
        "FROM ContentDocumentLink WHERE LinkedEntityId = {}",
        registration_id,
    )

    [link] = sf.query(statement)["records"]

    assert link["ContentDocumentId"].startswith("069")
    assert link["ContentDocument"]["Title"] == "Signed quote"
    assert link["ContentDocument"]["LatestPublishedVersionId"] == version_id


def test_version_data_answers_the_exact_uploaded_bytes(sf, uploaded_file):
    _, version_id = uploaded_file

    answer = raw(sf, "GET", f"sobjects/ContentVersion/{version_id}/VersionData")

    assert answer.status_code == 200
    assert answer.content == FILE_BYTES


def test_content_version_record_points_at_its_version_data(sf, uploaded_file):
    _, version_id = uploaded_file

    record = sf.ContentVersion.get(version_id)

    assert record["VersionData"] == f"{record_url('ContentVersion', version_id)}/VersionData"
    assert record["ContentSize"] == len(FILE_BYTES)
    assert record["FileExtension"] == "bin"


# -- describe -----------------------------------------------------------------------


def test_describe_lists_fields_with_picklist_values(sf):
    fields = {field["name"]: field for field in sf.Deal_Registration__c.describe()["fields"]}

    product_line = fields["Product_Line__c"]
    assert product_line["type"] == "picklist"
    assert product_line["restrictedPicklist"] is True
    assert [value["value"] for value in product_line["picklistValues"]] == [
        "Cloud Platform",
        "Security Suite",
        "Analytics",
        "Professional Services",
    ]
    defaults = [
        value["value"] for value in fields["Status__c"]["picklistValues"] if value["defaultValue"]
    ]
    assert defaults == ["Submitted"]


def test_describe_marks_the_submission_key_unique_and_external(sf):
    fields = {field["name"]: field for field in sf.Deal_Registration__c.describe()["fields"]}

    assert fields["Submission_Key__c"]["unique"] is True
    assert fields["Submission_Key__c"]["externalId"] is True
    assert fields["Submission_Key__c"]["length"] == 36
