"""The vendor's side: the review queue, the review page and decisions."""

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal import permissions, statuses, workflow
from portal.forms.decisions import ApproveForm, NeedsInfoForm, ReassignForm, RejectForm
from salesforce.gateway import Conflict, NotFound, Rejected

bp = Blueprint("review", __name__, url_prefix="/review")


def gateway():
    return current_app.extensions["gateway"]


def require_reviewer(registration_id: str = "") -> None:
    if not permissions.can_review(current_user):
        abort(404)
    if registration_id and (not registration_id.isalnum() or len(registration_id) not in (15, 18)):
        abort(404)


def reviewable(registration_id: str):
    """The registration, if the signed-in person may decide on it; 404 otherwise."""
    require_reviewer(registration_id)
    try:
        return gateway().registration(registration_id, permissions.registration_scope(current_user))
    except NotFound:
        abort(404)


@bp.get("/")
@login_required
def queue():
    require_reviewer()
    registrations = gateway().review_queue(permissions.review_scope(current_user), statuses.OPEN)
    now = datetime.now(UTC)
    rows = [
        (registration, statuses.business_days_between(registration.waiting_since, now))
        for registration in registrations
    ]
    return render_template(
        "review/queue.html", rows=rows, target=current_app.config["SLA_BUSINESS_DAYS"]
    )


@bp.get("/<registration_id>")
@login_required
def show(registration_id):
    return page(reviewable(registration_id))


def page(registration, status_code=200, **bound):
    """The review page; `bound` holds a submitted form to show again with its errors."""
    unbound = {"formdata": None, "registration": registration}
    owners = gateway().assignable_owners() if permissions.can_reassign(current_user) else []
    return render_template(
        "review/show.html",
        registration=registration,
        status=statuses.status(registration.status),
        conflicts=gateway().conflicts_for(registration),
        approve_form=bound.get("approve") or ApproveForm(**unbound),
        reject_form=bound.get("reject") or RejectForm(**unbound),
        ask_form=bound.get("ask") or NeedsInfoForm(**unbound),
        reassign_form=bound.get("reassign")
        or (ReassignForm(owners=owners, **unbound) if owners else None),
    ), status_code


def decide(registration_id, form, name, action, done_message):
    """Validate `form`, run `action(target, actor, key)`; the answer to send back."""
    if form.validate_on_submit():
        target = form.target(registration_id, permissions.registration_scope(current_user))
        try:
            action(target, workflow.Actor.of(current_user), form.action_key.data)
        except NotFound:
            abort(404)
        except workflow.NotAllowed as refusal:
            form.form_errors.append(refusal.message)
        except Conflict:
            flash(
                "Someone changed this registration while you were looking. Here it is now.", "error"
            )
            return redirect(url_for("review.show", registration_id=registration_id))
        except Rejected as rejection:
            form.form_errors.append("Salesforce did not accept the change: " + rejection.message)
        else:
            flash(done_message, "info")
            return redirect(url_for("review.show", registration_id=registration_id))
    return page(reviewable(registration_id), 400, **{name: form})


@bp.post("/<registration_id>/approve")
@login_required
def approve(registration_id):
    require_reviewer(registration_id)
    return decide(
        registration_id,
        ApproveForm(),
        "approve",
        workflow.approve,
        "Approved. The partner is told, with the expiry date.",
    )


@bp.post("/<registration_id>/reject")
@login_required
def reject(registration_id):
    require_reviewer(registration_id)
    form = RejectForm()
    return decide(
        registration_id,
        form,
        "reject",
        lambda target, actor, key: workflow.reject(
            target, actor, key, form.reason_code.data, (form.comment.data or "").strip()
        ),
        "Rejected. The partner is told, with the reason.",
    )


@bp.post("/<registration_id>/needs-info")
@login_required
def needs_info(registration_id):
    require_reviewer(registration_id)
    form = NeedsInfoForm()
    return decide(
        registration_id,
        form,
        "ask",
        lambda target, actor, key: workflow.ask(target, actor, key, form.question.data.strip()),
        "Question sent. The registration waits for the partner's answer.",
    )


@bp.post("/<registration_id>/reassign")
@login_required
def reassign(registration_id):
    require_reviewer(registration_id)
    if not permissions.can_reassign(current_user):
        abort(404)
    owners = dict(gateway().assignable_owners())
    form = ReassignForm(owners=list(owners.items()))
    return decide(
        registration_id,
        form,
        "reassign",
        lambda target, actor, key: workflow.reassign(
            target,
            actor,
            key,
            form.owner_id.data,
            owners[form.owner_id.data],
            (form.note.data or "").strip(),
        ),
        "Assigned. The new owner is told.",
    )
