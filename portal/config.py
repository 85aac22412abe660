"""Settings, all from environment variables; see `.env.example` for each one."""

import json
import os
from datetime import timedelta

from salesforce.connection import Connector


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _json(name: str) -> dict:
    return json.loads(os.environ.get(name) or "{}")


def from_env() -> dict:
    """The app's configuration for this process."""
    local = os.environ.get("PORTAL_ENV", "local") == "local"
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "local-development-only"),
        "LOCAL_MODE": local,
        "PORTAL_BASE_URL": os.environ.get("PORTAL_BASE_URL", "http://localhost:5000"),
        "SALESFORCE": Connector.from_env(),
        "DEFAULT_QUEUE": os.environ.get("PORTAL_DEFAULT_QUEUE", "Channel_Desk"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 25),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Partner Portal <portal@localhost>"),
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
        "MAX_ATTACHMENT_BYTES": _int("MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=_int("SESSION_HOURS", 12)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not local,
        "REMEMBER_COOKIE_SECURE": not local,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": 12 * 60 * 60,
        # A 10 MB notes field must reach the form to get its field error, not a bare 413.
        "MAX_FORM_MEMORY_SIZE": 16 * 1024 * 1024,
        "MAX_CONTENT_LENGTH": 40 * 1024 * 1024,
    }
