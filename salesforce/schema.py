"""The org's objects and fields, read from the Metadata API files under `metadata/`.

Custom objects and custom fields come from the `.object` files a real org is
deployed from. Standard objects and the standard fields the portal relies on are
described here, as Salesforce defines them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lxml import etree

from salesforce.ids import BASE62

METADATA_DIR = Path(__file__).parent / "metadata"
NS = {"md": "http://soap.sforce.com/2006/04/metadata"}

# Field types as the REST describe names them.
TYPES = {
    "Text": "string",
    "TextArea": "textarea",
    "LongTextArea": "textarea",
    "Email": "email",
    "Url": "url",
    "Phone": "phone",
    "Picklist": "picklist",
    "MultiselectPicklist": "multipicklist",
    "Currency": "currency",
    "Number": "double",
    "Percent": "percent",
    "Checkbox": "boolean",
    "Date": "date",
    "DateTime": "datetime",
    "Lookup": "reference",
    "MasterDetail": "reference",
    "AutoNumber": "string",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str = ""
    length: int | None = None
    required: bool = False
    unique: bool = False
    external_id: bool = False
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    default: str | bool | None = None
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    # Name of the list of these records on the parent, such as `Stages__r`.
    child_relationship: str | None = None
    # Set by Salesforce, never by a client (Id, audit fields, auto-numbers).
    system: bool = False
    precision: int | None = None
    scale: int | None = None


@dataclass
class SObject:
    name: str
    key_prefix: str
    label: str
    fields: dict[str, Field] = field(default_factory=dict)
    # relationship name -> (child object, field on the child)
    children: dict[str, tuple[str, str]] = field(default_factory=dict)
    auto_number: str | None = None
    custom: bool = False

    def field(self, name: str) -> Field | None:
        return self._by_lower().get(name.lower())

    def relationship(self, name: str) -> Field | None:
        """The reference field behind a parent relationship name, such as `Owner`."""
        lowered = name.lower()
        for candidate in self.fields.values():
            if candidate.relationship_name and candidate.relationship_name.lower() == lowered:
                return candidate
        return None

    def child(self, name: str) -> tuple[str, str] | None:
        for relationship, target in self.children.items():
            if relationship.lower() == name.lower():
                return target
        return None

    def canonical(self, name: str) -> str:
        return self.field(name).name

    def _by_lower(self) -> dict[str, Field]:
        cached = self.__dict__.get("_lower")
        if cached is None or len(cached) != len(self.fields):
            cached = {name.lower(): value for name, value in self.fields.items()}
            self.__dict__["_lower"] = cached
        return cached


@dataclass
class Schema:
    objects: dict[str, SObject]

    def get(self, name: str) -> SObject | None:
        for object_name, sobject in self.objects.items():
            if object_name.lower() == name.lower():
                return sobject
        return None

    def by_prefix(self, prefix: str) -> SObject | None:
        for sobject in self.objects.values():
            if sobject.key_prefix == prefix:
                return sobject
        return None


def _system_fields(owned: bool) -> list[Field]:
    fields = [
        Field("Id", "id", "Record ID", length=18, system=True),
        Field("IsDeleted", "boolean", "Deleted", system=True, default=False),
        Field("CreatedDate", "datetime", "Created Date", system=True),
        Field("LastModifiedDate", "datetime", "Last Modified Date", system=True),
        Field("SystemModstamp", "datetime", "System Modstamp", system=True),
        Field(
            "CreatedById",
            "reference",
            "Created By",
            reference_to=("User",),
            relationship_name="CreatedBy",
            system=True,
        ),
        Field(
            "LastModifiedById",
            "reference",
            "Last Modified By",
            reference_to=("User",),
            relationship_name="LastModifiedBy",
            system=True,
        ),
    ]
    if owned:
        fields.append(
            Field(
                "OwnerId",
                "reference",
                "Owner",
                reference_to=("User", "Group"),
                relationship_name="Owner",
            )
        )
    return fields


def _text(name: str, label: str, length: int = 255, **extra) -> Field:
    return Field(name, "string", label, length=length, **extra)


def _standard_objects() -> list[SObject]:
    def make(name, prefix, owned, fields):
        sobject = SObject(name, prefix, name)
        for item in _system_fields(owned) + fields:
            sobject.fields[item.name] = item
        return sobject

    return [
        make(
            "User",
            "005",
            False,
            [
                _text("Username", "Username", 80, required=True, unique=True),
                _text("FirstName", "First Name", 40),
                _text("LastName", "Last Name", 80, required=True),
                _text("Name", "Full Name", 121, system=True),
                Field("Email", "email", "Email", length=128, required=True),
                Field("IsActive", "boolean", "Active", default=True),
            ],
        ),
        make(
            "Group",
            "00G",
            True,
            [
                _text("Name", "Name", 40, required=True),
                _text("DeveloperName", "Developer Name", 80, unique=True),
                Field(
                    "Type",
                    "picklist",
                    "Type",
                    picklist=("Regular", "Queue"),
                    restricted=True,
                    required=True,
                ),
                Field("Email", "email", "Email", length=255),
            ],
        ),
        make(
            "GroupMember",
            "011",
            False,
            [
                Field(
                    "GroupId",
                    "reference",
                    "Group",
                    reference_to=("Group",),
                    relationship_name="Group",
                    required=True,
                ),
                Field(
                    "UserOrGroupId",
                    "reference",
                    "User or Group",
                    reference_to=("User", "Group"),
                    required=True,
                ),
            ],
        ),
        make(
            "Account",
            "001",
            True,
            [
                _text("Name", "Account Name", 255, required=True),
                Field("Website", "url", "Website", length=255),
            ],
        ),
        make(
            "Contact",
            "003",
            True,
            [
                _text("FirstName", "First Name", 40),
                _text("LastName", "Last Name", 80, required=True),
                _text("Name", "Full Name", 121, system=True),
                Field("Email", "email", "Email", length=80),
                Field(
                    "AccountId",
                    "reference",
                    "Account",
                    reference_to=("Account",),
                    relationship_name="Account",
                ),
            ],
        ),
        # An Experience Cloud site; set up in Setup, never through the API.
        make(
            "Network",
            "0DB",
            False,
            [
                _text("Name", "Name", 255, required=True, system=True),
                _text("UrlPathPrefix", "URL Path Prefix", 255, system=True),
            ],
        ),
        make(
            "ContentDocument",
            "069",
            True,
            [
                _text("Title", "Title", 255, system=True),
                _text("FileExtension", "File Extension", 40, system=True),
                Field("ContentSize", "int", "Size", system=True),
                Field(
                    "LatestPublishedVersionId",
                    "reference",
                    "Latest Published Version",
                    reference_to=("ContentVersion",),
                    relationship_name="LatestPublishedVersion",
                    system=True,
                ),
            ],
        ),
        make(
            "ContentVersion",
            "068",
            True,
            [
                _text("Title", "Title", 255, required=True),
                _text("PathOnClient", "Path On Client", 500, required=True),
                Field("VersionData", "base64", "Version Data", required=True),
                _text("FileExtension", "File Extension", 40, system=True),
                _text("FileType", "File Type", 20, system=True),
                Field("ContentSize", "int", "Size", system=True),
                Field("IsLatest", "boolean", "Is Latest", system=True, default=True),
                Field(
                    "ContentDocumentId",
                    "reference",
                    "Content Document",
                    reference_to=("ContentDocument",),
                    relationship_name="ContentDocument",
                    system=True,
                ),
                Field(
                    "FirstPublishLocationId",
                    "reference",
                    "First Publish Location",
                    reference_to=("Account", "Contact", "Deal_Registration__c"),
                    relationship_name="FirstPublishLocation",
                ),
                Field("NetworkId", "reference", "Network", reference_to=("Network",)),
            ],
        ),
        make(
            "ContentDocumentLink",
            "06A",
            False,
            [
                Field(
                    "ContentDocumentId",
                    "reference",
                    "Content Document",
                    reference_to=("ContentDocument",),
                    relationship_name="ContentDocument",
                    required=True,
                ),
                Field(
                    "LinkedEntityId",
                    "reference",
                    "Linked Entity",
                    reference_to=("Account", "Contact", "Deal_Registration__c", "User"),
                    relationship_name="LinkedEntity",
                    required=True,
                ),
                Field(
                    "ShareType",
                    "picklist",
                    "Share Type",
                    picklist=("V", "C", "I"),
                    restricted=True,
                    default="V",
                ),
                Field(
                    "Visibility",
                    "picklist",
                    "Visibility",
                    picklist=("AllUsers", "InternalUsers", "SharedUsers"),
                    restricted=True,
                    default="AllUsers",
                ),
            ],
        ),
    ]


def _flag(node, name: str) -> bool:
    return node.findtext(f"md:{name}", default="false", namespaces=NS) == "true"


def _int(node, name: str) -> int | None:
    text = node.findtext(f"md:{name}", namespaces=NS)
    return int(text) if text else None


def _field_from_xml(node) -> Field:
    kind = node.findtext("md:type", namespaces=NS)
    name = node.findtext("md:fullName", namespaces=NS)
    values = tuple(
        value.findtext("md:fullName", namespaces=NS)
        for value in node.iterfind("md:valueSet/md:valueSetDefinition/md:value", NS)
    )
    default = None
    for value in node.iterfind("md:valueSet/md:valueSetDefinition/md:value", NS):
        if _flag(value, "default"):
            default = value.findtext("md:fullName", namespaces=NS)
    if kind == "Checkbox":
        default = node.findtext("md:defaultValue", default="false", namespaces=NS) == "true"
    reference_to = tuple(ref.text for ref in node.iterfind("md:referenceTo", NS))
    child_relationship = node.findtext("md:relationshipName", namespaces=NS)
    length = _int(node, "length")
    if kind == "Email":
        length = 80
    if kind == "Url":
        length = 255
    return Field(
        name=name,
        type=TYPES[kind],
        label=node.findtext("md:label", default=name, namespaces=NS),
        length=length,
        required=_flag(node, "required") or kind == "MasterDetail",
        unique=_flag(node, "unique"),
        external_id=_flag(node, "externalId"),
        picklist=values,
        restricted=_flag(node, "valueSet/md:restricted"),
        default=default,
        reference_to=reference_to,
        relationship_name=name.removesuffix("__c") + "__r" if reference_to else None,
        child_relationship=f"{child_relationship}__r" if child_relationship else None,
        precision=_int(node, "precision"),
        scale=_int(node, "scale"),
    )


def _custom_object(name: str, root, prefix: str) -> SObject:
    sharing = root.findtext("md:sharingModel", namespaces=NS)
    sobject = SObject(name, prefix, root.findtext("md:label", namespaces=NS), custom=True)
    for item in _system_fields(owned=sharing != "ControlledByParent"):
        sobject.fields[item.name] = item
    name_field = root.find("md:nameField", NS)
    auto_number = name_field.findtext("md:type", namespaces=NS) == "AutoNumber"
    sobject.fields["Name"] = Field(
        "Name",
        "string",
        name_field.findtext("md:label", namespaces=NS),
        length=80,
        required=not auto_number,
        system=auto_number,
    )
    if auto_number:
        sobject.auto_number = name_field.findtext("md:displayFormat", namespaces=NS)
    return sobject


def _custom_prefix(name: str, taken: set[str]) -> str:
    """A key prefix for a custom object that depends only on its name, so IDs stay stable
    in a local database when objects are added."""
    digest = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
    while True:
        digest, low = divmod(digest, 62)
        digest, high = divmod(digest, 62)
        prefix = "a" + BASE62[high] + BASE62[low]
        if prefix not in taken:
            return prefix


@cache
def load(directory: Path = METADATA_DIR) -> Schema:
    """Read the schema: standard objects, then every `.object` file in `directory`."""
    objects = {sobject.name: sobject for sobject in _standard_objects()}
    files = sorted((directory / "objects").glob("*.object"))
    for path in files:
        root = etree.parse(str(path)).getroot()
        name = path.stem
        if name.endswith("__c"):
            prefix = _custom_prefix(name, {sobject.key_prefix for sobject in objects.values()})
            objects[name] = _custom_object(name, root, prefix)
        for node in root.iterfind("md:fields", NS):
            item = _field_from_xml(node)
            objects[name].fields[item.name] = item
    for sobject in objects.values():
        for item in sobject.fields.values():
            if item.child_relationship:
                parent = objects[item.reference_to[0]]
                parent.children[item.child_relationship] = (sobject.name, item.name)
    objects["Account"].children["Contacts"] = ("Contact", "AccountId")
    for owner in ("Account", "Contact", "Deal_Registration__c", "User"):
        objects[owner].children["ContentDocumentLinks"] = ("ContentDocumentLink", "LinkedEntityId")
    return Schema(objects)
