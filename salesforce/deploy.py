"""Putting the portal's schema into a real org through the Metadata API.

The package is `salesforce/metadata/` as it stands (package.xml, the objects and fields,
the integration user's permission set) plus the queues the routing rules name, zipped the
way `deploy()` expects: package.xml at the root.
"""

from __future__ import annotations

import io
import logging
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from simple_salesforce import Salesforce

from salesforce import schema

log = logging.getLogger(__name__)

MD = schema.NS["md"]
PERMISSION_SET = "Partner_Portal_Integration"
PERMISSION_SET_FILE = schema.METADATA_DIR / "permissionsets" / f"{PERMISSION_SET}.permissionset"
DEPLOY_POLL_SECONDS = 5.0
DEPLOY_TIMEOUT_SECONDS = 15 * 60
# Objects the portal writes; on the others it only reads.
WRITTEN = {
    "Deal_Registration__c": {"create": True, "edit": True},
    "Deal_Registration_Stage__c": {"create": True, "edit": True},
    "Portal_Passkey__c": {"create": True, "edit": True},
    # A subscription the push service forgot is deleted.
    "Portal_Push_Subscription__c": {"create": True, "edit": True, "delete": True},
    # Each process upserts its own counts of forms opened and submitted.
    "Portal_Form_Count__c": {"create": True, "edit": True},
    "Contact": {"create": True, "edit": True},
    "ContentVersion": {"create": True},
}
READ = ("Account", "User")
# Salesforce grants these through sharing, not object permissions.
NO_OBJECT_PERMISSIONS = {"ContentVersion"}


def _element(parent, name: str, text: str | None = None):
    node = etree.SubElement(parent, f"{{{MD}}}{name}")
    if text is not None:
        node.text = text
    return node


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _document(root) -> bytes:
    """The XML file as the other metadata files are written: four spaces, UTF-8."""
    etree.indent(root, space="    ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root) + b"\n"


def permission_set_xml(metadata_dir: Path = schema.METADATA_DIR) -> bytes:
    """The integration user's permission set: every custom object and custom field.

    Object access: create and edit where the portal writes, read everywhere, and view all
    records (the portal applies its own visibility rules); delete only where the portal
    deletes (push subscriptions). Field access:
    edit on objects the portal writes, read elsewhere. Required fields are left out: they
    are always readable and editable, and the Metadata API refuses them in a permission set.
    """
    loaded = schema.load(metadata_dir)
    root = etree.Element(f"{{{MD}}}PermissionSet", nsmap={None: MD})
    _element(root, "description", "Access the partner portal's integration user needs.")
    fields = []
    for path in sorted((metadata_dir / "objects").glob("*.object")):
        sobject = loaded.get(path.stem)
        writes = path.stem in WRITTEN
        for field in sorted(sobject.fields.values(), key=lambda item: item.name):
            if field.name.endswith("__c") and not field.required:
                fields.append((f"{sobject.name}.{field.name}", writes))
    for name, writes in fields:
        permission = _element(root, "fieldPermissions")
        _element(permission, "editable", _flag(writes))
        _element(permission, "field", name)
        _element(permission, "readable", "true")
    _element(root, "hasActivationRequired", "false")
    _element(root, "label", "Partner Portal Integration")
    custom = {name for name, sobject in loaded.objects.items() if sobject.custom}
    objects = sorted((custom | set(WRITTEN) | set(READ)) - NO_OBJECT_PERMISSIONS)
    for name in objects:
        access = WRITTEN.get(name, {})
        permission = _element(root, "objectPermissions")
        _element(permission, "allowCreate", _flag(access.get("create", False)))
        _element(permission, "allowDelete", _flag(access.get("delete", False)))
        _element(permission, "allowEdit", _flag(access.get("edit", False)))
        _element(permission, "allowRead", "true")
        _element(permission, "modifyAllRecords", _flag(access.get("edit", False)))
        _element(permission, "object", name)
        _element(permission, "viewAllRecords", "true")
    api = _element(root, "userPermissions")
    _element(api, "enabled", "true")
    _element(api, "name", "ApiEnabled")
    return _document(root)


def queue_xml(label: str, objects: tuple[str, ...] = ("Deal_Registration__c",)) -> bytes:
    """A queue that may own registrations; its members are people, added in Setup."""
    root = etree.Element(f"{{{MD}}}Queue", nsmap={None: MD})
    _element(root, "doesSendEmailToMembers", "false")
    _element(root, "name", label)
    for name in objects:
        _element(_element(root, "queueSobject"), "sobjectType", name)
    return _document(root)


def package_xml(metadata_dir: Path, queues: list[str]) -> bytes:
    """The directory's package.xml, listing the queues too."""
    root = etree.parse(str(metadata_dir / "package.xml")).getroot()
    if queues:
        types = etree.Element(f"{{{MD}}}types")
        for name in sorted(queues):
            _element(types, "members", name)
        _element(types, "name", "Queue")
        root.find(f"{{{MD}}}version").addprevious(types)
    return _document(root)


def build_package(
    queues: dict[str, str] | None = None, metadata_dir: Path = schema.METADATA_DIR
) -> bytes:
    """The deployable zip: package.xml at its root, then every metadata file and the queues
    (DeveloperName: label)."""
    queues = queues or {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("package.xml", package_xml(metadata_dir, list(queues)))
        for path in sorted(metadata_dir.rglob("*")):
            if path.is_file() and path.name != "package.xml":
                package.write(path, path.relative_to(metadata_dir).as_posix())
        for name, label in sorted(queues.items()):
            package.writestr(f"queues/{name}.queue", queue_xml(label))
    return buffer.getvalue()


@dataclass(frozen=True)
class Deployment:
    state: str
    problems: list[str]

    @property
    def succeeded(self) -> bool:
        return self.state == "Succeeded"


def deploy(
    sf: Salesforce,
    package: bytes,
    sandbox: bool,
    check_only: bool = False,
    timeout_seconds: float = DEPLOY_TIMEOUT_SECONDS,
) -> Deployment:
    """Deploy `package` and wait for the org's verdict; each failed component named."""
    started = sf.deploy(io.BytesIO(package), sandbox=sandbox, checkOnly=check_only)
    log.info("deployment %s started (%s)", started["asyncId"], started["state"])
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = sf.checkDeployStatus(started["asyncId"])
        if status["state"] in ("Succeeded", "SucceededPartial", "Failed", "Canceled"):
            break
        if time.monotonic() > deadline:
            return Deployment("TimedOut", [f"still {status['state']} after {timeout_seconds} s"])
        time.sleep(DEPLOY_POLL_SECONDS)
    details = status.get("deployment_detail") or {}
    problems = [
        f"{failure.get('file') or failure.get('type')}: {failure.get('message')}"
        for failure in details.get("errors", [])
    ]
    return Deployment(status["state"], problems)
