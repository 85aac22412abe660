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
    """The registrations `person` may see, as a condition the gateway adds to its SOQL.

    A partner's condition also requires that they still have portal access, so
    switching a person off in Salesforce hides everything from them at once, with no
    extra call to check who they are.
    """
    owners = [*person.queue_ids, person.id]
    if person.is_partner and person.role == roles.MANAGER and person.account_id:
        return Scope(
            "Partner_Account__c = {} AND Partner_Account__r.Portal_Enabled__c = true "
            "AND Partner_Account__c IN (SELECT AccountId FROM Contact WHERE Id = {} "
            "AND Portal_Status__c = 'Active' AND Portal_Role__c = 'Manager')",
            (person.account_id, person.id),
        )
    if person.is_partner and person.role == roles.REP:
        return Scope(
            "Submitted_By__c = {} AND Submitted_By__r.Portal_Status__c = 'Active' "
            "AND Partner_Account__r.Portal_Enabled__c = true",
            (person.id,),
        )
    if person.is_internal and person.role == roles.ADMIN:
        return EVERYTHING
    if person.is_internal and person.role == roles.CHANNEL_MANAGER:
        if person.regions:
            return Scope("(Region__c IN {} OR OwnerId IN {})", (person.regions, owners))
        return Scope("OwnerId IN {}", (owners,))
    if person.is_internal and person.role == roles.APPROVER:
        return Scope("OwnerId IN {}", (owners,))
    return NOTHING


def partner_account_scope(person: Person) -> Scope:
    """The partner companies `person` may invite people to."""
    if person.is_internal and person.role == roles.ADMIN:
        return EVERYTHING
    if person.is_internal and person.role == roles.CHANNEL_MANAGER and person.regions:
        return Scope("Region__c IN {}", (person.regions,))
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


def can_review(person: Person) -> bool:
    """Approvers, channel managers and admins decide on registrations."""
    return person.is_internal and person.role in roles.INTERNAL_ROLES


def can_reassign(person: Person) -> bool:
    return person.is_internal and person.role in (roles.CHANNEL_MANAGER, roles.ADMIN)


def can_see_metrics(person: Person) -> bool:
    """The pilot's numbers are for channel managers and admins; anyone else gets a 404."""
    return person.is_internal and person.role in (roles.CHANNEL_MANAGER, roles.ADMIN)


def metrics_regions(person: Person) -> tuple[str, ...] | None:
    """The regions whose numbers `person` may see: None for every region (admins), a
    channel manager's own regions, or none at all."""
    if person.is_internal and person.role == roles.ADMIN:
        return None
    if person.is_internal and person.role == roles.CHANNEL_MANAGER:
        return tuple(person.regions)
    return ()


def review_scope(person: Person) -> Scope:
    """The review queue: what the person or their queues own; a channel manager also sees
    their regions' registrations; admins see everything."""
    if person.is_internal and person.role in (roles.ADMIN, roles.CHANNEL_MANAGER):
        return registration_scope(person)
    if person.is_internal:
        return Scope("OwnerId IN {}", ([*person.queue_ids, person.id],))
    return NOTHING


def can_answer(person: Person) -> bool:
    return person.is_partner
