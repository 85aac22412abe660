"""Signing in and out."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from portal import identity, sign_in_links
from portal.extensions import limiter
from portal.forms.auth import ConfirmSignInForm, SignInLinkForm
from portal.identity import Person, may_use_portal
from portal.mail import MailFailed

bp = Blueprint("auth", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per hour", methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("deals.index"))
    form = SignInLinkForm()

    if form.validate_on_submit():
        try:
            sign_in_links.send_link(form.email.data.strip())
        except MailFailed:
            form.email.errors.append("We could not send the email just now. Try again in a minute.")
            return render_template("auth/sign_in.html", form=form), 503
        return render_template("auth/check_email.html", email=form.email.data.strip())

    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-in/<token>", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def use_link(token):
    form = ConfirmSignInForm()
    contact = sign_in_links.contact_for(token)
    if contact is None or not may_use_portal(contact):
        return render_template("auth/link_invalid.html"), 410

    if form.validate_on_submit():
        sign_in_links.use(contact)
        identity.sign_in(Person.from_contact(contact, "link"))
        return redirect(url_for("passkeys.offer"))

    return render_template("auth/confirm.html", form=form, contact=contact)


@bp.post("/sign-out")
def sign_out():
    identity.sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))
