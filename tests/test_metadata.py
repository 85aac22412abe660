"""The Metadata API files under salesforce/metadata/: valid against Salesforce's own schema,
deployable as the package lists them, and the only source of the custom schema."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import simple_salesforce
from lxml import etree

from salesforce import schema

XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
MD = schema.NS["md"]
METADATA_FILES = sorted(path for path in schema.METADATA_DIR.rglob("*") if path.is_file())
OBJECT_FILES = sorted((schema.METADATA_DIR / "objects").glob("*.object"))
PERMISSION_SET_FILES = sorted((schema.METADATA_DIR / "permissionsets").glob("*.permissionset"))
REPORT_TYPE_FILES = sorted((schema.METADATA_DIR / "reportTypes").glob("*.reportType"))
REPORTS_DIR = schema.METADATA_DIR / "reports"
REPORT_FILES = sorted(REPORTS_DIR.glob("*/*.report"))
# The WSDL declares types only; a file is validated as the element its root names.
ROOT_ELEMENTS = ("CustomObject", "Package", "PermissionSet", "ReportType", "Report", "ReportFolder")


def load_metadata_schema(root_elements=ROOT_ELEMENTS) -> etree.XMLSchema:
    """The Metadata API's XML schema, as simple-salesforce ships it in metadata.wsdl."""
    wsdl = etree.parse(str(Path(simple_salesforce.__file__).parent / "metadata.wsdl"))
    embedded = wsdl.find(f"{{{WSDL}}}types/{{{XSD}}}schema")
    # Serialised on its own so the WSDL's namespace declarations (tns:) come along.
    types = etree.fromstring(etree.tostring(embedded))
    for name in root_elements:
        etree.SubElement(types, f"{{{XSD}}}element", name=name, type=f"tns:{name}")
    return etree.XMLSchema(types)


@pytest.fixture(scope="module")
def metadata_schema() -> etree.XMLSchema:
    return load_metadata_schema()


def md(name: str) -> str:
    return f"{{{MD}}}{name}"


def file_fields(path: Path) -> dict[str, etree._Element]:
    root = etree.parse(str(path)).getroot()
    return {node.findtext(md("fullName")): node for node in root.iterfind(md("fields"))}


def flag(node: etree._Element, name: str) -> bool:
    return node.findtext(md(name)) == "true"


def validation_errors(metadata_schema: etree.XMLSchema, document) -> list[str]:
    metadata_schema.validate(document)
    return [error.message for error in metadata_schema.error_log]


# -- the files against the Metadata API schema --------------------------------------


@pytest.mark.parametrize(
    "path", METADATA_FILES, ids=[str(p.relative_to(schema.METADATA_DIR)) for p in METADATA_FILES]
)
def test_metadata_file_is_valid_against_the_metadata_api_schema(metadata_schema, path):
    document = etree.parse(str(path))

    assert document.getroot().tag in {md(name) for name in ROOT_ELEMENTS}
    assert validation_errors(metadata_schema, document) == []


def test_object_file_with_elements_out_of_order_is_invalid(metadata_schema):
    document = etree.parse(str(schema.METADATA_DIR / "objects" / "Deal_Registration__c.object"))
    root = document.getroot()
    root.insert(0, root.find(md("label")))  # label belongs after fields, not before them

    errors = validation_errors(metadata_schema, document)

    # Past <label> the sequence has moved on, so the element after it is the one refused.
    assert any("deploymentStatus" in error and "not expected" in error for error in errors)


def test_object_file_with_an_unknown_element_is_invalid(metadata_schema):
    document = etree.parse(str(schema.METADATA_DIR / "objects" / "Deal_Registration__c.object"))
    field = document.getroot().find(md("fields"))
    etree.SubElement(field, md("colour")).text = "teal"

    errors = validation_errors(metadata_schema, document)

    assert any("colour" in error and "not expected" in error for error in errors)


def test_package_lists_every_custom_object_and_every_field_added_to_a_standard_one():
    package = etree.parse(str(schema.METADATA_DIR / "package.xml")).getroot()
    members = {
        types.findtext(md("name")): {member.text for member in types.iterfind(md("members"))}
        for types in package.iterfind(md("types"))
    }

    custom_objects = {path.stem for path in OBJECT_FILES if path.stem.endswith("__c")}
    fields_on_standard_objects = {
        f"{path.stem}.{name}"
        for path in OBJECT_FILES
        if not path.stem.endswith("__c")
        for name in file_fields(path)
    }
    assert members == {
        "CustomObject": custom_objects,
        "CustomField": fields_on_standard_objects,
        "PermissionSet": {path.stem for path in PERMISSION_SET_FILES},
        "ReportType": {path.stem for path in REPORT_TYPE_FILES},
        # A report is named by its folder; the folder itself is a member too.
        "Report": {path.name.removesuffix("-meta.xml") for path in REPORTS_DIR.glob("*-meta.xml")}
        | {path.relative_to(REPORTS_DIR).with_suffix("").as_posix() for path in REPORT_FILES},
    }


# -- the schema loader reads its custom schema from these files ---------------------


def test_every_custom_object_comes_from_an_object_file():
    loaded = {name for name, sobject in schema.load().objects.items() if sobject.custom}

    assert loaded == {path.stem for path in OBJECT_FILES if path.stem.endswith("__c")}


def test_every_custom_field_comes_from_its_object_file():
    for name, sobject in schema.load().objects.items():
        path = schema.METADATA_DIR / "objects" / f"{name}.object"
        in_file = set(file_fields(path)) if path.exists() else set()
        loaded = {field_name for field_name in sobject.fields if field_name.endswith("__c")}
        assert loaded == in_file, name


@pytest.mark.parametrize("path", OBJECT_FILES, ids=[path.stem for path in OBJECT_FILES])
def test_loaded_fields_carry_the_properties_their_file_declares(path):
    sobject = schema.load().get(path.stem)

    for name, node in file_fields(path).items():
        loaded = sobject.fields[name]
        values = [value.text for value in node.iterfind(f".//{md('value')}/{md('fullName')}")]
        declared_length = node.findtext(md("length"))
        assert loaded.label == node.findtext(md("label")), name
        assert loaded.unique == flag(node, "unique"), name
        assert loaded.external_id == flag(node, "externalId"), name
        assert loaded.required == (
            flag(node, "required") or node.findtext(md("type")) == "MasterDetail"
        ), name
        assert list(loaded.picklist) == values, name
        assert loaded.restricted == (
            node.findtext(f"{md('valueSet')}/{md('restricted')}") == "true"
        )
        assert list(loaded.reference_to) == [ref.text for ref in node.iterfind(md("referenceTo"))]
        if declared_length:
            assert loaded.length == int(declared_length), name


def test_submission_key_is_a_unique_external_id():
    key = schema.load().get("Deal_Registration__c").field("Submission_Key__c")

    assert key.unique is True
    assert key.external_id is True
    assert key.length == 36


def test_registration_number_is_the_auto_number_its_file_declares():
    path = schema.METADATA_DIR / "objects" / "Deal_Registration__c.object"
    name_field = etree.parse(str(path)).getroot().find(md("nameField"))
    registration = schema.load().get("Deal_Registration__c")

    assert registration.auto_number == name_field.findtext(md("displayFormat"))
    assert registration.label == "Deal Registration"
    assert registration.fields["Name"].system is True


def test_loader_reads_another_directory_of_files(tmp_path):
    objects = tmp_path / "objects"
    objects.mkdir()
    source = etree.parse(str(schema.METADATA_DIR / "objects" / "Deal_Registration__c.object"))
    trimmed = copy.deepcopy(source.getroot())
    for node in trimmed.findall(md("fields"))[1:]:
        trimmed.remove(node)
    etree.ElementTree(trimmed).write(str(objects / "Deal_Registration__c.object"))

    loaded = schema.load(tmp_path).get("Deal_Registration__c")

    assert {name for name in loaded.fields if name.endswith("__c")} == {"Country__c"}
