"""How many Salesforce API calls each partner action costs, counted by the local org.

Run: .venv/bin/python benchmarks/api_calls.py
"""

from __future__ import annotations

import io
import platform
import re
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import background, create_app, routing, testing  # noqa: E402
from portal.identity import Person  # noqa: E402
from portal.mailcatcher import MailCatcher  # noqa: E402
from salesforce import demo  # noqa: E402
from salesforce.connection import Connector  # noqa: E402
from salesforce.localorg.__main__ import RunningOrg  # noqa: E402
from tests.softauthn import SoftAuthenticator  # noqa: E402

PASSWORD = "benchmark-password"
BASE_URL = "http://localhost"


def hidden_fields(page: str, action: str) -> dict:
    """The hidden fields of the form on `page` that posts to `action`."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    pairs = re.findall(r'<input[^>]*name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"', form[1])
    return dict(pairs)


def measure_all() -> list[tuple[str, int]]:
    """(action, Salesforce API calls) for each action, in the order a person takes them."""
    org = RunningOrg(Path(tempfile.mkdtemp()), 0, PASSWORD).start()
    mailbox = MailCatcher().start()
    connector = Connector(mode="local", url=org.url, password=PASSWORD, ca_file=org.ca_file)
    sf = connector.connect()
    queue_id = demo.ensure_queue(sf)
    for name in routing.load().queues:
        demo.ensure_queue(sf, name, name.replace("_", " "))
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

    usage = org.org.usage

    def measure(action: str, run) -> object:
        """Calls made while the person waits; follow-up work has its own client name."""
        background.wait_until_idle()
        before = usage.by_client["portal"]
        result = run()
        rows.append((action, usage.by_client["portal"] - before))
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
    # Routing owners are read once, when the portal starts (ROUTING_CHECK_OWNERS).

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

    # The vendor's side: an approver in the queue the registration was routed to.
    registration_id = location.rsplit("/", 1)[1]
    approver_id = demo.create_internal_user(
        sf, "Bea", "Approver", "bea.approver@vendor.example", "Approver"
    )
    demo.add_to_queue(sf, demo.ensure_queue(sf, "EMEA_Desk"), approver_id)
    approver = app.test_client()
    person = Person.from_user(app.extensions["gateway"].internal_user(approver_id), "sso")
    with approver.session_transaction() as session:
        session["_user_id"] = person.id
        session["person"] = asdict(person)
    measure("review queue", lambda: approver.get("/review/"))
    review = measure("review page", lambda: approver.get(f"/review/{registration_id}"))

    def post_form(client, page: str, action: str, **data):
        fields = hidden_fields(page, action)
        return client.post(action, data={**fields, **data}, content_type="multipart/form-data")

    measure(
        "a decision (ask for information)",
        lambda: post_form(
            approver, review.text, f"/review/{registration_id}/needs-info", question="Budget?"
        ),
    )
    page = client.get(location).text
    measure(
        "answer the question, with a file",
        lambda: post_form(
            client,
            page,
            f"/registrations/{registration_id}/answer",
            answer="Approved in Q3.",
            attachment=(io.BytesIO(b"%PDF-1.4 budget"), "budget.pdf"),
        ),
    )
    review = approver.get(f"/review/{registration_id}")
    measure(
        "a decision (approve)",
        lambda: post_form(approver, review.text, f"/review/{registration_id}/approve"),
    )

    background.wait_until_idle()
    mailbox.stop()
    org.stop()
    return rows


def main() -> None:
    rows = measure_all()
    width = max(len(action) for action, _ in rows)
    print(
        f"Salesforce API calls per action ({platform.node()}, Python {platform.python_version()})"
    )
    print(f"{'action'.ljust(width)}  calls")
    for action, calls in rows:
        print(f"{action.ljust(width)}  {calls:>5}")


if __name__ == "__main__":
    main()
