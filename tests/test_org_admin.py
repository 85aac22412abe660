"""`portal-org`: the Metadata API package it deploys, the permission set in it, and the
check that names everything an org lacks before the portal starts against it."""

from __future__ import annotations

import io
import shutil
import threading
import zipfile

import pytest
from lxml import etree
from werkzeug.serving import make_server

from portal import orgtool, routing
from salesforce import deploy, schema
from salesforce.connection import Connector
from salesforce.localorg import certs
from salesforce.localorg.__main__ import QuietHandler
from salesforce.localorg.server import LocalOrg, create_app
from salesforce.localorg.store import Store
from tests.test_metadata import ROOT_ELEMENTS, load_metadata_schema

MD = schema.NS["md"]
TRIMMED_ORG_PASSWORD = "trimmed-org-password"
QUEUES = {"Channel_Desk": "Channel Desk", "EMEA_Desk": "EMEA Desk"}


def md(name: str) -> str:
    return f"{{{MD}}}{name}"


@pytest.fixture(scope="module")
def package() -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(deploy.build_package(QUEUES)))


# -- the package ------------------------------------------------------------------------


def test_every_file_of_the_package_validates_against_the_metadata_api_schema(package):
    metadata_schema = load_metadata_schema((*ROOT_ELEMENTS, "Queue"))

    for name in package.namelist():
        document = etree.fromstring(package.read(name))
        assert metadata_schema.validate(document), (name, str(metadata_schema.error_log))


def test_package_holds_package_xml_at_its_root_and_every_metadata_file(package):
    in_directory = {
        path.relative_to(schema.METADATA_DIR).as_posix()
        for path in schema.METADATA_DIR.rglob("*")
        if path.is_file()
    }

    names = set(package.namelist())

    assert "package.xml" in names
    assert in_directory <= names
    assert names - in_directory == {"queues/Channel_Desk.queue", "queues/EMEA_Desk.queue"}


def test_package_xml_lists_every_component_the_package_holds(package):
    root = etree.fromstring(package.read("package.xml"))
    members = {
        types.findtext(md("name")): {member.text for member in types.iterfind(md("members"))}
        for types in root.iterfind(md("types"))
    }

    assert members["Queue"] == set(QUEUES)
    assert members["PermissionSet"] == {deploy.PERMISSION_SET}
    for name in package.namelist():
        folder, _, file = name.rpartition("/")
        stem = file.rsplit(".", 1)[0]
        if folder == "objects" and stem.endswith("__c"):
            assert stem in members["CustomObject"]
        elif folder == "objects":
            fields = etree.fromstring(package.read(name)).iterfind(
                f"{md('fields')}/{md('fullName')}"
            )
            assert {f"{stem}.{field.text}" for field in fields} <= members["CustomField"]


def test_queues_in_the_package_may_own_registrations(package):
    queue = etree.fromstring(package.read("queues/EMEA_Desk.queue"))

    assert queue.findtext(md("name")) == "EMEA Desk"
    assert queue.findtext(f"{md('queueSobject')}/{md('sobjectType')}") == "Deal_Registration__c"


def test_permission_set_file_is_what_the_metadata_calls_for():
    """After adding a field, run `portal-org permission-set` to give the portal access."""
    assert deploy.PERMISSION_SET_FILE.read_bytes() == deploy.permission_set_xml()


def test_permission_set_grants_every_custom_object_and_every_optional_custom_field():
    root = etree.parse(str(deploy.PERMISSION_SET_FILE)).getroot()
    objects = {node.findtext(md("object")): node for node in root.iterfind(md("objectPermissions"))}
    fields = {node.findtext(md("field")): node for node in root.iterfind(md("fieldPermissions"))}
    loaded = schema.load()

    for name, sobject in loaded.objects.items():
        if sobject.custom:
            assert objects[name].findtext(md("allowRead")) == "true"
            assert objects[name].findtext(md("allowCreate")) == "true"
            deletes = deploy.WRITTEN.get(name, {}).get("delete", False)
            assert objects[name].findtext(md("allowDelete")) == ("true" if deletes else "false")
        for field in sobject.fields.values():
            if field.name.endswith("__c") and not field.required:
                assert fields[f"{name}.{field.name}"].findtext(md("readable")) == "true"
            elif field.name.endswith("__c"):
                # The Metadata API refuses required fields in a permission set.
                assert f"{name}.{field.name}" not in fields
    assert fields["Deal_Registration__c.Reason_Code__c"].findtext(md("editable")) == "true"
    assert fields["User.Portal_Role__c"].findtext(md("editable")) == "false"


def test_package_command_writes_the_zip(tmp_path, capsys):
    out = tmp_path / "portal.zip"

    assert orgtool.main(["package", "--out", str(out)]) == 0

    assert "package.xml" in zipfile.ZipFile(out).namelist()


def test_deploy_reports_each_failed_component():
    class Org:
        def deploy(self, package, sandbox, checkOnly):  # noqa: N803 - simple-salesforce's name
            self.sent = (zipfile.ZipFile(package).namelist(), sandbox, checkOnly)
            return {"asyncId": "0Af000000000001", "state": "Queued"}

        def checkDeployStatus(self, async_id):  # noqa: N802 - simple-salesforce's name
            return {
                "state": "Failed",
                "deployment_detail": {
                    "errors": [
                        {
                            "file": "objects/Deal_Registration__c.object",
                            "message": "Field Reason_Code__c: bad value",
                        }
                    ]
                },
            }

    org = Org()
    result = deploy.deploy(org, deploy.build_package(QUEUES), sandbox=True, check_only=True)

    assert org.sent[1:] == (True, True)
    assert "package.xml" in org.sent[0]
    assert not result.succeeded
    assert result.problems == [
        "objects/Deal_Registration__c.object: Field Reason_Code__c: bad value"
    ]


def test_deploy_and_check_refuse_to_run_without_real_credentials(connector):
    for command in (["deploy"], ["check"]):
        with pytest.raises(SystemExit) as refused:
            orgtool.main(command, connector=connector)
        assert "no Salesforce credentials" in str(refused.value)


# -- checking an org ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trimmed_org(tmp_path_factory):
    """A local org built from the portal's metadata minus an object, a field and a picklist
    value, and without any queue: what a half-deployed real org looks like."""
    directory = tmp_path_factory.mktemp("trimmed-org")
    metadata = directory / "metadata"
    shutil.copytree(schema.METADATA_DIR, metadata)
    (metadata / "objects" / "Portal_Passkey__c.object").unlink()
    object_file = metadata / "objects" / "Deal_Registration__c.object"
    tree = etree.parse(str(object_file))
    for path in (
        "md:fields[md:fullName='Reason_Code__c']",
        "md:fields[md:fullName='Status__c']//md:value[md:fullName='Withdrawn']",
    ):
        [node] = tree.xpath(path, namespaces=schema.NS)
        node.getparent().remove(node)
    tree.write(str(object_file), xml_declaration=True, encoding="UTF-8")

    cert, key = certs.ensure(directory)
    org = LocalOrg(Store(schema.load(metadata), directory / "org.sqlite3"), TRIMMED_ORG_PASSWORD)
    server = make_server(
        "localhost",
        0,
        create_app(org),
        threaded=True,
        ssl_context=(str(cert), str(key)),
        request_handler=QuietHandler,
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Connector(
        mode="local",
        url=f"https://localhost:{server.server_port}",
        password=TRIMMED_ORG_PASSWORD,
        ca_file=str(cert),
    )
    server.shutdown()


def test_check_names_each_item_a_trimmed_org_lacks(trimmed_org, capsys):
    status = orgtool.main(["check", "--local"], connector=trimmed_org)

    lines = capsys.readouterr().out.splitlines()
    expected_queues = sorted(routing.load().queues)
    assert status == 1
    assert lines[:-1] == [
        "missing: field Deal_Registration__c.Reason_Code__c is missing, "
        "or the integration user cannot read it",
        "missing: picklist value 'Withdrawn' of Deal_Registration__c.Status__c is missing "
        "or inactive",
        "missing: object Portal_Passkey__c is missing, or the integration user cannot see it",
        *[f"missing: queue {name} is missing" for name in expected_queues],
    ]
    assert lines[-1] == f"{len(lines) - 1} missing"


def test_check_finds_nothing_missing_in_a_complete_org(connector, queue_id, capsys):
    status = orgtool.main(["check", "--local"], connector=connector)

    assert capsys.readouterr().out.splitlines() == ["the org has everything the portal needs"]
    assert status == 0
