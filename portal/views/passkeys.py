"""Passkeys: signing in with one, adding one, and looking after the ones you have."""

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from portal import identity, passkeys, permissions
from portal.extensions import limiter
from portal.forms.passkeys import PasskeyLabelForm, RevokePasskeyForm
from portal.forms.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from portal.identity import Person

log = logging.getLogger(__name__)

bp = Blueprint("passkeys", __name__)


def gateway():
    return current_app.extensions["gateway"]


def refused(error: passkeys.PasskeyRefused):
    return jsonify(error="passkey-refused", reason=error.reason, message=error.message), 400


def credential_from_request() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
        abort(400)
    return body


@bp.post("/passkeys/sign-in/options")
@limiter.limit("20 per minute")
def sign_in_options():
    return current_app.response_class(
        passkeys.authentication_options(), mimetype="application/json"
    )


@bp.post("/passkeys/sign-in")
@limiter.limit("10 per minute")
def sign_in():
    body = credential_from_request()

    try:
        contact = passkeys.authenticate(body["credential"])
    except passkeys.PasskeyRefused as error:
        return refused(error)

    identity.sign_in(Person.from_contact(contact, "passkey"))
    return jsonify(redirect=url_for("deals.index"))


@bp.post("/passkeys/new/options")
@login_required
def new_options():
    if not permissions.can_manage_passkeys(current_user):
        abort(404)
    return current_app.response_class(
        passkeys.registration_options(current_user), mimetype="application/json"
    )


@bp.post("/passkeys/new")
@login_required
@limiter.limit("10 per minute")
def create():
    if not permissions.can_manage_passkeys(current_user):
        abort(404)
    body = credential_from_request()
    label = str(body.get("label") or "")
    if has_control_characters(label):
        return jsonify(
            error="invalid-label", field="label", message=CONTROL_CHARACTERS_MESSAGE
        ), 400

    try:
        passkeys.register(current_user, body["credential"], label)
    except passkeys.PasskeyRefused as error:
        return refused(error)

    flash("Passkey added. Next time, sign in with it: no email needed.", "info")
    return jsonify(redirect=url_for("passkeys.index"))


@bp.get("/passkeys/offer")
@login_required
def offer():
    if not permissions.can_manage_passkeys(current_user):
        return redirect(url_for("deals.index"))
    return render_template("passkeys/offer.html")


@bp.get("/account/passkeys")
@login_required
def index():
    if not permissions.can_manage_passkeys(current_user):
        abort(404)
    return render_template(
        "passkeys/index.html",
        passkeys=gateway().passkeys_of(current_user.id),
        rename_form=PasskeyLabelForm(),
        revoke_form=RevokePasskeyForm(),
    )


def own_passkey(passkey_id: str):
    """The signed-in person's passkey, or 404."""
    if not permissions.can_manage_passkeys(current_user):
        abort(404)
    for passkey in gateway().passkeys_of(current_user.id):
        if passkey.id == passkey_id:
            return passkey
    abort(404)


@bp.post("/account/passkeys/<passkey_id>/label")
@login_required
def rename(passkey_id):
    passkey = own_passkey(passkey_id)
    form = PasskeyLabelForm()

    if not form.validate_on_submit():
        flash(form.label.errors[0] if form.label.errors else "Give the passkey a name.", "error")
        return redirect(url_for("passkeys.index"))

    gateway().update_passkey(passkey.id, label=form.label.data.strip())
    flash("Passkey renamed.", "info")
    return redirect(url_for("passkeys.index"))


@bp.post("/account/passkeys/<passkey_id>/revoke")
@login_required
def revoke(passkey_id):
    passkey = own_passkey(passkey_id)
    form = RevokePasskeyForm()

    if not form.validate_on_submit():
        abort(400)

    gateway().update_passkey(passkey.id, revoked=True)
    log.info("passkey %s revoked by contact %s", passkey.id, current_user.id)
    flash(f"“{passkey.label}” can no longer sign in.", "info")
    return redirect(url_for("passkeys.index"))
