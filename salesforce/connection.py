"""How the gateway signs in: to the local org, or to a real org with a password or a JWT."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from simple_salesforce import Salesforce

from salesforce import timing

log = logging.getLogger(__name__)

API_VERSION = "62.0"
CONNECT_TIMEOUT_SECONDS = 5.0
# Long enough for any request the portal makes; a request past 20 s also counts against the
# org's cap on concurrent long-running requests.
READ_TIMEOUT_SECONDS = 20.0


def _read(path: Path) -> str:
    return path.read_text().strip() if path.exists() else ""


class TimeoutSession(requests.Session):
    """A requests session that never waits forever: every request gets a timeout.

    `ca_file` is passed with each request because requests lets REQUESTS_CA_BUNDLE
    override a session-wide `verify`.
    """

    def __init__(
        self,
        ca_file: str = "",
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
    ):
        super().__init__()
        self.ca_file = ca_file
        self.timeout = timeout  # seconds: (connect, read)

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        if self.ca_file:
            kwargs.setdefault("verify", self.ca_file)
        tally = timing.current()
        if tally is None:
            return super().request(method, url, **kwargs)
        started = time.perf_counter()
        try:
            response = super().request(method, url, **kwargs)
        except requests.RequestException:
            tally.add((time.perf_counter() - started) * 1000, "")
            raise
        tally.add((time.perf_counter() - started) * 1000, response.headers.get("Server-Timing"))
        return response


class ConnectionFailed(Exception):
    """The org refused the credentials or could not be reached."""


@dataclass(frozen=True)
class Connector:
    """Settings to open a Salesforce session; `connect()` may be called again after expiry."""

    mode: str  # "local", "password" or "jwt"
    url: str = ""
    username: str = ""
    password: str = ""
    security_token: str = ""
    domain: str = "login"
    consumer_key: str = ""
    private_key_file: str = ""
    ca_file: str = ""
    connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, environ=os.environ, local_dir: Path = Path("var")) -> Connector:
        """Settings from the environment; in local mode, from the running local org's files."""
        if environ.get("SALESFORCE_CONSUMER_KEY") and environ.get("SALESFORCE_PRIVATE_KEY_FILE"):
            mode = "jwt"
        elif environ.get("SALESFORCE_USERNAME") and environ.get("SALESFORCE_PASSWORD"):
            mode = "password"
        else:
            mode = "local"
        return cls(
            mode=mode,
            url=environ.get("LOCAL_ORG_URL", "https://localhost:8443"),
            username=environ.get("SALESFORCE_USERNAME", ""),
            password=environ.get("SALESFORCE_PASSWORD", "")
            or environ.get("LOCAL_ORG_PASSWORD", "")
            or _read(local_dir / "localorg-password"),
            security_token=environ.get("SALESFORCE_SECURITY_TOKEN", ""),
            domain=environ.get("SALESFORCE_DOMAIN", "login"),
            consumer_key=environ.get("SALESFORCE_CONSUMER_KEY", ""),
            private_key_file=environ.get("SALESFORCE_PRIVATE_KEY_FILE", ""),
            ca_file=environ.get("LOCAL_ORG_CA_FILE", "")
            or (str(local_dir / "localorg-cert.pem") if mode == "local" else ""),
            connect_timeout_seconds=float(
                environ.get("SALESFORCE_CONNECT_TIMEOUT_SECONDS", CONNECT_TIMEOUT_SECONDS)
            ),
            read_timeout_seconds=float(
                environ.get("SALESFORCE_READ_TIMEOUT_SECONDS", READ_TIMEOUT_SECONDS)
            ),
        )

    def connect(self) -> Salesforce:
        session = TimeoutSession(
            self.ca_file if self.mode == "local" else "",
            (self.connect_timeout_seconds, self.read_timeout_seconds),
        )
        if self.mode == "local":
            return self._connect_local(session)
        if self.mode == "jwt":
            return Salesforce(
                username=self.username,
                consumer_key=self.consumer_key,
                privatekey_file=self.private_key_file,
                domain=self.domain,
                version=API_VERSION,
                session=session,
            )
        return Salesforce(
            username=self.username,
            password=self.password,
            security_token=self.security_token,
            domain=self.domain,
            version=API_VERSION,
            session=session,
        )

    def _connect_local(self, session: requests.Session) -> Salesforce:
        try:
            answer = session.post(
                f"{self.url}/services/oauth2/token",
                data={
                    "grant_type": "password",
                    "username": self.username or "integration@portal.local",
                    "password": self.password,
                },
            )
        except requests.RequestException as error:
            log.error("local org unreachable at %s: %s", self.url, type(error).__name__)
            raise ConnectionFailed(self.url) from error
        if answer.status_code != 200:
            log.error("local org refused the integration user (status %s)", answer.status_code)
            raise ConnectionFailed(self.url)
        token = answer.json()
        return Salesforce(
            instance_url=token["instance_url"],
            session_id=token["access_token"],
            version=API_VERSION,
            session=session,
        )
