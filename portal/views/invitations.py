"""Inviting partner people, for admins and channel managers."""

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required

from portal import invitations, permissions
from portal.extensions import limiter
from portal.forms.invitations import InvitationForm
from portal.mail import MailFailed
from salesforce.gateway import Rejected

bp = Blueprint("invitations", __name__)


@bp.route("/invitations/new", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per hour", methods=["POST"])
def new():
    if not permissions.can_invite_partners(current_user):
        abort(404)
    accounts = current_app.extensions["gateway"].partner_accounts(
        permissions.partner_account_scope(current_user)
    )
    form = InvitationForm(accounts=accounts)

    if form.validate_on_submit():
        invitation = invitations.Invitation(
            email=form.email.data.strip(),
            first_name=form.first_name.data.strip(),
            last_name=form.last_name.data.strip(),
            account_id=form.account_id.data,
            role=form.role.data,
        )
        try:
            invitations.invite(invitation, invited_by=current_user.id)
        except Rejected as rejection:
            form.form_errors.append("Salesforce did not accept this person: " + rejection.message)
        except MailFailed:
            form.form_errors.append(
                "The person is set up, but the email could not be sent. Invite them again shortly."
            )
        else:
            return render_template("invitations/sent.html", invitation=invitation)

    return render_template("invitations/new.html", form=form), 400 if form.errors else 200
