"""What a person may see and do. Views ask here; they never decide themselves.

Visibility follows the sharing a Salesforce admin would set up: a partner rep sees
what they submitted, a partner manager their company's, a channel manager the
registrations of their regions and queues, an approver what their queues or they
own, an admin everything. The same rule filters lists (in the SOQL) and single
records (not found when outside it).
"""

from __future__ import annotations

from portal import roles
from portal.identity import Person
from salesforce.records import Scope

NOTHING = Scope("Id = null")
EVERYTHING = Scope("Id != null")


def registration_scope(person: Person) -> Scope:
    """The registrations `person` may see, as a condition the gateway adds to its SOQL."""
    owners = [*person.queue_ids, person.id]
    if person.is_partner and person.role == roles.MANAGER and person.account_id:
        return Scope("Partner_Account__c = {}", (person.account_id,))
    if person.is_partner and person.role == roles.REP:
        return Scope("Submitted_By__c = {}", (person.id,))
    if person.is_internal and person.role == roles.ADMIN:
        return EVERYTHING
    if person.is_internal and person.role == roles.CHANNEL_MANAGER:
        if person.regions:
            return Scope("(Region__c IN {} OR OwnerId IN {})", (person.regions, owners))
        return Scope("OwnerId IN {}", (owners,))
    if person.is_internal and person.role == roles.APPROVER:
        return Scope("OwnerId IN {}", (owners,))
    return NOTHING


def can_register_deals(person: Person) -> bool:
    return person.is_partner and person.role in roles.PARTNER_ROLES and bool(person.account_id)


def can_invite_partners(person: Person) -> bool:
    return person.is_internal and person.role in (roles.ADMIN, roles.CHANNEL_MANAGER)


def can_see_internal_fields(person: Person) -> bool:
    """Conflict details and internal comments are for the vendor's people only."""
    return person.is_internal


def can_manage_passkeys(person: Person) -> bool:
    return person.is_partner
