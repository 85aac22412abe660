"""My Deals, the registration form and the registration page."""

import logging

from flask import Blueprint, Response, abort, current_app, render_template
from flask_login import current_user, login_required

from portal import form_counts, geography, permissions, replay, statuses, submissions
from portal.errors import limit_message, retry_after_seconds
from portal.forms.registration import RegistrationForm
from portal.views import offline, replies
from salesforce.gateway import LimitReached, NotFound, Rejected, Unavailable

log = logging.getLogger(__name__)

bp = Blueprint("deals", __name__)

# Salesforce field names to the form fields that show their errors.
FORM_FIELDS = {
    "End_Customer_Name__c": "end_customer_name",
    "End_Customer_Domain__c": "end_customer_domain",
    "Country__c": "country",
    "Deal_Value__c": "deal_value",
    "Product_Line__c": "product_line",
    "Expected_Close_Date__c": "expected_close_date",
    "Notes__c": "notes",
}


def gateway():
    return current_app.extensions["gateway"]


@bp.get("/")
@login_required
def index():
    registrations = gateway().registrations(permissions.registration_scope(current_user))
    return render_template(
        "deals/index.html",
        registrations=registrations,
        may_invite=permissions.can_invite_partners(current_user),
    )


@bp.route("/registrations/new", methods=["GET", "POST"])
@login_required
@replay.owner_checked
def new():
    if not permissions.can_register_deals(current_user):
        abort(404)
    form = RegistrationForm(max_attachment_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])

    if form.validate_on_submit():
        try:
            registration_id = submit(form)
        except Rejected as rejection:
            show_rejection(form, rejection)
        except LimitReached as limit:
            headers = {"Retry-After": str(retry_after_seconds(limit))}
            return replay.unavailable("deals/new.html", form, limit_message(limit), headers)
        except Unavailable:
            return replay.unavailable(
                "deals/new.html",
                form,
                "We could not reach the deal records, so the registration is not sent yet. "
                "Everything you typed is still here: send it again in a minute.",
            )
        else:
            return replay.saved(registration_id)

    if form.errors:
        return replay.invalid("deals/new.html", form)
    if not form.is_submitted() and not offline.is_prefetch():
        form_counts.opened(current_user.account_id)
    return render_template("deals/new.html", form=form)


def submit(form: RegistrationForm) -> str:
    """Write the registration (and its file) to Salesforce; the registration's ID."""
    upload = form.attachment.data
    return submissions.submit(
        current_user,
        form.submission_key.data,
        submissions.Values(
            customer=form.end_customer_name.data.strip(),
            domain=form.end_customer_domain.data or "",
            country=form.country.data,
            deal_value=form.deal_value.data,
            product_line=form.product_line.data,
            close_date=form.expected_close_date.data,
            notes=form.notes.data or "",
        ),
        (upload.filename, upload.read()) if upload and upload.filename else None,
    )


def show_rejection(form: RegistrationForm, rejection: Rejected) -> None:
    """Put Salesforce's messages next to the fields they concern; keep what was typed.

    An org's validation rule or duplicate rule speaks to the person in the admin's words;
    a message that names no field of the form is shown above it.
    """
    if not rejection.errors:
        form.form_errors.append("Salesforce did not accept the registration: " + rejection.message)
    for error in rejection.errors:
        on_form = [FORM_FIELDS[name] for name in error.fields if name in FORM_FIELDS]
        for name in on_form:
            getattr(form, name).errors.append(error.message)
        if not on_form:
            form.form_errors.append("Salesforce did not accept the registration: " + error.message)


@bp.get("/registrations/<registration_id>")
@login_required
def show(registration_id):
    registration = find_registration(registration_id)
    return render_template(
        "deals/show.html",
        registration=registration,
        status=statuses.status(registration.status),
        country=geography.country_name(registration.country),
        **replies.forms_for(registration),
    )


@bp.get("/registrations/<registration_id>/files/<version_id>")
@login_required
def file(registration_id, version_id):
    registration = find_registration(registration_id)
    try:
        attachment = gateway().file_of(registration, version_id)
        content = gateway().file_content(attachment.version_id)
    except NotFound:
        abort(404)
    response = Response(content, mimetype="application/octet-stream")
    response.headers.set("Content-Disposition", "attachment", filename=attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def find_registration(registration_id: str):
    """The registration if the signed-in person may see it; 404 otherwise."""
    if not registration_id.isalnum() or len(registration_id) not in (15, 18):
        abort(404)
    try:
        return gateway().registration(registration_id, permissions.registration_scope(current_user))
    except NotFound:
        abort(404)
