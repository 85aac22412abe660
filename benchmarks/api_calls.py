"""How many Salesforce API calls each partner action costs, counted by the local org.

Run: .venv/bin/python benchmarks/api_calls.py
"""

from __future__ import annotations

import io
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app, testing  # noqa: E402
from portal.mailcatcher import MailCatcher  # noqa: E402
from salesforce import demo  # noqa: E402
from salesforce.connection import Connector  # noqa: E402
from salesforce.localorg.__main__ import RunningOrg  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402

PASSWORD = "benchmark-password"
BASE_URL = "http://localhost"


def main() -> None:
    org = RunningOrg(Path(tempfile.mkdtemp()), 0, PASSWORD).start()
    mailbox = MailCatcher().start()
    connector = Connector(mode="local", url=org.url, password=PASSWORD, ca_file=org.ca_file)
    sf = connector.connect()
    queue_id = demo.ensure_queue(sf)
    account_id = demo.create_partner(sf, "Benchmark Partner")
    email = "bench.rep@partner.example"
    contact_id = demo.create_person(sf, account_id, "Bench", "Rep", email, "Rep")
    demo.create_registration(
        sf, account_id=account_id, contact_id=contact_id, owner_id=queue_id, customer="Warm Up"
    )
    app = create_app(
        {
            "SALESFORCE": connector,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": mailbox.port,
            "RATELIMIT_ENABLED": False,
            "SECRET_KEY": "benchmark",
            "PORTAL_BASE_URL": BASE_URL,
        }
    )
    client = app.test_client()
    rows = []

    def measure(action: str, run) -> object:
        before = org.org.usage.total
        result = run()
        rows.append((action, org.org.usage.total - before))
        return result

    seen = len(mailbox.messages)
    measure(
        "ask for a sign-in link", lambda: testing.submit_form(client, "/sign-in", {"email": email})
    )
    link = testing.path_of(testing.link_from(mailbox.wait_for(email, after=seen)))
    measure("open the emailed link and tap Sign in", lambda: testing.submit_form(client, link))
    measure("My Deals", lambda: client.get("/"))
    measure(
        "a signed-in page with no records (passkeys offer)", lambda: client.get("/passkeys/offer")
    )

    authenticator = SoftAuthenticator(BASE_URL)
    headers = {"X-CSRFToken": testing.csrf_token(client, "/"), "Accept": "application/json"}

    def add_passkey():
        options = client.post("/passkeys/new/options", headers=headers).get_json()
        credential = authenticator.create(options)
        return client.post("/passkeys/new", json={"credential": credential}, headers=headers)

    measure("add a passkey (options, then the answer)", add_passkey)
    passkey_client = app.test_client()
    headers = {
        "X-CSRFToken": testing.CSRF_PATTERN.search(passkey_client.get("/sign-in").text).group(1),
        "Accept": "application/json",
    }
    time.sleep(1.01)  # a challenge counts only when issued after the passkey's last use

    def passkey_sign_in():
        options = passkey_client.post("/passkeys/sign-in/options", headers=headers).get_json()
        credential = authenticator.get(options)
        return passkey_client.post(
            "/passkeys/sign-in", json={"credential": credential}, headers=headers
        )

    measure("sign in with a passkey (options, then the answer)", passkey_sign_in)
    # The queue is looked up once per process; warm it so the figures below are steady state.
    app.extensions["gateway"].queue_id(app.config["DEFAULT_QUEUE"])

    def registration(**extra):
        page = client.get("/registrations/new").text
        data = {
            "csrf_token": testing.CSRF_PATTERN.search(page).group(1),
            "submission_key": testing.KEY_PATTERN.search(page).group(1),
            "end_customer_name": "Benchmark Corp",
            "country": "DE",
            "deal_value": "100000",
            "product_line": "Analytics",
            "expected_close_date": (date.today() + timedelta(days=30)).isoformat(),
            **extra,
        }
        return data

    plain = registration()
    response = measure(
        "submit a registration without a file",
        lambda: client.post("/registrations/new", data=plain),
    )
    location = response.headers["Location"]
    with_file = registration(attachment=(io.BytesIO(b"%PDF-1.4 proof"), "proof.pdf"))
    measure(
        "submit a registration with a file",
        lambda: client.post(
            "/registrations/new", data=with_file, content_type="multipart/form-data"
        ),
    )
    measure(
        "submit the same form again (double tap)",
        lambda: client.post("/registrations/new", data=plain),
    )
    measure("registration page", lambda: client.get(location))
    measure("registration form", lambda: client.get("/registrations/new"))

    width = max(len(action) for action, _ in rows)
    print(
        f"Salesforce API calls per action ({platform.node()}, Python {platform.python_version()})"
    )
    print(f"{'action'.ljust(width)}  calls")
    for action, calls in rows:
        print(f"{action.ljust(width)}  {calls:>5}")
    mailbox.stop()
    org.stop()


if __name__ == "__main__":
    main()
