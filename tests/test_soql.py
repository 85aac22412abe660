"""The local org's SOQL: what each supported query answers, and what it refuses."""

import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from simple_salesforce.format import format_soql

from salesforce import schema
from salesforce.localorg import tables
from salesforce.localorg.soql import (
    InvalidFieldError,
    InvalidTypeError,
    QueryResult,
    SoqlError,
    execute,
)

NOW = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)  # a Saturday
PARIS = timezone(timedelta(hours=1))

ADMIN = "005000000000001AAA"
EMEA_QUEUE = "00G000000000001AAA"
ACME = "001000000000001AAA"
BETA = "001000000000002AAA"
RITA = "003000000000001AAA"
DR1 = "a01000000000001AAA"
DR2 = "a01000000000002AAA"
DR3 = "a01000000000003AAA"
DR4 = "a01000000000004AAA"
PROOF = "069000000000001AAA"


def url(object_name, record_id, version="62.0"):
    return f"/services/data/v{version}/sobjects/{object_name}/{record_id}"


def insert(conn, object_name, **values):
    columns = ", ".join(tables.quote(name) for name in values)
    marks = ", ".join("?" * len(values))
    # Identifiers come from the schema through quote(); values travel as parameters.
    statement = f"INSERT INTO {tables.quote(object_name)} ({columns}) VALUES ({marks})"  # noqa: S608
    conn.execute(statement, list(values.values()))


@pytest.fixture
def conn():
    conn = sqlite3.connect(":memory:")
    tables.create_tables(conn, schema.load())
    insert(conn, "User", Id=ADMIN, LastName="Admin", Name="Ann Admin")
    insert(conn, "Group", Id=EMEA_QUEUE, Name="EMEA Queue", Type="Queue")
    insert(conn, "Account", Id=ACME, Name="Acme Partners")
    insert(conn, "Account", Id=BETA, Name="Beta Resellers")
    insert(conn, "Contact", Id=RITA, LastName="Rep", Name="Rita Rep", AccountId=ACME)
    insert(
        conn,
        "Deal_Registration__c",
        Id=DR1,
        Name="DR-0001",
        End_Customer_Name__c="Globex",
        Status__c="Submitted",
        Deal_Value__c=50000,
        Possible_Conflict__c=0,
        OwnerId=EMEA_QUEUE,
        Partner_Account__c=ACME,
        Submitted_By__c=RITA,
        CreatedDate="2026-01-31T10:00:00.000+0000",
        Expected_Close_Date__c="2026-03-31",
    )
    insert(
        conn,
        "Deal_Registration__c",
        Id=DR2,
        Name="DR-0002",
        End_Customer_Name__c="Initech",
        Status__c="Approved",
        Deal_Value__c=250000,
        Possible_Conflict__c=1,
        OwnerId=ADMIN,
        Partner_Account__c=BETA,
        CreatedDate="2026-01-30T23:30:00.000+0000",
        Expected_Close_Date__c="2026-02-15",
    )
    insert(
        conn,
        "Deal_Registration__c",
        Id=DR3,
        Name="DR-0003",
        Possible_Conflict__c=0,
        OwnerId=ADMIN,
        CreatedDate="2026-01-20T08:00:00.000+0000",
    )
    insert(conn, "Deal_Registration__c", Id=DR4, Name="DR-0004", Status__c="Submitted", IsDeleted=1)
    stages = [
        # Inserted out of time order, to show that ORDER BY sorts them.
        ("a00000000000002AAA", DR1, "In Review", "2026-01-31T12:00:00.000+0000", 0),
        ("a00000000000001AAA", DR1, "Submitted", "2026-01-31T10:00:00.000+0000", 0),
        ("a00000000000003AAA", DR2, "Approved", "2026-01-31T09:00:00.000+0000", 0),
        ("a00000000000004AAA", DR2, "Withdrawn", "2026-01-31T09:30:00.000+0000", 1),
    ]
    for stage_id, registration, status, entered, deleted in stages:
        insert(
            conn,
            "Deal_Registration_Stage__c",
            Id=stage_id,
            Registration__c=registration,
            To_Status__c=status,
            Entered_At__c=entered,
            IsDeleted=deleted,
        )
    insert(conn, "ContentDocument", Id=PROOF, Title="proof.pdf")
    insert(
        conn,
        "ContentDocumentLink",
        Id="06A000000000001AAA",
        ContentDocumentId=PROOF,
        LinkedEntityId=DR1,
    )
    return conn


def query(conn, soql, **options) -> QueryResult:
    return execute(conn, schema.load(), soql, now=NOW, **options)


def names(conn, soql) -> list[str]:
    return [record["Name"] for record in query(conn, soql).records]


def registration_names(conn, clauses: str) -> list[str]:
    """Names of the live registrations that `SELECT Name ... <clauses>` answers."""
    # The clauses are test constants or format_soql output, as the gateway's are.
    return names(conn, f"SELECT Name FROM Deal_Registration__c {clauses}")  # noqa: S608


# --- Record shape -----------------------------------------------------------------------------


def test_record_starts_with_attributes_then_canonical_fields_in_selected_order(conn):
    soql = format_soql(
        "select NAME, id, deal_value__c from deal_registration__c where id = {}", DR1
    )

    result = query(conn, soql)

    assert result.total_size == 1
    [record] = result.records
    assert list(record) == ["attributes", "Name", "Id", "Deal_Value__c"]
    assert record == {
        "attributes": {"type": "Deal_Registration__c", "url": url("Deal_Registration__c", DR1)},
        "Name": "DR-0001",
        "Id": DR1,
        "Deal_Value__c": 50000.0,
    }


def test_values_come_back_typed_as_salesforce_answers_them(conn):
    soql = (
        "SELECT Possible_Conflict__c, Deal_Value__c, Expected_Close_Date__c, CreatedDate, "
        "End_Customer_Name__c FROM Deal_Registration__c ORDER BY Name"
    )

    records = query(conn, soql).records

    values = [
        {key: value for key, value in record.items() if key != "attributes"} for record in records
    ]
    assert values == [
        {
            "Possible_Conflict__c": False,
            "Deal_Value__c": 50000.0,
            "Expected_Close_Date__c": "2026-03-31",
            "CreatedDate": "2026-01-31T10:00:00.000+0000",
            "End_Customer_Name__c": "Globex",
        },
        {
            "Possible_Conflict__c": True,
            "Deal_Value__c": 250000.0,
            "Expected_Close_Date__c": "2026-02-15",
            "CreatedDate": "2026-01-30T23:30:00.000+0000",
            "End_Customer_Name__c": "Initech",
        },
        {
            "Possible_Conflict__c": False,
            "Deal_Value__c": None,
            "Expected_Close_Date__c": None,
            "CreatedDate": "2026-01-20T08:00:00.000+0000",
            "End_Customer_Name__c": None,
        },
    ]
    assert type(records[0]["Deal_Value__c"]) is float


def test_int_and_base64_fields_answer_a_number_and_a_blob_url(conn):
    insert(
        conn,
        "ContentVersion",
        Id="068000000000001AAA",
        Title="proof.pdf",
        ContentSize=1234,
        VersionData=b"%PDF",
    )

    [record] = query(conn, "SELECT ContentSize, VersionData FROM ContentVersion").records

    assert record["ContentSize"] == 1234
    assert record["VersionData"] == url("ContentVersion", "068000000000001AAA") + "/VersionData"


def test_urls_carry_the_requested_api_version(conn):
    [record] = query(
        conn, "SELECT Id FROM Account WHERE Name = 'Acme Partners'", api_version="58.0"
    ).records

    assert record["attributes"]["url"] == url("Account", ACME, "58.0")


def test_parent_fields_nest_under_the_relationship_name_at_any_depth(conn):
    soql = (
        "SELECT Name, partner_account__r.name, Submitted_By__r.Account.Name, "
        "Submitted_By__r.Name FROM Deal_Registration__c WHERE Name = 'DR-0001'"
    )

    [record] = query(conn, soql).records

    assert record == {
        "attributes": {"type": "Deal_Registration__c", "url": url("Deal_Registration__c", DR1)},
        "Name": "DR-0001",
        "Partner_Account__r": {
            "attributes": {"type": "Account", "url": url("Account", ACME)},
            "Name": "Acme Partners",
        },
        "Submitted_By__r": {
            "attributes": {"type": "Contact", "url": url("Contact", RITA)},
            "Account": {
                "attributes": {"type": "Account", "url": url("Account", ACME)},
                "Name": "Acme Partners",
            },
            "Name": "Rita Rep",
        },
    }


def test_null_reference_answers_none_instead_of_a_parent_record(conn):
    soql = (
        "SELECT Partner_Account__r.Name, Submitted_By__r.Account.Name "
        "FROM Deal_Registration__c WHERE Name = 'DR-0003'"
    )

    [record] = query(conn, soql).records

    assert record["Partner_Account__r"] is None
    assert record["Submitted_By__r"] is None


def test_polymorphic_owner_takes_its_type_from_the_referenced_id(conn):
    soql = "SELECT Owner.Name, Owner.Id FROM Deal_Registration__c ORDER BY Name LIMIT 2"

    owners = [record["Owner"] for record in query(conn, soql).records]

    assert owners == [
        {
            "attributes": {"type": "Group", "url": url("Group", EMEA_QUEUE)},
            "Name": "EMEA Queue",
            "Id": EMEA_QUEUE,
        },
        {
            "attributes": {"type": "User", "url": url("User", ADMIN)},
            "Name": "Ann Admin",
            "Id": ADMIN,
        },
    ]


# --- Child subqueries -------------------------------------------------------------------------


def test_child_subquery_answers_ordered_children_or_none(conn):
    soql = (
        "SELECT Name, (SELECT To_Status__c, Entered_At__c FROM Stages__r ORDER BY Entered_At__c) "
        "FROM Deal_Registration__c ORDER BY Name"
    )

    records = query(conn, soql).records

    def stage(stage_id, status, entered):
        return {
            "attributes": {
                "type": "Deal_Registration_Stage__c",
                "url": url("Deal_Registration_Stage__c", stage_id),
            },
            "To_Status__c": status,
            "Entered_At__c": entered,
        }

    assert [list(record) for record in records] == [["attributes", "Name", "Stages__r"]] * 3
    assert records[0]["Stages__r"] == {
        "totalSize": 2,
        "done": True,
        "records": [
            stage("a00000000000001AAA", "Submitted", "2026-01-31T10:00:00.000+0000"),
            stage("a00000000000002AAA", "In Review", "2026-01-31T12:00:00.000+0000"),
        ],
    }
    # The deleted Withdrawn stage is left out.
    assert records[1]["Stages__r"] == {
        "totalSize": 1,
        "done": True,
        "records": [stage("a00000000000003AAA", "Approved", "2026-01-31T09:00:00.000+0000")],
    }
    assert records[2]["Stages__r"] is None


def test_child_subquery_applies_its_where_order_and_limit_per_parent(conn):
    soql = (
        "SELECT Name, (SELECT To_Status__c FROM Stages__r WHERE To_Status__c != 'Approved' "
        "ORDER BY Entered_At__c DESC LIMIT 1) FROM Deal_Registration__c ORDER BY Name LIMIT 2"
    )

    records = query(conn, soql).records

    assert [record["Stages__r"] and record["Stages__r"]["records"] for record in records] == [
        [
            {
                "attributes": {
                    "type": "Deal_Registration_Stage__c",
                    "url": url("Deal_Registration_Stage__c", "a00000000000002AAA"),
                },
                "To_Status__c": "In Review",
            }
        ],
        None,
    ]


def test_content_document_links_subquery_reaches_the_document_title(conn):
    soql = (
        "SELECT Id, (SELECT ContentDocumentId, ContentDocument.Title FROM ContentDocumentLinks) "
        "FROM Deal_Registration__c WHERE Id = '{}'"
    )

    [record] = query(conn, soql.format(DR1)).records

    assert record["ContentDocumentLinks"] == {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {
                    "type": "ContentDocumentLink",
                    "url": url("ContentDocumentLink", "06A000000000001AAA"),
                },
                "ContentDocumentId": PROOF,
                "ContentDocument": {
                    "attributes": {"type": "ContentDocument", "url": url("ContentDocument", PROOF)},
                    "Title": "proof.pdf",
                },
            }
        ],
    }


def test_each_child_subquery_runs_as_one_statement_for_all_parents(conn):
    statements = []
    conn.set_trace_callback(statements.append)
    soql = (
        "SELECT Id, (SELECT Id FROM Stages__r), (SELECT Id FROM ContentDocumentLinks) "
        "FROM Deal_Registration__c"
    )

    result = query(conn, soql)

    assert result.total_size == 3
    assert len(statements) == 3


# --- COUNT(), ORDER BY, LIMIT, OFFSET ---------------------------------------------------------


@pytest.mark.parametrize(
    ("soql", "total"),
    [
        ("SELECT COUNT() FROM Deal_Registration__c", 3),
        ("SELECT count() FROM Deal_Registration__c WHERE Status__c = 'Submitted'", 1),
        ("SELECT COUNT() FROM Deal_Registration__c LIMIT 2", 2),
        ("SELECT COUNT() FROM Deal_Registration_Stage__c", 3),
        (
            "SELECT COUNT() FROM Deal_Registration__c "
            "WHERE Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)",
            2,
        ),
    ],
)
def test_count_answers_the_number_of_live_records_and_no_records(conn, soql, total):
    assert query(conn, soql) == QueryResult(total, [])


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("ORDER BY Deal_Value__c", ["DR-0003", "DR-0001", "DR-0002"]),
        ("ORDER BY Deal_Value__c DESC", ["DR-0002", "DR-0001", "DR-0003"]),
        ("ORDER BY Deal_Value__c ASC NULLS LAST", ["DR-0001", "DR-0002", "DR-0003"]),
        ("ORDER BY Deal_Value__c DESC NULLS FIRST", ["DR-0003", "DR-0002", "DR-0001"]),
        ("ORDER BY Owner.Name, Name DESC", ["DR-0003", "DR-0002", "DR-0001"]),
        ("ORDER BY Partner_Account__r.Name DESC", ["DR-0002", "DR-0001", "DR-0003"]),
        ("ORDER BY Name LIMIT 2", ["DR-0001", "DR-0002"]),
        ("ORDER BY Name LIMIT 1 OFFSET 1", ["DR-0002"]),
        ("ORDER BY Name OFFSET 2", ["DR-0003"]),
        ("order by name desc limit 0", []),
    ],
)
def test_order_by_puts_nulls_first_ascending_and_last_descending(conn, clause, expected):
    assert registration_names(conn, clause) == expected


def test_order_by_text_ignores_case(conn):
    insert(conn, "Account", Id="001000000000003AAA", Name="acme labs")

    assert names(conn, "SELECT Name FROM Account ORDER BY Name") == [
        "acme labs",
        "Acme Partners",
        "Beta Resellers",
    ]


# --- WHERE ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Status__c = 'submitted'", ["DR-0001"]),
        ("Status__c != 'Submitted'", ["DR-0002", "DR-0003"]),
        ("Status__c <> 'Submitted'", ["DR-0002", "DR-0003"]),
        ("Status__c = null", ["DR-0003"]),
        ("Status__c != NULL", ["DR-0001", "DR-0002"]),
        ("End_Customer_Name__c = ''", ["DR-0003"]),
        ("NOT Status__c = 'Approved'", ["DR-0001", "DR-0003"]),
        ("Status__c IN ('Submitted', 'APPROVED')", ["DR-0001", "DR-0002"]),
        ("Status__c NOT IN ('Submitted')", ["DR-0002", "DR-0003"]),
        ("Status__c IN ('Approved', null)", ["DR-0002", "DR-0003"]),
        ("Status__c NOT IN ('Approved', null)", ["DR-0001"]),
        ("Deal_Value__c > 50000", ["DR-0002"]),
        ("Deal_Value__c >= 50000", ["DR-0001", "DR-0002"]),
        ("Deal_Value__c < 100000.5", ["DR-0001"]),
        ("Deal_Value__c > -1", ["DR-0001", "DR-0002"]),
        ("NOT Deal_Value__c > 100000", ["DR-0001", "DR-0003"]),
        ("Deal_Value__c IN (50000, 250000.0)", ["DR-0001", "DR-0002"]),
        ("Possible_Conflict__c = true", ["DR-0002"]),
        ("Possible_Conflict__c = FALSE", ["DR-0001", "DR-0003"]),
        ("Possible_Conflict__c != true", ["DR-0001", "DR-0003"]),
        ("(Status__c = 'Approved' OR Deal_Value__c = 50000) AND Name != 'DR-0002'", ["DR-0001"]),
        ("Status__c = 'Approved' OR (Deal_Value__c = 50000 AND Name != 'DR-0002')",
         ["DR-0001", "DR-0002"]),
        ("NOT (Status__c = 'Approved' OR Status__c = null)", ["DR-0001"]),
        ("NOT (Status__c = 'Approved' AND Possible_Conflict__c = true)", ["DR-0001", "DR-0003"]),
        ("Name = 'DR-0001' OR Name = 'DR-0003' OR Name = 'DR-0004'", ["DR-0001", "DR-0003"]),
    ],
)  # fmt: skip
def test_where_compares_as_salesforce_does(conn, condition, expected):
    assert registration_names(conn, f"WHERE {condition} ORDER BY Name") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("End_Customer_Name__c LIKE 'glo%'", ["DR-0001"]),
        ("End_Customer_Name__c LIKE '_NITECH'", ["DR-0002"]),
        ("End_Customer_Name__c LIKE '%e%'", ["DR-0001", "DR-0002"]),
        ("NOT End_Customer_Name__c LIKE 'G%'", ["DR-0002", "DR-0003"]),
        ("Name LIKE 'DR\\_000_'", []),
        ("Name LIKE 'DR-000_'", ["DR-0001", "DR-0002", "DR-0003"]),
    ],
)
def test_like_matches_case_insensitively_with_percent_and_underscore(conn, condition, expected):
    assert registration_names(conn, f"WHERE {condition} ORDER BY Name") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Partner_Account__r.Name = 'acme partners'", ["DR-0001"]),
        ("Partner_Account__r.Name != 'Acme Partners'", ["DR-0002", "DR-0003"]),
        ("Partner_Account__r.Name = null", ["DR-0003"]),
        ("Owner.Name = 'emea queue'", ["DR-0001"]),
        ("Owner.Name LIKE 'Ann%'", ["DR-0002", "DR-0003"]),
        ("Submitted_By__r.Account.Name LIKE 'Acme%'", ["DR-0001"]),
    ],
)
def test_where_follows_parent_paths(conn, condition, expected):
    assert registration_names(conn, f"WHERE {condition} ORDER BY Name") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Id = 'a01000000000002'", ["DR-0002"]),
        ("Id = 'a01000000000002AAA'", ["DR-0002"]),
        ("Id = 'a01000000000002xyz'", ["DR-0002"]),
        ("Id = 'A01000000000002AAA'", []),
        ("Id != 'a01000000000002'", ["DR-0001", "DR-0003"]),
        ("Id IN ('a01000000000001', 'a01000000000003AAA')", ["DR-0001", "DR-0003"]),
        ("OwnerId = '005000000000001'", ["DR-0002", "DR-0003"]),
        ("OwnerId != '005000000000001AAA'", ["DR-0001"]),
        ("Partner_Account__c = null", ["DR-0003"]),
        ("Partner_Account__c = ''", ["DR-0003"]),
        ("Owner.Id = '00G000000000001'", ["DR-0001"]),
    ],
)
def test_ids_match_on_their_case_sensitive_first_15_characters(conn, condition, expected):
    assert registration_names(conn, f"WHERE {condition} ORDER BY Name") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CreatedDate > 2026-01-31T00:00:00Z", ["DR-0001"]),
        ("CreatedDate = 2026-01-31T10:00:00Z", ["DR-0001"]),
        ("CreatedDate = 2026-01-31T11:00:00+01:00", ["DR-0001"]),
        ("CreatedDate = 2026-01-31T10:00:00.000+0000", ["DR-0001"]),
        ("CreatedDate < 2026-01-31T00:30:00+01:00", ["DR-0003"]),
        ("CreatedDate <= 2026-01-31T00:30:00+01:00", ["DR-0002", "DR-0003"]),
        ("CreatedDate >= 2026-01-30T18:30:00-05:00", ["DR-0001", "DR-0002"]),
        ("Expected_Close_Date__c = 2026-03-31", ["DR-0001"]),
        ("Expected_Close_Date__c < 2026-03-01", ["DR-0002"]),
        ("Expected_Close_Date__c != 2026-03-31", ["DR-0002", "DR-0003"]),
    ],
)
def test_dates_and_datetimes_compare_in_utc(conn, condition, expected):
    assert registration_names(conn, f"WHERE {condition} ORDER BY Name") == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CreatedDate = TODAY", ["DR-0001"]),
        ("CreatedDate = YESTERDAY", ["DR-0002"]),
        ("CreatedDate > YESTERDAY", ["DR-0001"]),
        ("CreatedDate < TODAY", ["DR-0002", "DR-0003"]),
        ("CreatedDate <= YESTERDAY", ["DR-0002", "DR-0003"]),
        ("CreatedDate != TODAY", ["DR-0002", "DR-0003"]),
        ("CreatedDate = TOMORROW", []),
        ("CreatedDate >= LAST_N_DAYS:1", ["DR-0001", "DR-0002"]),
        ("CreatedDate = LAST_N_DAYS:7", ["DR-0001", "DR-0002"]),
        ("CreatedDate = LAST_N_DAYS:11", ["DR-0001", "DR-0002", "DR-0003"]),
        ("CreatedDate = THIS_WEEK", ["DR-0001", "DR-0002"]),
        ("CreatedDate = LAST_WEEK", ["DR-0003"]),
        ("CreatedDate = THIS_MONTH", ["DR-0001", "DR-0002", "DR-0003"]),
        ("CreatedDate = LAST_MONTH", []),
        ("CreatedDate = THIS_YEAR", ["DR-0001", "DR-0002", "DR-0003"]),
        ("Expected_Close_Date__c = NEXT_MONTH", ["DR-0002"]),
        ("Expected_Close_Date__c = NEXT_N_DAYS:15", ["DR-0002"]),
        ("Expected_Close_Date__c = NEXT_N_DAYS:14", []),
        ("Expected_Close_Date__c > THIS_MONTH", ["DR-0001", "DR-0002"]),
        ("Expected_Close_Date__c > NEXT_MONTH", ["DR-0001"]),
        ("Expected_Close_Date__c = THIS_YEAR", ["DR-0001", "DR-0002"]),
    ],
)
def test_date_literals_cover_whole_utc_days_from_now(conn, condition, expected):
    assert registration_names(conn, f"WHERE {condition} ORDER BY Name") == expected


def test_deleted_records_are_never_answered(conn):
    assert names(conn, "SELECT Name FROM Deal_Registration__c WHERE Name = 'DR-0004'") == []
    assert query(
        conn, "SELECT COUNT() FROM Deal_Registration__c WHERE Status__c = 'Submitted'"
    ) == (QueryResult(1, []))


# --- Semi-joins and anti-joins ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)", ["DR-0001", "DR-0002"]),
        ("id in (select registration__c from deal_registration_stage__c)", ["DR-0001", "DR-0002"]),
        ("Id NOT IN (SELECT Registration__c FROM Deal_Registration_Stage__c)", ["DR-0003"]),
        # The only Withdrawn stage is deleted.
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c "
         "WHERE To_Status__c = 'withdrawn')", []),
        ("Id NOT IN (SELECT Registration__c FROM Deal_Registration_Stage__c "
         "WHERE To_Status__c = 'Withdrawn')", ["DR-0001", "DR-0002", "DR-0003"]),
        ("Id NOT IN (SELECT Registration__c FROM Deal_Registration_Stage__c "
         "WHERE NOT To_Status__c = 'Submitted')", ["DR-0003"]),
        ("Partner_Account__c IN (SELECT AccountId FROM Contact)", ["DR-0001"]),
        # As with NOT IN and a list, a record whose field is null is not in the sub-select.
        ("Partner_Account__c NOT IN (SELECT AccountId FROM Contact)", ["DR-0002", "DR-0003"]),
        ("Partner_Account__c IN (SELECT Id FROM Account WHERE Name LIKE 'beta%')", ["DR-0002"]),
        ("Submitted_By__c IN (SELECT Id FROM Contact WHERE Account.Name = 'acme partners')",
         ["DR-0001"]),
        ("OwnerId IN (SELECT Id FROM User WHERE LastName = 'Admin')", ["DR-0002", "DR-0003"]),
        ("OwnerId NOT IN (SELECT GroupId FROM GroupMember)", ["DR-0001", "DR-0002", "DR-0003"]),
        ("Id IN (SELECT LinkedEntityId FROM ContentDocumentLink "
         "WHERE ContentDocument.Title LIKE '%.pdf')", ["DR-0001"]),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c "
         "WHERE Registration__r.Partner_Account__r.Name = 'Beta Resellers')", ["DR-0002"]),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c "
         "WHERE Registration__r.Owner.Name = 'EMEA Queue')", ["DR-0001"]),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c "
         "WHERE Entered_At__c > 2026-01-31T11:00:00Z OR To_Status__c = 'Approved')",
         ["DR-0001", "DR-0002"]),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c "
         "WHERE Entered_At__c = TODAY AND Registration__r.Status__c = null)", []),
        ("Status__c != 'Approved' "
         "AND Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)", ["DR-0001"]),
        ("(Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)) "
         "AND (Status__c = 'Approved' OR Status__c = null)", ["DR-0002"]),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c) "
         "AND Partner_Account__c NOT IN (SELECT AccountId FROM Contact)", ["DR-0002"]),
        ("Id NOT IN (SELECT Registration__c FROM Deal_Registration_Stage__c) "
         "AND Id NOT IN (SELECT LinkedEntityId FROM ContentDocumentLink) "
         "AND Name LIKE 'DR-%'", ["DR-0003"]),
    ],
)  # fmt: skip
def test_semi_and_anti_joins_filter_by_a_sub_select(conn, condition, expected):
    assert registration_names(conn, f"WHERE {condition} ORDER BY Name") == expected


def test_semi_join_sub_select_leaves_out_deleted_records(conn):
    conn.execute("UPDATE Contact SET IsDeleted = 1")
    accounts = "(SELECT AccountId FROM Contact)"

    assert registration_names(conn, f"WHERE Partner_Account__c IN {accounts}") == []
    assert registration_names(conn, f"WHERE Partner_Account__c NOT IN {accounts}") == [
        "DR-0001",
        "DR-0002",
        "DR-0003",
    ]


def test_portal_manager_scope_finds_the_company_of_an_active_manager(conn):
    conn.execute("UPDATE Contact SET Portal_Status__c = 'Active', Portal_Role__c = 'Manager'")
    template = (
        "WHERE Partner_Account__c IN (SELECT AccountId FROM Contact WHERE Id = {} "
        "AND Portal_Status__c = {} AND Portal_Role__c = 'Manager') ORDER BY Name"
    )

    assert registration_names(conn, format_soql(template, RITA, "Active")) == ["DR-0001"]
    assert registration_names(conn, format_soql(template, RITA, "Disabled")) == []
    assert registration_names(conn, format_soql(template, DR1, "Active")) == []


def test_semi_joins_run_inside_the_one_statement_with_child_subqueries_apart(conn):
    statements = []
    conn.set_trace_callback(statements.append)
    soql = (
        "SELECT Name, (SELECT To_Status__c FROM Stages__r) FROM Deal_Registration__c WHERE Id IN "
        "(SELECT Registration__c FROM Deal_Registration_Stage__c WHERE To_Status__c = 'Approved') "
        "AND Partner_Account__c NOT IN (SELECT AccountId FROM Contact)"
    )

    [record] = query(conn, soql).records

    assert record["Name"] == "DR-0002"
    assert record["Stages__r"]["totalSize"] == 1
    assert len(statements) == 2


def test_child_subquery_may_filter_by_a_semi_join(conn):
    soql = (
        "SELECT Name, (SELECT To_Status__c FROM Stages__r WHERE Registration__c IN "
        "(SELECT LinkedEntityId FROM ContentDocumentLink)) FROM Deal_Registration__c "
        "WHERE Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c) ORDER BY Name"
    )

    records = query(conn, soql).records

    assert [record["Stages__r"] and record["Stages__r"]["totalSize"] for record in records] == [
        2,
        None,
    ]


# --- Values from format_soql ------------------------------------------------------------------

NASTY_NAMES = [
    "O'Brien & Sons",
    'Say "hi"',
    "back\\slash",
    "ends with backslash\\",
    "\\'",
    "100% legit",
    "100X legit",
    "under_score",
    "underXscore",
    "line\nbreak\ttab\rreturn",
    "\b\f",
    "Zoë Ünïcode 日本 😀",
    "' OR Name != '",
    "') OR (Name != '",
    "%",
    "_",
    "x' OR '1'='1",
]


@pytest.fixture
def nasty_conn(conn):
    for number, name in enumerate(NASTY_NAMES, start=10):
        insert(conn, "Account", Id=f"0010000000000{number}AAA", Name=name)
    return conn


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_format_soql_value_matches_literally_and_never_changes_the_query(nasty_conn, name):
    equal = format_soql("SELECT Name FROM Account WHERE Name = {}", name)
    unequal = format_soql("SELECT Name FROM Account WHERE Name != {}", name)
    like = format_soql("SELECT Name FROM Account WHERE Name LIKE '{:like}'", name)
    listed = format_soql("SELECT Name FROM Account WHERE Name IN {}", [name, "nobody"])

    everyone = ["Acme Partners", "Beta Resellers", *NASTY_NAMES]
    assert names(nasty_conn, equal) == [name]
    assert sorted(names(nasty_conn, unequal)) == sorted(n for n in everyone if n != name)
    assert names(nasty_conn, like) == [name]
    assert names(nasty_conn, listed) == [name]


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_format_soql_value_in_a_semi_join_matches_literally(nasty_conn, name):
    # One contact per company, named as the company is.
    for number, account_name in enumerate(NASTY_NAMES, start=10):
        insert(
            nasty_conn,
            "Contact",
            Id=f"0030000000000{number}AAA",
            LastName="Rep",
            Name=account_name,
            AccountId=f"0010000000000{number}AAA",
        )
    semi = format_soql(
        "SELECT Name FROM Contact WHERE AccountId IN (SELECT Id FROM Account WHERE Name = {})",
        name,
    )
    anti = format_soql(
        "SELECT Name FROM Contact WHERE AccountId NOT IN "
        "(SELECT Id FROM Account WHERE Name = {} OR Name LIKE '{:like}')",
        name,
        name,
    )
    by_parent = format_soql(
        "SELECT Name FROM Account WHERE Id IN "
        "(SELECT AccountId FROM Contact WHERE Account.Name IN {} AND Name != {})",
        [name, "nobody"],
        "nobody",
    )

    assert names(nasty_conn, semi) == [name]
    assert sorted(names(nasty_conn, anti)) == sorted(
        ["Rita Rep", *(n for n in NASTY_NAMES if n != name)]
    )
    assert names(nasty_conn, by_parent) == [name]


def test_format_soql_like_prefix_treats_percent_and_underscore_literally(nasty_conn):
    soql = format_soql("SELECT Name FROM Account WHERE Name LIKE '{:like}%'", "100%")

    assert names(nasty_conn, soql) == ["100% legit"]


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("CreatedDate = {}", datetime(2026, 1, 31, 11, tzinfo=PARIS), ["DR-0001"]),
        ("CreatedDate < {}", datetime(2026, 1, 31, tzinfo=UTC), ["DR-0002", "DR-0003"]),
        ("Expected_Close_Date__c = {}", date(2026, 2, 15), ["DR-0002"]),
        ("Deal_Value__c = {}", 250000, ["DR-0002"]),
        ("Deal_Value__c < {}", 50000.01, ["DR-0001"]),
        ("Possible_Conflict__c = {}", True, ["DR-0002"]),
        ("Status__c = {}", None, ["DR-0003"]),
        ("Id IN {}", [DR1, DR3[:15]], ["DR-0001", "DR-0003"]),
    ],
)  # fmt: skip
def test_format_soql_values_of_every_type_are_understood(conn, template, value, expected):
    clauses = format_soql(f"WHERE {template} ORDER BY Name", value)

    assert registration_names(conn, clauses) == expected


# --- Errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Id FROM Foo__c",
        "SELECT Id FROM Deal_Registration",
        "SELECT Id, (SELECT Id FROM Stages) FROM Deal_Registration__c",
        "SELECT Id FROM Deal_Registration__c WHERE Id IN (SELECT Registration__c FROM X)",
    ],
)
def test_unknown_object_or_child_relationship_is_invalid_type(conn, soql):
    with pytest.raises(InvalidTypeError) as error:
        query(conn, soql)

    assert error.value.code == "INVALID_TYPE"


def test_invalid_type_message_names_the_object_as_salesforce_does(conn):
    with pytest.raises(InvalidTypeError, match=r"^sObject type 'Foo__c' is not supported\."):
        query(conn, "SELECT Id FROM Foo__c")


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT Foo__c FROM Deal_Registration__c",
        "SELECT Partner_Account__r FROM Deal_Registration__c",
        "SELECT Foo__r.Name FROM Deal_Registration__c",
        "SELECT Partner_Account__c.Name FROM Deal_Registration__c",
        "SELECT Partner_Account__r.Nope__c FROM Deal_Registration__c",
        "SELECT Owner.Nope FROM Deal_Registration__c",
        "SELECT Owner.CreatedBy.Name FROM Deal_Registration__c",
        "SELECT Id FROM Deal_Registration__c WHERE Nope__c = 'x'",
        "SELECT Id FROM Deal_Registration__c ORDER BY Nope__c",
        "SELECT Id, (SELECT Nope__c FROM Stages__r) FROM Deal_Registration__c",
        "SELECT Id FROM Deal_Registration__c WHERE Nope__c IN (SELECT AccountId FROM Contact)",
        "SELECT Id FROM Account WHERE Id IN (SELECT Nope__c FROM Contact)",
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE Nope__c = 1)",
        "SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE Nope__r.Id = 1)",
    ],
)
def test_unknown_field_or_relationship_is_invalid_field(conn, soql):
    with pytest.raises(InvalidFieldError) as error:
        query(conn, soql)

    assert error.value.code == "INVALID_FIELD"


def test_invalid_field_message_names_column_and_entity_as_salesforce_does(conn):
    expected = r"^No such column 'Foo__c' on entity 'Deal_Registration__c'\. If you are"

    with pytest.raises(InvalidFieldError, match=expected):
        query(conn, "SELECT Foo__c FROM Deal_Registration__c")


@pytest.mark.parametrize(
    "soql",
    [
        "",
        "SELECT FROM Deal_Registration__c",
        "SELECT Id Deal_Registration__c",
        "SELECT Id, FROM Deal_Registration__c",
        "SELECT Id FROM Deal_Registration__c WHERE",
        "SELECT Id FROM Deal_Registration__c LIMIT 5 garbage",
        "SELECT Id FROM Deal_Registration__c; DROP TABLE Account",
        "SELECT Id FROM Deal_Registration__c WHERE Name = 'open",
        "SELECT Id FROM Deal_Registration__c WHERE Name = 'ends in backslash\\'",
        "SELECT Id FROM Deal_Registration__c WHERE Name = 'a\\qb'",
        "SELECT Id FROM Deal_Registration__c WHERE Name = '100\\%'",
        "SELECT Id FROM Deal_Registration__c WHERE Deal_Value__c = 'abc'",
        "SELECT Id FROM Deal_Registration__c WHERE Deal_Value__c = '5'",
        "SELECT Id FROM Deal_Registration__c WHERE CreatedDate = 'x'",
        "SELECT Id FROM Deal_Registration__c WHERE CreatedDate = 2026-01-31",
        "SELECT Id FROM Deal_Registration__c WHERE CreatedDate > 2026-01-31T10:00:00",
        "SELECT Id FROM Deal_Registration__c WHERE Expected_Close_Date__c = 2026-01-31T10:00:00Z",
        "SELECT Id FROM Deal_Registration__c WHERE Expected_Close_Date__c = 2026-02-30",
        "SELECT Id FROM Deal_Registration__c WHERE Expected_Close_Date__c = '2026-02-01'",
        "SELECT Id FROM Deal_Registration__c WHERE Name = 5",
        "SELECT Id FROM Deal_Registration__c WHERE Name = TODAY",
        "SELECT Id FROM Deal_Registration__c WHERE Possible_Conflict__c = 'true'",
        "SELECT Id FROM Deal_Registration__c WHERE Possible_Conflict__c > false",
        "SELECT Id FROM Deal_Registration__c WHERE Id = 'abc'",
        "SELECT Id FROM Deal_Registration__c WHERE Deal_Value__c LIKE '5%'",
        "SELECT Id FROM Deal_Registration__c WHERE Deal_Value__c > null",
        "SELECT Id FROM Deal_Registration__c WHERE Notes__c = 'x'",
        "SELECT Id FROM Deal_Registration__c WHERE Name = Status__c",
        "SELECT Id FROM Deal_Registration__c WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
        "SELECT Id FROM Deal_Registration__c WHERE Name NOT LIKE 'a%'",
        "SELECT Id FROM Deal_Registration__c WHERE Name IN ()",
        "SELECT Id FROM Deal_Registration__c WHERE Id = (SELECT Registration__c FROM X)",
        "SELECT Id FROM Deal_Registration__c WHERE Id IN (SELECT Registration__c FROM)",
        "SELECT Id FROM Deal_Registration__c WHERE Id IN (SELECT FROM Contact)",
        "SELECT Id FROM Deal_Registration__c ORDER BY Name NULLS MIDDLE",
        "SELECT Id FROM Deal_Registration__c LIMIT -1",
        "SELECT Id FROM Deal_Registration__c LIMIT 1.5",
        "SELECT COUNT(), Id FROM Deal_Registration__c",
        "SELECT Id, id FROM Deal_Registration__c",
        "SELECT Owner.Name, owner.name FROM Deal_Registration__c",
        "SELECT (SELECT Id, (SELECT Id FROM Stages__r) FROM Stages__r) FROM Deal_Registration__c",
        "SELECT Id, (SELECT COUNT() FROM Stages__r) FROM Deal_Registration__c",
    ],
)
def test_malformed_query_is_refused(conn, soql):
    with pytest.raises(SoqlError) as error:
        query(conn, soql)

    assert type(error.value) is SoqlError
    assert error.value.code == "MALFORMED_QUERY"
    assert str(error.value)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("Id IN (SELECT Registration__c, Id FROM Deal_Registration_Stage__c)",
         r"^Semi join sub-selects must select exactly one field$"),
        ("Id IN (SELECT To_Status__c FROM Deal_Registration_Stage__c)",
         r"^The selected field 'To_Status__c' in the subquery must be an id or reference field$"),
        ("Partner_Account__c IN (SELECT Id, (SELECT Id FROM Contacts) FROM Account)",
         r"^Semi join sub-selects can not contain relationship subqueries$"),
        ("Partner_Account__c IN (SELECT COUNT() FROM Account)",
         r"^Semi join sub-selects do not support COUNT\(\)$"),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c ORDER BY Entered_At__c)",
         r"^Semi join sub-selects do not support ORDER BY$"),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c LIMIT 1)",
         r"^Semi join sub-selects do not support LIMIT$"),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c OFFSET 1)",
         r"^Semi join sub-selects do not support OFFSET$"),
        ("Submitted_By__c IN (SELECT Contact__r.Id FROM Portal_Passkey__c)",
         r"^Semi join sub-selects must select a field of their own object, not the "
         r"relationship path 'Contact__r\.Id'$"),
        ("Submitted_By__r.AccountId IN (SELECT AccountId FROM Contact)",
         r"^Semi join sub-selects need a field of the queried object on the left of IN, not "
         r"the relationship path 'Submitted_By__r\.AccountId'$"),
        ("Name IN (SELECT Registration__c FROM Deal_Registration_Stage__c)",
         r"^The left operand field in the where expression in the outer query 'Name' must be "
         r"an id or reference field for a semi join$"),
        ("Id IN (SELECT AccountId FROM Contact)",
         r"^The selected field 'AccountId' in the subquery and the left operand field in the "
         r"where expression in the outer query 'Id' should point to the same object type$"),
        ("Partner_Account__c NOT IN (SELECT Id FROM Contact)",
         r"^The selected field 'Id' in the subquery and the left operand field in the where "
         r"expression in the outer query 'Partner_Account__c' should point to the same"),
        ("Id IN (SELECT Id FROM Deal_Registration__c WHERE Name = 'DR-0001')",
         r"^Semi join sub-selects can not query the object of the outer query, "
         r"'Deal_Registration__c'"),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c "
         "WHERE Registration__c IN (SELECT LinkedEntityId FROM ContentDocumentLink))",
         r"^Nesting of semi join sub-selects is not supported$"),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c) "
         "AND Id IN (SELECT LinkedEntityId FROM ContentDocumentLink) "
         "AND Partner_Account__c NOT IN (SELECT AccountId FROM Contact)",
         r"^Maximum 2 semi join sub-selects are allowed$"),
        ("Status__c = 'Approved' "
         "OR Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)",
         r"^Semi join sub-selects are not allowed with the 'OR' operator$"),
        ("Id NOT IN (SELECT Registration__c FROM Deal_Registration_Stage__c) "
         "OR Partner_Account__c = null",
         r"^Semi join sub-selects are not allowed with the 'OR' operator$"),
        ("NOT Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)",
         r"^Semi join sub-selects are not allowed with the 'NOT' operator"),
        ("NOT (Name = 'DR-0001' "
         "AND Id NOT IN (SELECT Registration__c FROM Deal_Registration_Stage__c))",
         r"^Semi join sub-selects are not allowed with the 'NOT' operator"),
        ("Name != 'DR-0003' AND (Status__c = 'Approved' "
         "OR Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c))",
         r"^Semi join sub-selects are only allowed at the top level WHERE expressions and not "
         r"in nested WHERE expressions$"),
        ("(Name != 'DR-0003' "
         "AND Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)) "
         "AND Status__c = 'Approved'",
         r"^Semi join sub-selects are only allowed at the top level WHERE expressions"),
    ],
)  # fmt: skip
def test_semi_join_restrictions_are_malformed_query(conn, condition, message):
    with pytest.raises(SoqlError, match=message) as error:
        registration_names(conn, f"WHERE {condition}")

    assert type(error.value) is SoqlError
    assert error.value.code == "MALFORMED_QUERY"


def test_semi_joins_count_toward_the_maximum_across_child_subqueries(conn):
    soql = (
        "SELECT Id, (SELECT Id FROM Stages__r WHERE Registration__c IN "
        "(SELECT LinkedEntityId FROM ContentDocumentLink)) FROM Deal_Registration__c "
        "WHERE Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c) "
        "AND Partner_Account__c NOT IN (SELECT AccountId FROM Contact)"
    )

    with pytest.raises(SoqlError, match=r"^Maximum 2 semi join sub-selects are allowed$"):
        query(conn, soql)
