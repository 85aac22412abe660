"""Answers for the form routes that the phone's outbox replays: pages for people, JSON for
scripts.

The outbox (`portal/static/sw/outbox.js`) posts the very form a person would, multipart
and all, with `Accept: application/json`, a fresh CSRF token in `X-CSRFToken` and the
person who filled the form in, in `X-Portal-Owner`. It lets an item go only on a 2xx JSON
answer naming the record, so a route that takes replays answers with `saved`, `invalid`
or `unavailable` and is wrapped in `owner_checked`:

    @bp.post("/registrations/<registration_id>/answer")
    @login_required
    @replay.owner_checked
    def answer(registration_id):
        ...
        return replay.saved(registration_id)  # 302 to its page, or JSON naming it
        return replay.invalid("deals/new.html", form)  # 400 page, or 422 JSON with fields

Every error a script can get carries a code in `error`: `validation-failed`,
`unavailable` and `wrong-person` here; `sign-in-required` (401), `form-expired` (400, the
CSRF token), `too-large` (413) and the rest from `portal.errors`.
"""

from __future__ import annotations

import functools
import logging

from flask import jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from portal.errors import wants_json

log = logging.getLogger(__name__)

OWNER_HEADER = "X-Portal-Owner"


def owner_checked(view):
    """Refuse a replay whose owner is not the signed-in person: 403 `wrong-person`.

    A form filled in by one person and sent while another is signed in on the same phone
    must never be written under the second person's name. Place it below `login_required`.
    """

    @functools.wraps(view)
    def checked(*args, **kwargs):
        owner = request.headers.get(OWNER_HEADER)
        if owner is not None and owner != current_user.id:
            log.warning(
                "replay filled in by %s refused in the session of %s", owner, current_user.id
            )
            return jsonify(
                error="wrong-person",
                message="This was filled in by someone else; it waits for them to sign in.",
            ), 403
        return view(*args, **kwargs)

    return checked


def saved(registration_id: str):
    """The registration's page, or JSON naming it: the confirmation the outbox waits for."""
    url = url_for("deals.show", registration_id=registration_id)
    if wants_json():
        return jsonify(registration={"id": registration_id, "url": url})
    return redirect(url)


def invalid(template: str, form, **context):
    """The form again with its errors (400), or 422 `validation-failed` for a script."""
    if wants_json():
        return validation_failed(form)
    return render_template(template, form=form, **context), 400


def unavailable(template: str, form, message: str, headers: dict | None = None, **context):
    """Salesforce could not be reached: the form again with `message` (503), or 503
    `unavailable` for a script, which keeps the item and tries again later."""
    if wants_json():
        return failure("unavailable", message, 503, headers)
    form.form_errors.append(message)
    return render_template(template, form=form, **context), 503, headers or {}


def failure(code: str, message: str, status: int, headers: dict | None = None):
    """An error for a script: `{"error": code, "message": message}`."""
    return jsonify(error=code, message=message), status, headers or {}


def validation_failed(form):
    """422 `validation-failed` with each field's messages, for a route that renders its own
    page for people: `if wants_json(): return replay.validation_failed(form)`."""
    return jsonify(
        error="validation-failed",
        message="Some answers need fixing before this can be sent.",
        fields=field_errors(form),
        form=list(form.form_errors),
    ), 422


def field_errors(form) -> dict[str, list[str]]:
    """Each field's messages by the name the field posts under."""
    return {
        form[name].name: list(messages)
        for name, messages in form.errors.items()
        if name is not None and name in form
    }
