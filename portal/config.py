"""Settings, all from environment variables; see `.env.example` for each one."""

import json
import os
from datetime import timedelta

from portal import routing
from salesforce.connection import Connector

# Refused outside local mode (portal/security.py).
DEFAULT_SECRET_KEY = "local-development-only"  # noqa: S105  # nosec B105
# Room for the form's other fields (notes up to MAX_FORM_MEMORY_SIZE) beside the attachment.
FORM_ALLOWANCE_BYTES = 17 * 1024 * 1024


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _json(name: str) -> dict:
    return json.loads(os.environ.get(name) or "{}")


def _list(name: str, default: str) -> list[str]:
    return [item.strip().lower() for item in os.environ.get(name, default).split(",") if item]


def from_env() -> dict:
    """The app's configuration for this process."""
    local = os.environ.get("PORTAL_ENV", "local") == "local"
    attachment_bytes = _int("MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        "LOCAL_MODE": local,
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://localhost:5000"),
        "SALESFORCE": Connector.from_env(),
        "ROUTING_RULES_FILE": os.environ.get("ROUTING_RULES_FILE", str(routing.DEFAULT_RULES)),
        "ROUTING_CHECK_OWNERS": os.environ.get("ROUTING_CHECK_OWNERS", "true") == "true",
        "PROTECTION_DAYS": _int("PROTECTION_DAYS", 90),
        # Web Push: a PEM EC P-256 private key; in local mode one is made in var/.
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY", ""),
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", "mailto:channel@example.com"),
        "SLA_BUSINESS_DAYS": _int("SLA_BUSINESS_DAYS", 2),
        # Counts of registration forms opened and submitted go to Salesforce this often.
        "FORM_COUNTS_FLUSH_SECONDS": _int("FORM_COUNTS_FLUSH_SECONDS", 60),
        # Waits between attempts of a notification or other follow-up work.
        "BACKGROUND_RETRY_SECONDS": [1, 4, 16],
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Partner Portal <portal@localhost>"),
        "MAIL_USE_TLS": os.environ.get("MAIL_USE_TLS", "false") == "true",
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "SIGN_IN_LINK_MINUTES": _int("SIGN_IN_LINK_MINUTES", 15),
        "INVITATION_HOURS": _int("INVITATION_HOURS", 72),
        "WEBAUTHN_RP_ID": os.environ.get("WEBAUTHN_RP_ID", ""),
        "WEBAUTHN_RP_NAME": os.environ.get("WEBAUTHN_RP_NAME", "Partner Portal"),
        "WEBAUTHN_ORIGINS": [
            origin.strip()
            for origin in os.environ.get("WEBAUTHN_ORIGINS", "").split(",")
            if origin.strip()
        ],
        "IDENTITY_RECHECK_SECONDS": _int("IDENTITY_RECHECK_SECONDS", 300),
        "SSO_PROVIDERS": _json("SSO_PROVIDERS"),
        "SSO_LEEWAY_SECONDS": _int("SSO_LEEWAY_SECONDS", 60),
        "MAX_ATTACHMENT_BYTES": attachment_bytes,
        "ALLOWED_ATTACHMENT_TYPES": _list("ALLOWED_ATTACHMENT_TYPES", "pdf,png,jpeg,heic"),
        "SALESFORCE_NETWORK_ID": os.environ.get("SALESFORCE_NETWORK_ID", ""),
        "SALESFORCE_RETRY_ATTEMPTS": _int("SALESFORCE_RETRY_ATTEMPTS", 3),
        "SALESFORCE_RETRY_BACKOFF_SECONDS": float(
            os.environ.get("SALESFORCE_RETRY_BACKOFF_SECONDS", 0.5)
        ),
        "SALESFORCE_RETRY_DEADLINE_SECONDS": float(
            os.environ.get("SALESFORCE_RETRY_DEADLINE_SECONDS", 25)
        ),
        "SALESFORCE_LIMIT_COOLDOWN_SECONDS": _int("SALESFORCE_LIMIT_COOLDOWN_SECONDS", 15 * 60),
        "SALESFORCE_USAGE_WARNING_PERCENT": _int("SALESFORCE_USAGE_WARNING_PERCENT", 80),
        "HEALTH_CHECK_SECONDS": _int("HEALTH_CHECK_SECONDS", 60),
        # The installed app's version; empty: a digest of its static files (views/offline.py).
        "SHELL_VERSION": os.environ.get("SHELL_VERSION", ""),
        # Answers compressed (gzip, Brotli or Zstandard, as the browser accepts), and static
        # files named by a digest of their content and kept by browsers for a year. Both are
        # off only to measure what they save (benchmarks/).
        "COMPRESS_RESPONSES": os.environ.get("COMPRESS_RESPONSES", "true") == "true",
        "STATIC_DIGESTS": os.environ.get("STATIC_DIGESTS", "true") == "true",
        # A Server-Timing header on every answer: the portal's time and the Salesforce time
        # in it. Off by default: timings are for measuring, not for every visitor.
        "SERVER_TIMING": os.environ.get("SERVER_TIMING", "false") == "true",
        # Proxies (load balancers) in front of the portal whose X-Forwarded-* to trust.
        "PROXY_HOPS": _int("PROXY_HOPS", 0),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_HOURS", 12)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not local,
        # The __Host- prefix makes browsers refuse the cookie unless Secure, from this host.
        "SESSION_COOKIE_NAME": "session" if local else "__Host-session",
        "REMEMBER_COOKIE_SECURE": not local,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": 12 * 60 * 60,
        # A 10 MB notes field must reach the form to get its field error, not a bare 413.
        "MAX_FORM_MEMORY_SIZE": 16 * 1024 * 1024,
        # Refused before the body is read (portal/security.py).
        "MAX_CONTENT_LENGTH": attachment_bytes + FORM_ALLOWANCE_BYTES,
    }
