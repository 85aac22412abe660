"""The partner's side of the workflow: answering a question, withdrawing a registration."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal import geography, permissions, replay, statuses, workflow
from portal.errors import limit_message
from portal.forms.decisions import AnswerForm, WithdrawForm
from salesforce.gateway import Conflict, LimitReached, NotFound, Rejected, Unavailable

bp = Blueprint("replies", __name__)


def gateway():
    return current_app.extensions["gateway"]


def require_partner(registration_id: str) -> None:
    if not permissions.can_answer(current_user):
        abort(404)
    if not registration_id.isalnum() or len(registration_id) not in (15, 18):
        abort(404)


def registration_page(registration_id, status_code, **forms):
    """The registration page again, with a submitted form and its errors."""
    try:
        registration = gateway().registration(
            registration_id, permissions.registration_scope(current_user)
        )
    except NotFound:
        abort(404)
    return render_template(
        "deals/show.html",
        registration=registration,
        status=statuses.status(registration.status),
        country=geography.country_name(registration.country),
        **forms_for(registration, **forms),
    ), status_code


def forms_for(registration, **bound) -> dict:
    """The partner's forms on the registration page: answer while it needs info, withdraw
    while it is undecided."""
    if not permissions.can_answer(current_user):
        return {}
    unbound = {"formdata": None, "registration": registration}
    forms = {}
    if registration.status == statuses.NEEDS_INFO:
        forms["answer_form"] = bound.get("answer_form") or AnswerForm(**unbound)
    if statuses.can_move(registration.status, statuses.WITHDRAWN):
        forms["withdraw_form"] = bound.get("withdraw_form") or WithdrawForm(**unbound)
    return forms


def attempt(registration_id, form, action, done_message):
    try:
        action()
    except NotFound:
        abort(404)
    except workflow.NotAllowed as refusal:
        form.form_errors.append(refusal.message)
    except Conflict:
        message = "This registration changed while you were looking. Here it is now."
        if replay.wants_json():
            return replay.failure("conflict", message, 409)
        flash(message, "error")
        return redirect(url_for("deals.show", registration_id=registration_id))
    except Rejected as rejection:
        form.form_errors.append("Salesforce did not accept it: " + rejection.message)
    except Unavailable as unavailable:
        message = (
            limit_message(unavailable)
            if isinstance(unavailable, LimitReached)
            else "We could not reach the deal records, so nothing was sent yet. Your text is "
            "still here: send it again in a minute."
        )
        if replay.wants_json():
            return replay.failure("unavailable", message, 503)
        form.form_errors.append(message)
    else:
        if not replay.wants_json():
            flash(done_message, "info")
        return replay.saved(registration_id)
    return None


@bp.post("/registrations/<registration_id>/answer")
@login_required
@replay.owner_checked
def answer(registration_id):
    require_partner(registration_id)
    form = AnswerForm(max_attachment_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])

    if form.validate_on_submit():
        target = form.target(registration_id, permissions.registration_scope(current_user))
        upload = form.attachment.data

        def send():
            workflow.answer(
                target, workflow.Actor.of(current_user), form.action_key.data, form.answer.data
            )
            if upload and upload.filename:
                gateway().attach_file(
                    registration_id, f"{form.action_key.data}:1", upload.filename, upload.read()
                )

        done = attempt(registration_id, form, send, "Answer sent. The channel team is told.")
        if done:
            return done

    if replay.wants_json():
        return replay.validation_failed(form)
    return registration_page(registration_id, 400, answer_form=form)


@bp.post("/registrations/<registration_id>/withdraw")
@login_required
def withdraw(registration_id):
    require_partner(registration_id)
    form = WithdrawForm()

    if form.validate_on_submit():
        target = form.target(registration_id, permissions.registration_scope(current_user))
        done = attempt(
            registration_id,
            form,
            lambda: workflow.withdraw(
                target, workflow.Actor.of(current_user), form.action_key.data
            ),
            "Registration withdrawn.",
        )
        if done:
            return done

    return registration_page(registration_id, 400, withdraw_form=form)
