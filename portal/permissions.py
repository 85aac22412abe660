"""What a person may see and do. Views ask here; they never decide themselves."""

from __future__ import annotations

from portal.identity import Person
from salesforce.records import Registration, Scope

NOTHING = Scope("Id = null")


def registration_scope(person: Person) -> Scope:
    """The registrations `person` may see, as a condition the gateway adds to its SOQL."""
    if person.role == "Manager" and person.account_id:
        return Scope("Partner_Account__c = {}", (person.account_id,))
    if person.role == "Rep":
        return Scope("Submitted_By__c = {}", (person.id,))
    return NOTHING


def can_register_deals(person: Person) -> bool:
    return person.role in ("Rep", "Manager") and bool(person.account_id)


def can_see_registration(person: Person, registration: Registration) -> bool:
    if person.role == "Manager":
        return registration.partner_account_id == person.account_id
    return person.role == "Rep" and registration.submitted_by_id == person.id
