"""A partner's choice of notifications: email, and this phone (Web Push)."""

import re

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

from portal import permissions, push
from portal.forms.notifications import NotificationChoicesForm

bp = Blueprint("notification_settings", __name__)

BASE64URL = re.compile(r"^[A-Za-z0-9_-]{8,200}$")
MAX_ENDPOINT_LENGTH = 2000


def gateway():
    return current_app.extensions["gateway"]


def require_partner() -> None:
    if not permissions.can_manage_passkeys(current_user):
        abort(404)


def push_service_address(endpoint: str) -> bool:
    """Push services answer on https; a loopback one on http only in local mode."""
    if endpoint.startswith("https://"):
        return True
    local = ("http://localhost:", "http://127.0.0.1:")
    return current_app.config["LOCAL_MODE"] and endpoint.startswith(local)


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def index():
    require_partner()
    email, wants_push, phones = gateway().notification_choices(current_user.id)
    form = NotificationChoicesForm(data={"email": email, "push": wants_push})

    if form.validate_on_submit():
        gateway().set_notification_choices(current_user.id, form.email.data, form.push.data)
        flash("Notification choices saved.", "info")
        return redirect(url_for("notification_settings.index"))

    return render_template(
        "notifications/index.html", form=form, phones=phones, public_key=push.public_key()
    )


@bp.post("/account/notifications/phone")
@login_required
def subscribe():
    """Keep this phone's push subscription (sent by the page's script) and switch push on."""
    require_partner()
    body = request.get_json(silent=True)
    subscription = body.get("subscription") if isinstance(body, dict) else None
    keys = subscription.get("keys") if isinstance(subscription, dict) else None
    endpoint = subscription.get("endpoint") if isinstance(subscription, dict) else None
    if (
        not isinstance(keys, dict)
        or not isinstance(endpoint, str)
        or not push_service_address(endpoint)
        or len(endpoint) > MAX_ENDPOINT_LENGTH
        or not all(BASE64URL.match(str(keys.get(name, ""))) for name in ("p256dh", "auth"))
    ):
        return jsonify(
            error="invalid-subscription", message="This phone's answer was not valid."
        ), 400

    gateway().save_push_subscription(current_user.id, endpoint, keys["p256dh"], keys["auth"])
    email, _, _ = gateway().notification_choices(current_user.id)
    gateway().set_notification_choices(current_user.id, email, True)
    return jsonify(saved=True)
