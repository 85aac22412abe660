"""Fixtures shared by the unit and browser tests: a real local org over https, a real SMTP
server on loopback, the portal app, and factories for partners and their people."""

from __future__ import annotations

import itertools
import shutil
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from portal import background, create_app, routing, testing
from portal.identity import Person as Person_
from portal.localidp import LocalIdP
from portal.mailcatcher import MailCatcher
from portal.testing import link_from
from salesforce import demo
from salesforce.connection import Connector
from salesforce.localorg.__main__ import QuietHandler, RunningOrg

ORG_PASSWORD = "local-test-password"
SYSTEM_CHROMIUM = "/usr/bin/chromium"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def local_org(tmp_path_factory) -> RunningOrg:
    running = RunningOrg(tmp_path_factory.mktemp("org"), 0, ORG_PASSWORD).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def connector(local_org) -> Connector:
    return Connector(
        mode="local", url=local_org.url, password=ORG_PASSWORD, ca_file=local_org.ca_file
    )


@pytest.fixture(scope="session")
def sf(connector):
    """A simple-salesforce client of the tests' own, to set up and read back records."""
    return connector.connect()


@pytest.fixture(scope="session")
def queue_id(sf) -> str:
    """The default queue; every queue the shipped routing rules name exists too."""
    for name in routing.load().queues:
        demo.ensure_queue(sf, name, name.replace("_", " "))
    return demo.ensure_queue(sf)


@pytest.fixture(scope="session")
def mailbox() -> MailCatcher:
    catcher = MailCatcher().start()
    yield catcher
    background.wait_until_idle()
    catcher.stop()


SSO_CLIENT_SECRET = "local-test-sso-secret"


@pytest.fixture(scope="session")
def local_idp() -> LocalIdP:
    """A real OpenID provider on loopback with two clients: `staff` for the vendor's people
    and `partner-sso` for a partner company's own sign-in. Tests add the people it knows."""
    idp = LocalIdP()
    idp.add_client("portal-staff", SSO_CLIENT_SECRET, ["http://localhost/sso/staff/callback"])
    idp.add_client(
        "portal-partner", SSO_CLIENT_SECRET, ["http://localhost/sso/partner-sso/callback"]
    )
    yield idp.start()
    idp.stop()


def sso_providers(idp: LocalIdP) -> dict:
    """The portal's `SSO_PROVIDERS` for `local_idp`."""
    return {
        "staff": idp.provider_config(idp.clients["portal-staff"], "Vendor staff", "internal"),
        "partner-sso": idp.provider_config(idp.clients["portal-partner"], "Partner Co", "partner"),
    }


@dataclass
class Person:
    id: str
    email: str
    name: str


@dataclass
class Partner:
    account_id: str
    name: str
    rep: Person
    manager: Person
    colleague: Person


@pytest.fixture
def make_partner(sf, queue_id):
    """Creates a partner company with a rep, a second rep and a manager, all able to sign in."""

    def make(enabled: bool = True, status: str = "Active") -> Partner:
        number = next(_numbers)
        name = f"Partner {number} Ltd"
        account_id = demo.create_partner(sf, name, "EMEA", enabled)
        people = []
        for first, role in (("Rhea", "Rep"), ("Mara", "Manager"), ("Cole", "Rep")):
            email = f"{first.lower()}.{number}@partner{number}.example"
            contact_id = demo.create_person(
                sf, account_id, first, f"Test{number}", email, role, status
            )
            people.append(Person(contact_id, email, f"{first} Test{number}"))
        return Partner(account_id, name, *people)

    return make


@pytest.fixture
def make_internal(app, sf):
    """Creates a vendor person in the org and a test client signed in as them.

    The session is started the way single sign-on starts it, after the provider's answer
    (tests/test_sso.py covers the provider itself)."""

    def make(role: str, regions=(), queues=(), name: str = "") -> tuple[str, object]:
        number = next(_numbers)
        email = f"{role.lower().replace(' ', '.')}.{number}@vendor.example"
        user_id = demo.create_internal_user(
            sf, "Vera", name or f"{role} {number}", email, role, regions
        )
        for queue in queues:
            demo.add_to_queue(sf, demo.ensure_queue(sf, queue), user_id)
        person = Person_.from_user(app.extensions["gateway"].internal_user(user_id), "sso")
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = person.id
            session["person"] = asdict(person)
        return user_id, client

    return make


@pytest.fixture
def partner(make_partner) -> Partner:
    return make_partner()


def portal_config(connector, mailbox, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SALESFORCE": connector,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mailbox.port,
        "RATELIMIT_ENABLED": False,
        "ROUTING_CHECK_OWNERS": False,
        "BACKGROUND_RETRY_SECONDS": [0.05, 0.2],
        # Counts of forms opened are written only when a test flushes them: no write of
        # theirs may land in another test's measurements or injected faults.
        "FORM_COUNTS_FLUSH_SECONDS": None,
        **extra,
    }


@pytest.fixture
def app(connector, mailbox, queue_id, local_idp):
    return create_app(
        portal_config(
            connector,
            mailbox,
            PORTAL_BASE_URL="http://localhost",
            SSO_PROVIDERS=sso_providers(local_idp),
        )
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api_calls(local_org):
    """Counts the API requests a person's action costs: `with api_calls() as calls`.

    Only the portal's request path is counted (client `portal`); follow-up work that runs
    after the answer (notifications, conflict flags) has a client name of its own."""
    usage = local_org.org.usage

    class Counting:
        def __init__(self, everyone: bool = False):
            self.everyone = everyone

        def served(self) -> int:
            return usage.total if self.everyone else usage.by_client["portal"]

        def __enter__(self):
            background.wait_until_idle()
            self.start = self.served()
            return self

        def __exit__(self, *exc):
            self.count = self.served() - self.start

    return Counting


@pytest.fixture
def sign_in(app, client, mailbox):
    """Signs `person` in through the emailed link, as the browser would; the first person
    in the `client` fixture's browser, each further one in a browser of their own."""
    used = []

    def sign_in_as(person: Person):
        browser = app.test_client() if used else client
        used.append(person)
        testing.sign_in(browser, mailbox, person.email)
        return browser

    return sign_in_as


# -- browser tests ------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(connector, mailbox, queue_id, local_idp):
    """The portal served over http on localhost, for the browser."""
    server = make_server("localhost", 0, None, threaded=True, request_handler=QuietHandler)
    base_url = f"http://localhost:{server.server_port}"
    server.app = create_app(
        portal_config(
            connector, mailbox, PORTAL_BASE_URL=base_url, SSO_PROVIDERS=sso_providers(local_idp)
        )
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def live_portal(live_server) -> str:
    return f"http://localhost:{live_server.server_port}"


@pytest.fixture(scope="session")
def live_app(live_server):
    """The app behind `live_portal`, for its commands and configuration."""
    return live_server.app


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Use Debian's Chromium where it is installed; Playwright's own browser elsewhere."""
    if Path(SYSTEM_CHROMIUM).exists() or shutil.which("chromium"):
        path = SYSTEM_CHROMIUM if Path(SYSTEM_CHROMIUM).exists() else shutil.which("chromium")
        return {**browser_type_launch_args, "executable_path": path}
    return browser_type_launch_args


PHONES = ("Pixel 7", "iPhone 13")


@pytest.fixture(params=PHONES)
def phone(request, playwright, browser, live_portal):
    """A fresh browser context on a phone profile, pointed at the running portal."""
    device = {
        k: v for k, v in playwright.devices[request.param].items() if k != "default_browser_type"
    }
    context = browser.new_context(**device, base_url=live_portal)
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def sign_in_page(mailbox):
    """Signs `person` in through the emailed link in a new page of `context`."""

    def sign_in(context, person):
        page = context.new_page()
        page.goto("/sign-in")
        page.get_by_label("Work email").fill(person.email)
        seen = len(mailbox.messages)
        page.get_by_role("button", name="Email me a sign-in link").click()
        page.goto(link_from(mailbox.wait_for(person.email, after=seen)))
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Not now").click()
        expect(page.get_by_role("heading", name="My deals")).to_be_visible()
        return page

    return sign_in
