"""Inviting a partner person: a Contact with a portal role, and a link to create a passkey.

The invitation link is a sign-in link that lasts longer (72 hours by default): the
same single-use token on the Contact, so a newer link replaces an older one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app

from portal import mail, roles, sign_in_links

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Invitation:
    email: str
    first_name: str
    last_name: str
    account_id: str
    role: str


def invite(invitation: Invitation, invited_by: str) -> str:
    """Create or update the partner person, email them the invitation; the Contact's ID."""
    if invitation.role not in roles.PARTNER_ROLES:
        raise ValueError(f"not a partner role: {invitation.role}")
    gateway = current_app.extensions["gateway"]
    existing = gateway.contact_on_account(invitation.email, invitation.account_id)
    token, token_hash = sign_in_links.new_token()
    hours = current_app.config["INVITATION_HOURS"]
    fields = {
        "FirstName": invitation.first_name,
        "LastName": invitation.last_name,
        "Portal_Role__c": invitation.role,
        "Portal_Status__c": "Active" if existing and existing.status == "Active" else "Invited",
        "Portal_Login_Token_Hash__c": token_hash,
        "Portal_Login_Token_Expires__c": sign_in_links.salesforce_time(
            datetime.now(UTC) + timedelta(hours=hours)
        ),
    }
    if existing is None:
        fields.update(Email=invitation.email, AccountId=invitation.account_id)
    contact_id = gateway.invite_contact(existing.id if existing else None, fields)

    link = sign_in_links.link_for(token)
    mail.send(
        invitation.email,
        "You are invited to the partner portal",
        "invitation",
        first_name=invitation.first_name,
        link=link,
        hours=hours,
    )
    log.info("contact %s invited by %s", contact_id, invited_by)
    return contact_id
