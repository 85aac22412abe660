"""Registering a deal: routing, the record and its first stage, the file, then the follow-up."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from flask import current_app

from portal import background, conflicts, form_counts, geography, notifications, statuses
from portal.identity import Person
from portal.routing import RoutingError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Values:
    """What the partner typed, validated."""

    customer: str
    domain: str
    country: str
    deal_value: Decimal
    product_line: str
    close_date: date
    notes: str


def submit(person: Person, submission_key: str, values: Values, file: tuple | None) -> str:
    """Write the registration, routed to its owner; its ID. A repeated key changes nothing."""
    gateway = current_app.extensions["gateway"]
    now = datetime.now(UTC)
    region = geography.region(values.country)
    size_band = geography.size_band(values.deal_value)
    route = current_app.extensions["routing"].route(region, size_band, values.product_line)
    owner_id = owner_of(route)
    fields = {
        "End_Customer_Name__c": values.customer,
        "End_Customer_Domain__c": values.domain or None,
        "Customer_Name_Key__c": conflicts.name_key(values.customer) or None,
        "Customer_Domain_Key__c": conflicts.domain_key(values.domain) or None,
        "Country__c": values.country,
        "Region__c": region,
        "Deal_Value__c": str(values.deal_value),
        "Size_Band__c": size_band,
        "Product_Line__c": values.product_line,
        "Expected_Close_Date__c": values.close_date.isoformat(),
        "Notes__c": values.notes or None,
        "Status__c": statuses.SUBMITTED,
        "Next_Step__c": statuses.next_step(statuses.SUBMITTED, now.date()),
        "Partner_Account__c": person.account_id,
        "Submitted_At__c": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "OwnerId": owner_id,
        "Routing_Rule__c": route.rule[:80],
    }
    stage = {
        "To_Status__c": statuses.SUBMITTED,
        "Entered_At__c": fields["Submitted_At__c"],
        "Actor__c": person.name[:121],
        "Actor_Id__c": person.id,
        "Source__c": "Portal",
    }
    submission = gateway.submit_registration(submission_key, fields, stage, submitted_by=person.id)
    registration_id = submission.registration_id
    if submission.created:
        log.info("registration %s submitted by contact %s", registration_id, person.id)
        form_counts.submitted(person.account_id)
    if file:
        filename, content = file
        version_id = gateway.attach_file(registration_id, f"{submission_key}:1", filename, content)
        if version_id:
            log.info("file %s attached to registration %s", version_id, registration_id)
    if submission.created:
        notifications.submission_received(registration_id, values.customer, person.id, person.email)
        notifications.new_in_queue(registration_id, owner_id, values.customer, person.account_name)
        if submission.conflict:
            background.run_later(flag_conflict, registration_id)
    return registration_id


def owner_of(route) -> str:
    """The Salesforce ID of the queue or user a route names."""
    gateway = current_app.extensions["gateway"]
    kind, name = ("queue", route.queue) if route.queue else ("user", route.user)
    found = gateway.owner_ids({route.queue} - {""}, {route.user} - {""})
    if (kind, name) not in found:
        raise RoutingError(f"rule {route.rule!r} names {kind} {name!r}, which the org lacks")
    return found[(kind, name)]


def flag_conflict(registration_id: str) -> None:
    """Mark the registration: another partner registered the same customer first."""
    current_app.extensions["background_gateway"].flag_conflict(registration_id)
    log.info("registration %s flagged as a possible conflict", registration_id)
