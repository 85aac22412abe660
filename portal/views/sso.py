"""Single sign-on: off to the provider, and back signed in."""

from flask import Blueprint, abort, redirect, render_template, url_for

from portal import identity, sso

bp = Blueprint("sso", __name__)

FAILURE_STATUS = {
    "denied": 403,
    "unverified-email": 403,
    "expired": 400,
    "untrusted": 400,
    "provider-error": 400,
    "unreachable": 503,
}


@bp.get("/sso/<provider>")
def start(provider):
    chosen = configured(provider)

    try:
        return sso.begin(chosen)
    except sso.SignInFailed as failure:
        return failed(chosen, failure)


@bp.get("/sso/<provider>/callback")
def callback(provider):
    chosen = configured(provider)

    try:
        person = sso.finish(chosen)
    except sso.NotInvited as refusal:
        return render_template("sso/not_invited.html", provider=chosen, email=refusal.email), 403
    except sso.SignInFailed as failure:
        return failed(chosen, failure)

    identity.sign_in(person)
    return redirect(url_for("deals.index"))


def configured(name: str) -> sso.Provider:
    """:raise 404: for a provider that is not configured."""
    provider = sso.find_provider(name)
    if provider is None:
        abort(404)
    return provider


def failed(provider: sso.Provider, failure: sso.SignInFailed):
    page = render_template("sso/failed.html", provider=provider, reason=failure.reason)
    return page, FAILURE_STATUS[failure.reason]
