"""What a person sees when something goes wrong: a page they can act on, never a stack trace."""

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

from portal import identity
from salesforce.gateway import AccessRevoked, NotFound, Unavailable

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def _page(status: int, title: str, message: str):
    if wants_json():
        code = title.lower().replace(" ", "-").replace("'", "")
        return {"error": code, "message": message}, status
    return render_template("error.html", title=title, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(400)
    def bad_request(error):
        return _page(400, "Bad request", "The request was not understood. Reload and try again.")

    @app.errorhandler(404)
    @app.errorhandler(NotFound)
    def not_found(error):
        return _page(404, "Not found", "There is nothing here, or it is not yours to see.")

    @app.errorhandler(405)
    def method_not_allowed(error):
        return _page(405, "Not allowed", "That action is not available here.")

    @app.errorhandler(410)
    def gone(error):
        return _page(410, "Link expired", "That link has expired or was already used.")

    @app.errorhandler(413)
    def too_large(error):
        limit = app.config["MAX_ATTACHMENT_BYTES"] // (1024 * 1024)
        return _page(
            413, "Too large", f"That upload is too large; files can be at most {limit} MB."
        )

    @app.errorhandler(429)
    def too_many(error):
        return _page(429, "Too many attempts", "Too many attempts. Wait a minute and try again.")

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return _page(
            400,
            "Form expired",
            "This form was open too long or in another session. Go back, reload and try again.",
        )

    @app.errorhandler(AccessRevoked)
    def access_revoked(error):
        identity.sign_out()
        return _page(
            403,
            "Access switched off",
            "Your access to the portal is switched off. Ask your channel manager to restore it.",
        )

    @app.errorhandler(Unavailable)
    def salesforce_unavailable(error):
        return _page(
            503,
            "Try again shortly",
            "We cannot reach the deal records right now. Nothing was lost; try again in a minute.",
        )
