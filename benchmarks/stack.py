"""The processes a benchmark measures, each started as it runs in production: the local org
in a process of its own, the portal under gunicorn with its production settings
(`gunicorn.conf.py`), and a mail catcher for sign-in links. Everything listens on loopback
and is stopped on exit."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess  # nosec B404 - starts the project's own servers
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from portal import routing, testing
from portal.mailcatcher import MailCatcher
from salesforce import demo
from salesforce.connection import Connector

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with status {process.returncode} while starting")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not start listening on port {port}")


@dataclass
class Server:
    """A server process on loopback."""

    name: str
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        """Gunicorn's workers: the children of its master process."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return [int(child) for child in children]

    def memory_mb(self) -> list[float]:
        """Resident memory of each worker, in MB."""
        sizes = []
        for pid in self.worker_pids():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Stack:
    """The local org, its demo partner and the servers started against it."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="benchmarks-")))
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    servers: list[Server] = field(default_factory=list)

    def start(self) -> Stack:
        self.mailbox = MailCatcher().start()
        self.org_port = free_port()
        org = self._spawn(
            "local org",
            [PYTHON, "-m", "salesforce.localorg", "serve", "--port", str(self.org_port)]
            + ["--dir", str(self.directory)],
            self.org_port,
            {"LOCAL_ORG_PASSWORD": self.password},
        )
        self.org = org
        self.org_url = f"https://localhost:{self.org_port}"
        self.connector = Connector(
            mode="local",
            url=self.org_url,
            password=self.password,
            ca_file=str(self.directory / "localorg-cert.pem"),
        )
        self.sf = self.connector.connect()
        for name in routing.load().queues:
            demo.ensure_queue(self.sf, name, name.replace("_", " "))
        return self

    def _spawn(self, name: str, command: list[str], port: int, env: dict) -> Server:
        log = open(self.directory / f"{name.replace(' ', '-')}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603  # nosec B603 - fixed arguments
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        server = Server(name, process, port)
        self.servers.append(server)
        wait_for_port(port, process, name)
        return server

    def partner_with_deals(self, deals: int) -> str:
        """A partner rep with `deals` registrations on My Deals; returns their email."""
        account_id = demo.create_partner(self.sf, "Benchmark Partner")
        email = f"rep.{secrets.token_hex(4)}@partner.example"
        contact_id = demo.create_person(self.sf, account_id, "Bench", "Rep", email, "Rep")
        queue_id = demo.ensure_queue(self.sf)
        self.registration_ids = [
            demo.create_registration(
                self.sf,
                account_id=account_id,
                contact_id=contact_id,
                owner_id=queue_id,
                customer=f"Customer {number} Ltd",
            )
            for number in range(deals)
        ]
        return email

    def portal(self, name: str, **settings: str) -> Server:
        """The portal under gunicorn with its production configuration file."""
        port = free_port()
        env = {
            "BIND": f"127.0.0.1:{port}",
            "LOCAL_ORG_URL": self.org_url,
            "LOCAL_ORG_PASSWORD": self.password,
            "LOCAL_ORG_CA_FILE": self.connector.ca_file,
            "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.mailbox.port),
            "LOG_LEVEL": "warning",
            **settings,
        }
        command = [GUNICORN, "-c", "gunicorn.conf.py"]
        if "WSGI_APP" in settings:
            command.append(settings["WSGI_APP"])
        return self._spawn(name, command, port, env)

    def sign_in(self, server: Server, email: str) -> requests.Session:
        """A browser-like session signed in to `server` through an emailed link."""
        session = Browser(server.url)
        testing.sign_in(session, self.mailbox, email)
        if "session" not in session.cookies:
            raise SystemExit(f"could not sign in to {server.name}")
        return session

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.mailbox.stop()


class Browser(requests.Session):
    """A requests session that takes paths, as Flask's test client does."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)
