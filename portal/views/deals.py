"""My Deals, the registration form and the registration page."""

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal import geography, permissions, statuses
from portal.forms.registration import RegistrationForm
from salesforce.gateway import NotFound, Rejected, Unavailable

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
def new():
    if not permissions.can_register_deals(current_user):
        abort(404)
    form = RegistrationForm(max_attachment_bytes=current_app.config["MAX_ATTACHMENT_BYTES"])

    if form.validate_on_submit():
        try:
            registration_id = submit(form)
        except Rejected as rejection:
            show_rejection(form, rejection)
        except Unavailable:
            form.form_errors.append(
                "We could not reach the deal records, so the registration is not sent yet. "
                "Everything you typed is still here: send it again in a minute."
            )
            return render_template("deals/new.html", form=form), 503
        else:
            return redirect(url_for("deals.show", registration_id=registration_id))

    return render_template("deals/new.html", form=form), 400 if form.errors else 200


def submit(form: RegistrationForm) -> str:
    """Write the registration (and its file) to Salesforce; the registration's ID."""
    today = datetime.now(UTC).date()
    fields = {
        "End_Customer_Name__c": form.end_customer_name.data.strip(),
        "End_Customer_Domain__c": form.end_customer_domain.data or None,
        "Country__c": form.country.data,
        "Region__c": geography.region(form.country.data),
        "Deal_Value__c": str(form.deal_value.data),
        "Size_Band__c": geography.size_band(form.deal_value.data),
        "Product_Line__c": form.product_line.data,
        "Expected_Close_Date__c": form.expected_close_date.data.isoformat(),
        "Notes__c": form.notes.data or None,
        "Status__c": "Submitted",
        "Next_Step__c": statuses.next_step("Submitted", today),
        "Partner_Account__c": current_user.account_id,
        "Submitted_At__c": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "OwnerId": gateway().queue_id(current_app.config["DEFAULT_QUEUE"]),
    }
    stage = {
        "To_Status__c": "Submitted",
        "Entered_At__c": fields["Submitted_At__c"],
        "Actor__c": current_user.name,
        "Actor_Id__c": current_user.id,
        "Source__c": "Portal",
    }
    key = form.submission_key.data
    submission = gateway().submit_registration(key, fields, stage, submitted_by=current_user.id)
    if submission.created:
        log.info(
            "registration %s submitted by contact %s", submission.registration_id, current_user.id
        )
    upload = form.attachment.data
    if upload and upload.filename:
        version_id = gateway().attach_file(
            submission.registration_id, f"{key}:1", upload.filename, upload.read()
        )
        if version_id:
            log.info("file %s attached to registration %s", version_id, submission.registration_id)
    return submission.registration_id


def show_rejection(form: RegistrationForm, rejection: Rejected) -> None:
    """Put Salesforce's messages next to the fields they concern; keep what was typed."""
    placed = False
    for field_name, message in rejection.field_errors.items():
        if field_name in FORM_FIELDS:
            getattr(form, FORM_FIELDS[field_name]).errors.append(message)
            placed = True
    if not placed:
        form.form_errors.append("Salesforce did not accept the registration: " + rejection.message)


@bp.get("/registrations/<registration_id>")
@login_required
def show(registration_id):
    registration = find_registration(registration_id)
    return render_template(
        "deals/show.html",
        registration=registration,
        status=statuses.status(registration.status),
        country=geography.country_name(registration.country),
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
