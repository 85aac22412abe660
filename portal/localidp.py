"""A local OpenID Connect provider, for development and tests.

A real provider built from Authlib's server parts: the authorization code flow with
PKCE (S256 required), ID tokens signed with an RSA key published as a JWKS, and a
discovery document. Its sign-in page lists a few demo identities and signs one in with
a button: there are no passwords, it only ever runs on this machine.

For tests, a sign-in can ask for a tampered ID token (`tamper` form field, one of
`TAMPERING`), genuine in every other respect, so the portal's checks can be proven.

It serves plain http on localhost. Authlib accepts http only on loopback hosts (RFC 8252
section 7.3), on both the client and the server side, so no AUTHLIB_INSECURE_TRANSPORT is
needed or set.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, abort, jsonify, render_template, request
from joserfc import jws
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from salesforce.localorg.__main__ import QuietHandler

SCOPES = ("openid", "email", "profile")
CODE_LIFETIME_SECONDS = 60
ID_TOKEN_LIFETIME_SECONDS = 300
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

WRONG_NONCE = "wrong_nonce"
WRONG_AUDIENCE = "wrong_audience"
WRONG_ISSUER = "wrong_issuer"
EXPIRED = "expired"
JUST_EXPIRED = "just_expired"  # 30 s ago: inside a relying party's usual clock leeway
ISSUED_IN_FUTURE = "issued_in_future"
BAD_SIGNATURE = "bad_signature"
UNVERIFIED_EMAIL = "unverified_email"
TAMPERING = (
    WRONG_NONCE,
    WRONG_AUDIENCE,
    WRONG_ISSUER,
    EXPIRED,
    JUST_EXPIRED,
    ISSUED_IN_FUTURE,
    BAD_SIGNATURE,
    UNVERIFIED_EMAIL,
)


@dataclass(frozen=True)
class Identity:
    email: str
    name: str
    email_verified: bool = True

    @property
    def subject(self) -> str:
        """A stable, opaque `sub` for this person."""
        return hashlib.sha256(self.email.lower().encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        """Exact match, except that a loopback URI may use any port (RFC 8252 section 7.3)."""
        return _portless(redirect_uri) in {_portless(uri) for uri in self.redirect_uris}

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    email: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    tamper: str = ""
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def is_expired(self) -> bool:
        return time.time() - self.auth_time > CODE_LIFETIME_SECONDS


class _Server(AuthorizationServer):
    def __init__(self, idp: LocalIdP):
        super().__init__()
        self.idp = idp

    def query_client(self, client_id):
        return self.idp.clients.get(client_id)

    def save_token(self, token, request):
        """Access tokens are not kept: this provider serves no APIs."""


class _CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        payload = request.payload
        self.server.idp.codes[code] = AuthorizationCode(
            code=code,
            client_id=request.client.get_client_id(),
            redirect_uri=payload.redirect_uri,
            scope=request.scope,
            email=request.user.email,
            nonce=payload.data.get("nonce"),
            code_challenge=payload.data.get("code_challenge"),
            code_challenge_method=payload.data.get("code_challenge_method"),
            tamper=request.form.get("tamper", ""),
        )

    def query_authorization_code(self, code, client):
        found = self.server.idp.codes.get(code)
        if found and found.client_id == client.get_client_id() and not found.is_expired():
            return found
        return None

    def delete_authorization_code(self, authorization_code):
        self.server.idp.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        identity = self.server.idp.identities.get(authorization_code.email.lower())
        if identity and authorization_code.tamper == UNVERIFIED_EMAIL:
            return Identity(identity.email, identity.name, email_verified=False)
        return identity


class _RequireS256(CodeChallenge):
    """PKCE with S256 on every request, so a client that skips it fails loudly here."""

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required.")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenID(OpenIDCode):
    def __init__(self, idp: LocalIdP):
        super().__init__(require_nonce=True)
        self.idp = idp

    def exists_nonce(self, nonce, request):
        client_id = request.payload.client_id
        return any(c.nonce == nonce and c.client_id == client_id for c in self.idp.codes.values())

    def resolve_client_private_key(self, client):
        return self.idp.key

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.idp.key.kid}

    def get_client_claims(self, client):
        now = int(time.time())
        return {
            "iss": self.idp.issuer,
            "aud": [client.get_client_id()],
            "iat": now,
            "exp": now + ID_TOKEN_LIFETIME_SECONDS,
        }

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        now = int(time.time())
        tamper = authorization_code.tamper
        if tamper == WRONG_NONCE:
            claims["nonce"] = secrets.token_urlsafe(16)
        elif tamper == WRONG_AUDIENCE:
            # Names the right client as authorized party: only an audience check catches it.
            claims["aud"] = ["another-client"]
            claims["azp"] = authorization_code.client_id
        elif tamper == WRONG_ISSUER:
            claims["iss"] = f"{self.idp.issuer}/other"
        elif tamper == EXPIRED:
            claims.update(iat=now - 7200, exp=now - 3600, auth_time=now - 7200)
        elif tamper == JUST_EXPIRED:
            claims.update(iat=now - 330, exp=now - 30, auth_time=now - 330)
        elif tamper == ISSUED_IN_FUTURE:
            claims.update(iat=now + 3600, exp=now + 7200)
        return claims

    def generate_user_info(self, user, scope):
        info = UserInfo(sub=user.subject)
        if "email" in scope:
            info.update(email=user.email, email_verified=user.email_verified)
        if "profile" in scope:
            info["name"] = user.name
        return info

    def encode_id_token(self, token, request):
        id_token = super().encode_id_token(token, request)
        if request.authorization_code.tamper != BAD_SIGNATURE:
            return id_token
        # The same header (kid included) and claims, signed by a key nobody published.
        genuine = jws.deserialize_compact(id_token, self.idp.key)
        return jws.serialize_compact(genuine.protected, genuine.payload, self.idp.stranger_key)


class LocalIdP:
    """An OpenID provider on http://localhost:<port>, served from a background thread."""

    def __init__(self, identities=(), clients=(), port: int = 0):
        self.server = make_server(
            "localhost", port, None, threaded=True, request_handler=QuietHandler
        )
        self.port = self.server.server_port
        self.issuer = f"http://localhost:{self.port}"
        self.key = RSAKey.generate_key(2048, auto_kid=True)
        self.stranger_key = RSAKey.generate_key(2048)
        self.identities = {identity.email.lower(): identity for identity in identities}
        self.clients = {client.client_id: client for client in clients}
        self.codes: dict[str, AuthorizationCode] = {}
        self.server.app = create_app(self)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LocalIdP:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_identity(self, email: str, name: str) -> Identity:
        identity = Identity(email, name)
        self.identities[email.lower()] = identity
        return identity

    def add_client(self, client_id: str, client_secret: str, redirect_uris) -> Client:
        client = Client(client_id, client_secret, tuple(redirect_uris))
        self.clients[client_id] = client
        return client

    def provider_config(self, client: Client, label: str, kind: str) -> dict:
        """One entry of the portal's `SSO_PROVIDERS` for `client` of this provider."""
        return {
            "label": label,
            "issuer": self.issuer,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "kind": kind,
        }


def create_app(idp: LocalIdP) -> Flask:
    app = Flask(__name__)
    server = _Server(idp)
    server.init_app(app)
    server.register_grant(_CodeGrant, [_OpenID(idp), _RequireS256()])

    @app.get("/.well-known/openid-configuration")
    def discovery():
        return jsonify(
            issuer=idp.issuer,
            authorization_endpoint=f"{idp.issuer}/authorize",
            token_endpoint=f"{idp.issuer}/token",
            jwks_uri=f"{idp.issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            scopes_supported=list(SCOPES),
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            code_challenge_methods_supported=["S256"],
            claims_supported=["sub", "iss", "aud", "exp", "iat", "nonce", "email", "name"],
        )

    @app.get("/jwks")
    def jwks():
        return jsonify(keys=[idp.key.as_dict(private=False)])

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        chosen = None
        if request.method == "POST" and "cancel" not in request.form:
            chosen = idp.identities.get(request.form.get("email", "").lower())
            if chosen is None or request.form.get("tamper", "") not in ("", *TAMPERING):
                abort(400)
        try:
            grant = server.get_consent_grant(end_user=chosen)
        except OAuth2Error as error:
            return server.handle_error_response(None, error)

        if request.method == "GET":
            identities = sorted(idp.identities.values(), key=lambda identity: identity.name)
            client_id = grant.client.get_client_id()
            return render_template("localidp/sign_in.html", identities=identities, client=client_id)
        return server.create_authorization_response(grant_user=chosen, grant=grant)

    @app.post("/token")
    def token():
        return server.create_token_response()

    return app


def _portless(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.hostname in LOOPBACK_HOSTS:
        return urlunsplit(parts._replace(netloc=parts.hostname))
    return uri
