"""Single sign-on with OpenID Connect: the configured providers, and who a verified email is.

Each provider in `SSO_PROVIDERS` is registered with Authlib's Flask client, which runs
the authorization code flow with PKCE (S256), keeps state, nonce and code verifier in
the signed session, and checks the ID token's signature against the provider's JWKS,
its nonce, expiry and issue time. Authlib checks the audience only through `azp`, so the
expected issuer and audience are passed to it here as required claims.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from flask import Flask, current_app, request, url_for
from joserfc.errors import JoseError

from portal.extensions import oauth
from portal.identity import Person, may_use_portal, may_use_portal_internally

log = logging.getLogger(__name__)

INTERNAL = "internal"
PARTNER = "partner"
KINDS = (INTERNAL, PARTNER)
SCOPE = "openid email profile"
PROVIDER_TIMEOUT_SECONDS = (5, 15)  # connect, read: discovery, JWKS and token requests
# A provider's name is in URLs and in the Account's 40-character Portal_Identity_Provider__c.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
ERROR_CODE_PATTERN = re.compile(r"[a-z_]{1,40}")
REQUIRED_SETTINGS = ("label", "issuer", "client_id", "client_secret")


class SignInFailed(Exception):
    """The provider's answer cannot be used; `reason` is a code the page explains."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotInvited(Exception):
    """The provider vouched for this email, but nobody with it may use the portal."""

    def __init__(self, email: str):
        super().__init__("not invited")
        self.email = email


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    issuer: str
    client_id: str
    client_secret: str
    kind: str = INTERNAL

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer.rstrip('/')}/.well-known/openid-configuration"

    @classmethod
    def from_settings(cls, name: str, settings: dict) -> Provider:
        missing = [key for key in REQUIRED_SETTINGS if not settings.get(key)]
        kind = settings.get("kind", INTERNAL)
        if not NAME_PATTERN.fullmatch(name) or missing or kind not in KINDS:
            raise ValueError(
                f"SSO provider {name!r}: needs a lowercase name, {', '.join(REQUIRED_SETTINGS)} "
                f"and a kind in {KINDS}"
            )
        return cls(name=name, kind=kind, **{key: settings[key] for key in REQUIRED_SETTINGS})


def load_providers(settings: dict | str | None) -> dict[str, Provider]:
    """The providers from `SSO_PROVIDERS`: a mapping of name to settings, or its JSON."""
    if isinstance(settings, str):
        settings = json.loads(settings) if settings.strip() else {}
    return {name: Provider.from_settings(name, value) for name, value in (settings or {}).items()}


def init_app(app: Flask) -> None:
    providers = load_providers(app.config.get("SSO_PROVIDERS"))
    app.extensions["sso"] = providers
    for provider in providers.values():
        # Authlib keeps one client per name for the process and returns it even when the
        # name is registered again (authlib/authlib#583); drop it so this app's settings win.
        oauth._clients.pop(provider.name, None)
        oauth.register(
            provider.name,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.metadata_url,
            client_kwargs={
                "scope": SCOPE,
                "code_challenge_method": "S256",
                "default_timeout": PROVIDER_TIMEOUT_SECONDS,
            },
        )
    app.add_template_global(configured_providers, "sso_providers")


def configured_providers() -> list[Provider]:
    return list(current_app.extensions["sso"].values())


def find_provider(name: str) -> Provider | None:
    return current_app.extensions["sso"].get(name)


def begin(provider: Provider):
    """A redirect to the provider's sign-in page; raises `SignInFailed` if it is down."""
    callback = url_for("sso.callback", provider=provider.name, _external=False)
    redirect_uri = current_app.config["PORTAL_BASE_URL"].rstrip("/") + callback
    try:
        return oauth.create_client(provider.name).authorize_redirect(redirect_uri)
    except requests.RequestException as error:
        log.warning("sso provider %s unreachable: %s", provider.name, type(error).__name__)
        raise SignInFailed("unreachable") from None


def finish(provider: Provider) -> Person:
    """The person the provider's answer on this request vouches for."""
    return person_for(provider, verified_claims(provider))


def verified_claims(provider: Provider) -> dict:
    """The claims of the ID token in the provider's answer, once every check has passed."""
    error = request.args.get("error")
    if error:
        code = error if ERROR_CODE_PATTERN.fullmatch(error) else "other"
        log.warning("sso sign-in with %s ended by the provider: %s", provider.name, code)
        raise SignInFailed("denied" if error == "access_denied" else "provider-error")

    client = oauth.create_client(provider.name)
    try:
        token = client.authorize_access_token(
            leeway=current_app.config["SSO_LEEWAY_SECONDS"],
            claims_options={
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
            },
        )
    except MismatchingStateError:
        log.warning("sso answer for %s has no matching sign-in in this session", provider.name)
        raise SignInFailed("expired") from None
    except OAuthError as refusal:
        code = refusal.error if ERROR_CODE_PATTERN.fullmatch(refusal.error or "") else "other"
        log.warning("sso token request to %s refused: %s", provider.name, code)
        raise SignInFailed("provider-error") from None
    except JoseError as invalid:
        detail = " ".join(filter(None, (invalid.error, getattr(invalid, "claim", ""))))
        log.warning("sso id token from %s rejected: %s", provider.name, detail)
        raise SignInFailed("untrusted") from None
    except requests.RequestException as error:
        log.warning("sso provider %s unreachable: %s", provider.name, type(error).__name__)
        raise SignInFailed("unreachable") from None
    except ValueError:
        # Authlib raises ValueError for a token response that is not a JSON object.
        log.warning("sso token response from %s is not JSON", provider.name)
        raise SignInFailed("provider-error") from None

    claims = token.get("userinfo")
    if not claims:
        log.warning("sso answer from %s has no id token", provider.name)
        raise SignInFailed("untrusted")
    return dict(claims)


def person_for(provider: Provider, claims: dict) -> Person:
    """The portal person for verified claims: an internal user, or a partner contact whose
    company signs in with this provider."""
    email = (claims.get("email") or "").strip()
    if not email:
        log.warning("sso id token from %s has no email", provider.name)
        raise SignInFailed("untrusted")
    if "email_verified" in claims and claims["email_verified"] is not True:
        log.warning("sso id token from %s has an unverified email", provider.name)
        raise SignInFailed("unverified-email")

    gateway = current_app.extensions["gateway"]
    if provider.kind == INTERNAL:
        user = gateway.find_internal_user(email)
        if user is not None and may_use_portal_internally(user):
            return Person.from_user(user, "sso")
    else:
        contact = gateway.find_partner_contact(email)
        if (
            contact is not None
            and contact.identity_provider == provider.name
            and may_use_portal(contact)
        ):
            if contact.status == "Invited":
                # The first sign-in accepts the invitation, whichever way it happens.
                gateway.complete_sign_in(contact.id)
            return Person.from_contact(contact, "sso")

    log.info("sso sign-in with %s: no portal access for the verified email", provider.name)
    raise NotInvited(email)
