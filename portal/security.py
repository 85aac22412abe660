"""Protections every response and request gets: security headers, the request size limit,
and the refusal to run in production with development settings.

flask-talisman would set most of these headers, but it has had no release since 2023; the
few headers below are plain to read and to test.
"""

from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import DEFAULT_SECRET_KEY

MIN_SECRET_KEY_LENGTH = 32  # characters
HSTS_MAX_AGE_SECONDS = 2 * 365 * 24 * 60 * 60

# Pages load their scripts, styles, images and manifest from the portal itself; nothing is
# inline, nothing may frame the portal, and forms post only to the portal (single sign-on
# starts with plain links, so no form ever posts to an identity provider).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}

# Passkeys need the Web Authentication API on the portal's own pages; nothing else is used.
PERMISSIONS_POLICY = (
    "publickey-credentials-get=(self), publickey-credentials-create=(self), "
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=()"
)


class UnsafeConfiguration(RuntimeError):
    """Production settings that would put partners' data at risk; each problem is named."""

    def __init__(self, problems: list[str]):
        super().__init__("refusing to start in production mode: " + "; ".join(problems))
        self.problems = problems


def production_problems(config) -> list[str]:
    """What is unsafe about `config` for production; nothing in local mode."""
    if config["LOCAL_MODE"]:
        return []
    problems = []
    secret_key = config.get("SECRET_KEY") or ""
    if secret_key == DEFAULT_SECRET_KEY or len(secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SECRET_KEY must be a random value of at least {MIN_SECRET_KEY_LENGTH} characters, "
            "not the development default"
        )
    if not config.get("PORTAL_BASE_URL", "").startswith("https://"):
        problems.append("PORTAL_BASE_URL must be the portal's https:// address")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("session cookies must be Secure outside local mode")
    if not config.get("MAIL_SERVER"):
        problems.append("MAIL_SERVER must be set: sign-in links are sent by email")
    connector = config.get("SALESFORCE")
    # Tests run production settings against the local org; a deployment never does.
    if getattr(connector, "mode", "") == "local" and not config.get("TESTING"):
        problems.append(
            "no Salesforce credentials (SALESFORCE_USERNAME and a password or JWT key): "
            "the local org is for development only"
        )
    return problems


def content_security_policy() -> str:
    return "; ".join(f"{name} {value}" for name, value in CONTENT_SECURITY_POLICY.items())


# Static files a page loads (not the service worker: a worker runs under its own script's
# policy). Browsers apply the document headers only to documents and workers, so these
# carry just the ones that protect a subresource, a kilobyte less on each. An SVG can be
# opened as a document, so it keeps them all.
SUBRESOURCE_TYPES = ("text/css", "text/javascript", "image/png")


def is_subresource(response) -> bool:
    return request.endpoint == "static" and response.mimetype in SUBRESOURCE_TYPES


def init_app(app: Flask) -> None:
    problems = production_problems(app.config)
    if problems:
        raise UnsafeConfiguration(problems)
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        # The client's address (rate limits) and https (secure cookies, CSRF) as the load
        # balancer saw them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    policy = content_security_policy()
    hsts = (
        None if app.config["LOCAL_MODE"] else f"max-age={HSTS_MAX_AGE_SECONDS}; includeSubDomains"
    )

    @app.before_request
    def refuse_large_bodies():
        # Refused on the declared length, before anything reads the body.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit and request.content_length and request.content_length > limit:
            abort(413)

    @app.after_request
    def protect(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if hsts:
            headers.setdefault("Strict-Transport-Security", hsts)
        if is_subresource(response):
            return response
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
