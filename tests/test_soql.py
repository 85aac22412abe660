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
    table = tables.quote(object_name)
    statement = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
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


# --- Aggregate queries ------------------------------------------------------------------------

AGGREGATE = {"type": "AggregateResult"}


def aggregate_rows(conn, soql) -> list[dict]:
    """The AggregateResult rows a query answers, without their attributes."""
    records = query(conn, soql).records
    assert all(record["attributes"] == AGGREGATE for record in records)
    return [
        {key: value for key, value in record.items() if key != "attributes"} for record in records
    ]


def test_count_of_a_field_without_group_by_answers_one_aggregate_row(conn):
    result = query(conn, "SELECT COUNT(Id) FROM Deal_Registration__c")

    assert result == QueryResult(1, [{"attributes": AGGREGATE, "expr0": 3}])


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("COUNT(Id)", 3),
        ("count(id)", 3),
        # COUNT of a field counts the records where it is not null.
        ("COUNT(Status__c)", 2),
        ("COUNT(Partner_Account__r.Name)", 2),
        ("COUNT_DISTINCT(OwnerId)", 2),
        ("COUNT_DISTINCT(Owner.Name)", 2),
        ("SUM(Deal_Value__c)", 300000.0),
        # Nulls are left out of the average, not counted as zero.
        ("AVG(Deal_Value__c)", 150000.0),
        ("MIN(Deal_Value__c)", 50000.0),
        ("MAX(Deal_Value__c)", 250000.0),
        ("MIN(CreatedDate)", "2026-01-20T08:00:00.000+0000"),
        ("MAX(CreatedDate)", "2026-01-31T10:00:00.000+0000"),
        ("MIN(Expected_Close_Date__c)", "2026-02-15"),
        ("MAX(Expected_Close_Date__c)", "2026-03-31"),
        # The deleted DR-0004 is left out.
        ("MAX(Name)", "DR-0003"),
        ("MIN(Partner_Account__r.Name)", "Acme Partners"),
        ("MAX(Status__c)", "Submitted"),
        ("MIN(OwnerId)", ADMIN),
    ],
)
def test_each_aggregate_function_answers_a_value_of_its_type(conn, function, expected):
    [row] = aggregate_rows(conn, f"SELECT {function} FROM Deal_Registration__c")  # noqa: S608

    assert row == {"expr0": expected}
    assert type(row["expr0"]) is type(expected)


def test_aggregates_over_no_records_answer_zero_counts_and_null_values(conn):
    soql = (
        "SELECT COUNT(Id), COUNT_DISTINCT(Status__c), SUM(Deal_Value__c), "
        "AVG(Deal_Value__c), MIN(CreatedDate), MAX(Name) "
        "FROM Deal_Registration__c WHERE Name = 'nobody'"
    )

    assert aggregate_rows(conn, soql) == [
        {"expr0": 0, "expr1": 0, "expr2": None, "expr3": None, "expr4": None, "expr5": None}
    ]


def test_sum_and_avg_answer_floats_and_min_keeps_the_type_of_an_int_field(conn):
    for number, size in enumerate([1000, 2001], start=1):
        insert(conn, "ContentVersion", Id=f"06800000000000{number}AAA", ContentSize=size)
    soql = "SELECT SUM(ContentSize), AVG(ContentSize), MIN(ContentSize) FROM ContentVersion"

    [row] = aggregate_rows(conn, soql)

    assert row == {"expr0": 3001.0, "expr1": 1500.5, "expr2": 1000}
    assert [type(value) for value in row.values()] == [float, float, int]


def test_functions_without_alias_are_named_expr_in_order_and_aliases_are_kept(conn):
    soql = (
        "SELECT Status__c s, COUNT(Id), SUM(Deal_Value__c) Total, MAX(Deal_Value__c) "
        "FROM Deal_Registration__c WHERE Status__c != null GROUP BY Status__c ORDER BY Status__c"
    )

    records = query(conn, soql).records

    assert [list(record) for record in records] == [
        ["attributes", "s", "expr0", "Total", "expr1"]
    ] * 2
    assert records[0] == {
        "attributes": AGGREGATE,
        "s": "Approved",
        "expr0": 1,
        "Total": 250000.0,
        "expr1": 250000.0,
    }


def test_group_by_answers_a_row_per_value_with_null_as_a_group_of_its_own(conn):
    insert(conn, "Deal_Registration__c", Id="a01000000000005AAA", Name="DR-0005",
           Status__c="submitted", Deal_Value__c=10000, OwnerId=ADMIN)  # fmt: skip
    soql = (
        "SELECT Status__c, COUNT(Id), SUM(Deal_Value__c) FROM Deal_Registration__c "
        "GROUP BY Status__c"
    )

    # Text groups without regard to case; groups come in the order of their values.
    assert aggregate_rows(conn, soql) == [
        {"Status__c": None, "expr0": 1, "expr1": None},
        {"Status__c": "Approved", "expr0": 1, "expr1": 250000.0},
        {"Status__c": "Submitted", "expr0": 2, "expr1": 60000.0},
    ]


def test_group_by_several_fields_and_checkbox(conn):
    soql = (
        "SELECT OwnerId, Possible_Conflict__c, COUNT(Id) FROM Deal_Registration__c "
        "GROUP BY OwnerId, Possible_Conflict__c"
    )

    assert aggregate_rows(conn, soql) == [
        {"OwnerId": ADMIN, "Possible_Conflict__c": False, "expr0": 1},
        {"OwnerId": ADMIN, "Possible_Conflict__c": True, "expr0": 1},
        {"OwnerId": EMEA_QUEUE, "Possible_Conflict__c": False, "expr0": 1},
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("Partner_Account__r.Name", [None, "Acme Partners", "Beta Resellers"]),
        ("partner_account__r.name", [None, "Acme Partners", "Beta Resellers"]),
        ("Owner.Name", ["Ann Admin", "EMEA Queue"]),
        ("Submitted_By__r.Account.Name", [None, "Acme Partners"]),
    ],
)
def test_grouped_parent_field_answers_under_its_own_field_name(conn, path, expected):
    soql = f"SELECT {path}, COUNT(Id) n FROM Deal_Registration__c GROUP BY {path}"  # noqa: S608

    rows = aggregate_rows(conn, soql)

    assert [list(row) for row in rows] == [["Name", "n"]] * len(expected)
    assert [row["Name"] for row in rows] == expected


def test_grouped_fields_of_one_name_share_a_key_unless_aliased(conn):
    select = "SELECT Partner_Account__r.Name, Owner.Name"
    rest = (
        "FROM Deal_Registration__c "
        "GROUP BY Partner_Account__r.Name, Owner.Name ORDER BY Partner_Account__r.Name"
    )
    plain, aliased = f"{select} {rest}", f"{select} owner {rest}"

    # As a JSON parser reads Salesforce's duplicate keys: the later value is kept.
    assert aggregate_rows(conn, plain) == [
        {"Name": "Ann Admin"},
        {"Name": "EMEA Queue"},
        {"Name": "Ann Admin"},
    ]
    assert aggregate_rows(conn, aliased) == [
        {"Name": None, "owner": "Ann Admin"},
        {"Name": "Acme Partners", "owner": "EMEA Queue"},
        {"Name": "Beta Resellers", "owner": "Ann Admin"},
    ]


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("CALENDAR_YEAR(CreatedDate)", [(2026, 3)]),
        ("CALENDAR_MONTH(CreatedDate)", [(1, 3)]),
        ("CALENDAR_MONTH(Expected_Close_Date__c)", [(None, 1), (2, 1), (3, 1)]),
        ("CALENDAR_QUARTER(Expected_Close_Date__c)", [(None, 1), (1, 2)]),
        ("FISCAL_YEAR(Expected_Close_Date__c)", [(None, 1), (2026, 2)]),
        # Week 1 is January 1st to 7th, so the 20th is in week 3 and the 30th in week 5.
        ("WEEK_IN_YEAR(CreatedDate)", [(3, 1), (5, 2)]),
        ("WEEK_IN_MONTH(Expected_Close_Date__c)", [(None, 1), (3, 1), (5, 1)]),
        ("DAY_IN_YEAR(Expected_Close_Date__c)", [(None, 1), (46, 1), (90, 1)]),
        ("DAY_IN_MONTH(Expected_Close_Date__c)", [(None, 1), (15, 1), (31, 1)]),
        # 1 is Sunday: the 20th is a Tuesday, the 30th a Friday, the 31st a Saturday.
        ("DAY_IN_WEEK(CreatedDate)", [(3, 1), (6, 1), (7, 1)]),
        ("HOUR_IN_DAY(CreatedDate)", [(8, 1), (10, 1), (23, 1)]),
        # In UTC: DR-0002, created at 23:30 UTC, was created on the 30th.
        ("DAY_ONLY(CreatedDate)", [("2026-01-20", 1), ("2026-01-30", 1), ("2026-01-31", 1)]),
        ("DAY_ONLY(convertTimezone(CreatedDate))",
         [("2026-01-20", 1), ("2026-01-30", 1), ("2026-01-31", 1)]),
        ("CALENDAR_YEAR(Submitted_By__r.CreatedDate)", [(None, 3)]),
    ],
)  # fmt: skip
def test_group_by_date_function_in_utc(conn, function, expected):
    soql = (
        f"SELECT {function}, COUNT(Id) FROM Deal_Registration__c "  # noqa: S608
        f"GROUP BY {function} ORDER BY {function}"
    )

    rows = aggregate_rows(conn, soql)

    assert [(row["expr0"], row["expr1"]) for row in rows] == expected


def test_week_in_year_starts_week_two_on_january_eighth(conn):
    for number, day in enumerate(["2026-01-01", "2026-01-07", "2026-01-08", "2026-12-31"]):
        insert(
            conn,
            "Account",
            Id=f"00100000000001{number}AAA",
            Name=day,
            CreatedDate=day + "T12:00:00.000+0000",
        )
    soql = (
        "SELECT Name, WEEK_IN_YEAR(CreatedDate) week FROM Account WHERE Name LIKE '2026%' "
        "GROUP BY Name, WEEK_IN_YEAR(CreatedDate) ORDER BY Name"
    )

    assert [row["week"] for row in aggregate_rows(conn, soql)] == [1, 1, 2, 53]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CALENDAR_YEAR(CreatedDate) = 2026", ["DR-0001", "DR-0002", "DR-0003"]),
        ("CALENDAR_MONTH(Expected_Close_Date__c) IN (2, 4)", ["DR-0002"]),
        ("DAY_ONLY(CreatedDate) = YESTERDAY", ["DR-0002"]),
        ("DAY_ONLY(CreatedDate) > 2026-01-20", ["DR-0001", "DR-0002"]),
        ("DAY_IN_WEEK(CreatedDate) != 7", ["DR-0002", "DR-0003"]),
        ("NOT CALENDAR_QUARTER(Expected_Close_Date__c) = 1", ["DR-0003"]),
        ("HOUR_IN_DAY(convertTimezone(CreatedDate)) >= 10", ["DR-0001", "DR-0002"]),
    ],
)
def test_where_compares_date_functions(conn, condition, expected):
    assert registration_names(conn, f"WHERE {condition} ORDER BY Name") == expected


@pytest.mark.parametrize(
    ("having", "expected"),
    [
        ("COUNT(Id) > 1", ["Ann Admin"]),
        ("COUNT(Id) = 1", ["EMEA Queue"]),
        ("COUNT(Status__c) = 1", ["Ann Admin", "EMEA Queue"]),
        ("SUM(Deal_Value__c) > 100000", ["Ann Admin"]),
        ("NOT SUM(Deal_Value__c) > 100000", ["EMEA Queue"]),
        ("AVG(Deal_Value__c) < 100000.5", ["EMEA Queue"]),
        ("MAX(CreatedDate) < 2026-01-31T00:00:00Z", ["Ann Admin"]),
        ("MAX(Expected_Close_Date__c) = NEXT_MONTH", ["Ann Admin"]),
        ("MIN(Status__c) = 'approved'", ["Ann Admin"]),
        ("Owner.Name LIKE 'emea%'", ["EMEA Queue"]),
        ("Owner.Name IN ('Ann Admin', 'Nobody') AND COUNT(Id) > 0", ["Ann Admin"]),
        ("COUNT(Id) > 1 OR MAX(Deal_Value__c) = 50000", ["Ann Admin", "EMEA Queue"]),
    ],
)
def test_having_filters_groups_by_aggregates_and_grouped_fields(conn, having, expected):
    soql = (
        "SELECT Owner.Name FROM Deal_Registration__c GROUP BY Owner.Name "  # noqa: S608
        f"HAVING {having} ORDER BY Owner.Name"
    )

    assert [row["Name"] for row in aggregate_rows(conn, soql)] == expected


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        ("", [None, "Approved", "Submitted"]),
        ("ORDER BY Status__c DESC", ["Submitted", "Approved", None]),
        ("ORDER BY MAX(Deal_Value__c) DESC", ["Approved", "Submitted", None]),
        ("ORDER BY MAX(Deal_Value__c) DESC NULLS FIRST", [None, "Approved", "Submitted"]),
        ("ORDER BY MAX(Deal_Value__c) NULLS LAST", ["Submitted", "Approved", None]),
        ("ORDER BY SUM(Deal_Value__c)", [None, "Submitted", "Approved"]),
        ("ORDER BY MIN(CreatedDate) DESC", ["Submitted", "Approved", None]),
        ("ORDER BY COUNT(Id), Status__c DESC LIMIT 2", ["Submitted", "Approved"]),
        ("ORDER BY Status__c LIMIT 1 OFFSET 1", ["Approved"]),
        ("ORDER BY Status__c OFFSET 2", ["Submitted"]),
        ("LIMIT 0", []),
    ],
)
def test_order_by_aggregate_or_grouped_field_and_limit_offset_on_groups(conn, clauses, expected):
    soql = f"SELECT Status__c FROM Deal_Registration__c GROUP BY Status__c {clauses}"  # noqa: S608

    assert [row["Status__c"] for row in aggregate_rows(conn, soql)] == expected


def test_order_by_aggregate_between_owners(conn):
    soql = (
        "SELECT Owner.Name, COUNT(Id) FROM Deal_Registration__c "
        "GROUP BY Owner.Name ORDER BY COUNT(Id) DESC"
    )

    assert aggregate_rows(conn, soql) == [
        {"Name": "Ann Admin", "expr0": 2},
        {"Name": "EMEA Queue", "expr0": 1},
    ]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("CreatedDate = LAST_N_DAYS:1", [("Approved", 1), ("Submitted", 1)]),
        ("CreatedDate < LAST_N_DAYS:1", [(None, 1)]),
        ("CreatedDate >= 2026-01-31T00:30:00+01:00", [("Approved", 1), ("Submitted", 1)]),
        ("CreatedDate > 2026-01-31T00:00:00Z", [("Submitted", 1)]),
        ("CreatedDate = THIS_MONTH AND Possible_Conflict__c = false",
         [(None, 1), ("Submitted", 1)]),
        ("Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)",
         [("Approved", 1), ("Submitted", 1)]),
    ],
)  # fmt: skip
def test_where_filters_records_before_they_are_grouped(conn, condition, expected):
    soql = (
        "SELECT Status__c, COUNT(Id) FROM Deal_Registration__c "  # noqa: S608
        f"WHERE {condition} GROUP BY Status__c"
    )

    rows = aggregate_rows(conn, soql)

    assert [(row["Status__c"], row["expr0"]) for row in rows] == expected


def test_group_by_without_aggregates_answers_each_value_once(conn):
    soql = "SELECT Possible_Conflict__c FROM Deal_Registration__c GROUP BY Possible_Conflict__c"

    assert aggregate_rows(conn, soql) == [
        {"Possible_Conflict__c": False},
        {"Possible_Conflict__c": True},
    ]


def test_aggregate_query_runs_as_one_parameterised_statement(conn):
    statements = []
    conn.set_trace_callback(statements.append)
    soql = (
        "SELECT Partner_Account__r.Name, DAY_ONLY(CreatedDate), COUNT(Id), SUM(Deal_Value__c) "
        "FROM Deal_Registration__c WHERE Status__c != 'Withdrawn' "
        "GROUP BY Partner_Account__r.Name, DAY_ONLY(CreatedDate) "
        "HAVING COUNT(Id) > 0 ORDER BY SUM(Deal_Value__c) DESC"
    )

    result = query(conn, soql)

    assert result.total_size == 3
    assert len(statements) == 1


@pytest.mark.parametrize(
    ("soql", "message"),
    [
        ("SELECT Status__c, COUNT(Id) FROM Deal_Registration__c",
         r"^Field must be grouped or aggregated: Status__c$"),
        ("SELECT Status__c, Owner.Name, COUNT(Id) FROM Deal_Registration__c GROUP BY Status__c",
         r"^Field must be grouped or aggregated: Owner\.Name$"),
        ("SELECT Owner.Id FROM Deal_Registration__c GROUP BY OwnerId",
         r"^Field must be grouped or aggregated: Owner\.Id$"),
        ("SELECT CALENDAR_YEAR(CreatedDate), COUNT(Id) FROM Deal_Registration__c "
         "GROUP BY CALENDAR_MONTH(CreatedDate)",
         r"^Field must be grouped or aggregated: CALENDAR_YEAR\(CreatedDate\)$"),
        ("SELECT CALENDAR_YEAR(CreatedDate) FROM Deal_Registration__c",
         r"^Field must be grouped or aggregated: CALENDAR_YEAR\(CreatedDate\)$"),
        ("SELECT Name FROM Deal_Registration__c ORDER BY COUNT(Id)",
         r"^Field must be grouped or aggregated: Name$"),
        ("SELECT Status__c FROM Deal_Registration__c GROUP BY Status__c HAVING Name = 'x'",
         r"^Field must be grouped or aggregated: Name$"),
        ("SELECT Status__c FROM Deal_Registration__c GROUP BY Status__c ORDER BY Name",
         r"^Ordered field must be grouped or aggregated: Name$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c ORDER BY CreatedDate",
         r"^Ordered field must be grouped or aggregated: CreatedDate$"),
        ("SELECT SUM(Name) FROM Deal_Registration__c",
         r"^field Name does not support aggregate operator SUM$"),
        ("SELECT AVG(Status__c) FROM Deal_Registration__c",
         r"^field Status__c does not support aggregate operator AVG$"),
        ("SELECT SUM(CreatedDate) FROM Deal_Registration__c",
         r"^field CreatedDate does not support aggregate operator SUM$"),
        ("SELECT COUNT(Possible_Conflict__c) FROM Deal_Registration__c",
         r"^field Possible_Conflict__c does not support aggregate operator COUNT$"),
        ("SELECT MAX(Notes__c) FROM Deal_Registration__c",
         r"^field Notes__c does not support aggregate operator MAX$"),
        ("SELECT MIN(VersionData) FROM ContentVersion",
         r"^field VersionData does not support aggregate operator MIN$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY Notes__c",
         r"^field 'Notes__c' can not be grouped in a query call$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY Deal_Value__c",
         r"^field 'Deal_Value__c' can not be grouped in a query call$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY CreatedDate",
         r"^field 'CreatedDate' can not be grouped in a query call$"),
        # The registration's Name is an auto-number.
        ("SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY Name",
         r"^field 'Name' can not be grouped in a query call$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY COUNT(Id)",
         r"^Aggregate functions can not be grouped: COUNT\(Id\)$"),
        ("SELECT DAY_ONLY(Expected_Close_Date__c) FROM Deal_Registration__c "
         "GROUP BY DAY_ONLY(Expected_Close_Date__c)",
         r"^DAY_ONLY\(\) can only be used with a dateTime field, not the date field "
         r"'Expected_Close_Date__c'$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY CALENDAR_YEAR(Name)",
         r"^CALENDAR_YEAR\(\) can only be used with a date or dateTime field"),
        ("SELECT Id FROM Deal_Registration__c WHERE HOUR_IN_DAY(Expected_Close_Date__c) = 1",
         r"^HOUR_IN_DAY\(\) can only be used with a dateTime field"),
        ("SELECT MAX(convertTimezone(CreatedDate)) FROM Deal_Registration__c",
         r"^convertTimezone\(\) can only be used in a date function$"),
        ("SELECT Name n FROM Account",
         r"^Only aggregate expressions use field aliasing$"),
        ("SELECT Id, (SELECT Id s FROM Stages__r) FROM Deal_Registration__c",
         r"^Only aggregate expressions use field aliasing$"),
        ("SELECT COUNT(Id) n, SUM(Deal_Value__c) N FROM Deal_Registration__c",
         r"^duplicate alias: n$"),
        ("SELECT Status__c, COUNT(Id) status__c FROM Deal_Registration__c GROUP BY Status__c",
         r"^duplicate alias: status__c$"),
        ("SELECT COUNT(Id) expr0, SUM(Deal_Value__c) FROM Deal_Registration__c",
         r"^duplicate alias: expr0$"),
        ("SELECT COUNT() FROM Deal_Registration__c GROUP BY Status__c",
         r"^COUNT\(\) can not be used with GROUP BY; use COUNT\(fieldName\) instead$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c WHERE COUNT(Id) > 1",
         r"^Aggregate functions are not allowed in a WHERE clause; use HAVING: COUNT\(Id\)$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c HAVING COUNT(Id) > 1",
         r"^unexpected token: 'HAVING'$"),
        ("SELECT Status__c FROM Deal_Registration__c GROUP BY Status__c HAVING COUNT(Id) > '1'",
         r"^value of filter criterion for field 'COUNT\(Id\)' must be of type int"),
        ("SELECT Status__c FROM Deal_Registration__c GROUP BY Status__c HAVING MAX(Name) > 5",
         r"^value of filter criterion for field 'MAX\(Name\)' must be of type string"),
        ("SELECT Status__c FROM Deal_Registration__c GROUP BY Status__c "
         "HAVING Id IN (SELECT Registration__c FROM Deal_Registration_Stage__c)",
         r"^Semi join sub-selects are only allowed in the WHERE clause, not in HAVING$"),
        ("SELECT Id FROM Deal_Registration__c WHERE Id IN "
         "(SELECT Registration__c FROM Deal_Registration_Stage__c GROUP BY Registration__c)",
         r"^Semi join sub-selects do not support aggregate functions or GROUP BY$"),
        ("SELECT COUNT(Id), (SELECT Id FROM Stages__r) FROM Deal_Registration__c",
         r"^Aggregate queries can not contain child relationship subqueries$"),
        ("SELECT Id, (SELECT COUNT(Id) FROM Stages__r) FROM Deal_Registration__c",
         r"^Aggregate functions and GROUP BY are not supported in a child subquery$"),
        ("SELECT Id, (SELECT To_Status__c FROM Stages__r GROUP BY To_Status__c) "
         "FROM Deal_Registration__c",
         r"^Aggregate functions and GROUP BY are not supported in a child subquery$"),
        ("SELECT COUNT(Id FROM Deal_Registration__c", r"^unexpected token: 'FROM'$"),
        ("SELECT SUM() FROM Deal_Registration__c", r"^unexpected token: '\)'$"),
        ("SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY", r"^unexpected token: '<EOF>'$"),
        ("SELECT COUNT(Id) total total FROM Deal_Registration__c",
         r"^unexpected token: 'total'$"),
    ],
)  # fmt: skip
def test_aggregate_query_refused_as_salesforce_refuses_it(conn, soql, message):
    with pytest.raises(SoqlError, match=message) as error:
        query(conn, soql)

    assert type(error.value) is SoqlError
    assert error.value.code == "MALFORMED_QUERY"


@pytest.mark.parametrize(
    "soql",
    [
        "SELECT COUNT(Nope__c) FROM Deal_Registration__c",
        "SELECT SUM(Nope__r.Amount) FROM Deal_Registration__c",
        "SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY Nope__c",
        "SELECT COUNT(Id) FROM Deal_Registration__c GROUP BY CALENDAR_YEAR(Nope__c)",
        "SELECT Status__c FROM Deal_Registration__c GROUP BY Status__c HAVING MAX(Nope__c) > 1",
        "SELECT Status__c FROM Deal_Registration__c GROUP BY Status__c ORDER BY COUNT(Nope__c)",
    ],
)
def test_unknown_field_in_an_aggregate_query_is_invalid_field(conn, soql):
    with pytest.raises(InvalidFieldError):
        query(conn, soql)


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
