"""What a person sees when something goes wrong: a page they can act on, never a stack trace."""

import logging
import math
from datetime import UTC, datetime, timedelta

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError

from portal import identity
from salesforce.gateway import AccessRevoked, LimitReached, NotFound, Unavailable

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


def limit_message(limit: LimitReached) -> str:
    """What to tell a person while the org's API allowance is used up."""
    retry_at = limit.retry_at or datetime.now(UTC)
    # Rounded up to the minute, so "after 14:05" is never a minute early.
    shown = (retry_at + timedelta(seconds=59)).replace(second=0, microsecond=0)
    return (
        "Salesforce's daily allowance of requests is used up, so nothing can be sent or read "
        f"just now. Nothing was lost: try again after {shown:%H:%M} UTC."
    )


def retry_after_seconds(limit: LimitReached) -> int:
    if limit.retry_at is None:
        return 60
    return max(1, math.ceil((limit.retry_at - datetime.now(UTC)).total_seconds()))


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

    @app.errorhandler(LimitReached)
    def limit_reached(error):
        body, status = _page(503, "Try again later", limit_message(error))
        return body, status, {"Retry-After": str(retry_after_seconds(error))}

    @app.errorhandler(Unavailable)
    def salesforce_unavailable(error):
        return _page(
            503,
            "Try again shortly",
            "We cannot reach the deal records right now. Nothing was lost; try again in a minute.",
        )
