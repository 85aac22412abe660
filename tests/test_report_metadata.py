"""The Salesforce report type and reports of the pilot: they name only fields that exist,
and each report uses only the columns its report type offers. (Their validity against the
Metadata API schema is checked with every other metadata file in test_metadata.py.)"""

from __future__ import annotations

import pytest
from lxml import etree

from salesforce import schema

MD = {"md": schema.NS["md"]}
REPORT_TYPE = schema.METADATA_DIR / "reportTypes" / "Deal_Registrations_with_Stages.reportType"
REPORTS = sorted((schema.METADATA_DIR / "reports" / "Partner_Portal").glob("*.report"))
TABLES = {
    "Deal_Registration__c": "Deal_Registration__c",
    "Deal_Registration__c.Stages__r": "Deal_Registration_Stage__c",
}
# A lookup is offered by its relationship's name in a report type.
RELATIONSHIP_COLUMNS = {"Owner": "OwnerId"}


def offered_columns() -> set[str]:
    root = etree.parse(str(REPORT_TYPE)).getroot()
    return {
        f"{column.findtext('md:table', namespaces=MD)}${column.findtext('md:field', namespaces=MD)}"
        for column in root.iterfind("md:sections/md:columns", MD)
    }


def test_report_type_joins_registrations_to_their_stage_records():
    root = etree.parse(str(REPORT_TYPE)).getroot()
    loaded = schema.load().get("Deal_Registration__c")

    assert root.findtext("md:baseObject", namespaces=MD) == "Deal_Registration__c"
    relationship = root.findtext("md:join/md:relationship", namespaces=MD)
    assert loaded.child(relationship) == (
        "Deal_Registration_Stage__c",
        "Registration__c",
    )


def test_report_type_columns_are_fields_of_their_objects():
    loaded = schema.load()

    for column in offered_columns():
        table, field = column.split("$")
        sobject = loaded.get(TABLES[table])
        assert sobject.field(RELATIONSHIP_COLUMNS.get(field, field)) is not None, column


@pytest.mark.parametrize("path", REPORTS, ids=[path.stem for path in REPORTS])
def test_report_uses_only_columns_of_its_report_type(path):
    root = etree.parse(str(path)).getroot()
    named = root.xpath(
        "md:columns/md:field | md:groupingsDown/md:field | md:groupingsAcross/md:field"
        " | md:filter/md:criteriaItems/md:column | md:sortColumn"
        " | md:timeFrameFilter/md:dateColumn | md:chart/md:groupingColumn"
        " | md:chart/md:secondaryGroupingColumn | md:chart/md:chartSummaries/md:column",
        namespaces=MD,
    )

    assert root.findtext("md:reportType", namespaces=MD) == "Deal_Registrations_with_Stages__c"
    assert named
    assert {node.text for node in named} - {"RowCount"} <= offered_columns()
