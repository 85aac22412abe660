"""Run the portal locally: the local org with demo data, a mail catcher, and the portal."""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path

from werkzeug.serving import run_simple

from portal import jobs, logs
from portal.localidp import Identity, LocalIdP
from portal.mailcatcher import MailCatcher
from salesforce.localorg.__main__ import RunningOrg

VAR = Path("var")
JOBS_INTERVAL_SECONDS = 60


def _password() -> str:
    path = VAR / "localorg-password"
    if not path.exists():
        VAR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(16))
        path.chmod(0o600)
    return path.read_text().strip()


def _start_idp(port: int, portal_port: int, people) -> LocalIdP:
    """A local sign-in provider for the vendor's staff, set as the portal's SSO provider."""
    idp = LocalIdP(
        [Identity(email, f"{first} {last}") for first, last, email, *_ in people], port=port
    )
    client = idp.add_client(
        "portal-staff",
        secrets.token_urlsafe(24),
        [f"http://localhost:{portal_port}/sso/staff/callback"],
    )
    provider = idp.provider_config(client, "Vendor staff", "internal")
    os.environ["SSO_PROVIDERS"] = json.dumps({"staff": provider})
    return idp.start()


def setup_logging() -> None:
    """The portal's own log set-up, before anything logs: a second root handler (or the one
    Werkzeug adds when it finds none) would print every line twice."""
    logs.configure(json_lines=False)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="portal-dev", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument("--org-port", type=int, default=8443)
    parser.add_argument("--mail-port", type=int, default=8025)
    parser.add_argument("--idp-port", type=int, default=9000)
    args = parser.parse_args(argv)
    setup_logging()

    org = RunningOrg(VAR, args.org_port, _password()).start()
    mail = MailCatcher(args.mail_port, VAR / "mail", echo=True).start()
    os.environ.update(org.environment())
    os.environ.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(mail.port),
        PORTAL_BASE_URL=f"http://localhost:{args.port}",
    )

    from portal import create_app, routing
    from salesforce import demo
    from salesforce.connection import Connector

    sf = Connector.from_env().connect()
    for queue in routing.load().queues:
        demo.ensure_queue(sf, queue, queue.replace("_", " "))
    emails = demo.seed(sf)
    demo.seed_internal_users(sf)
    idp = _start_idp(args.idp_port, args.port, demo.INTERNAL_USERS)
    staff = [
        f"{email} ({', '.join((role, *regions))})"
        for _, _, email, role, regions, _ in demo.INTERNAL_USERS
    ]
    app = create_app()
    print(
        f"\nPartner portal: http://localhost:{args.port}\n"
        f"Sign in with one of these demo partners; the sign-in email appears in this terminal\n"
        f"(and as .eml files in {VAR / 'mail'}):\n  " + "\n  ".join(emails) + "\n"
        f"Vendor staff: tap 'Sign in with Vendor staff' (or open /sso/staff), then pick one of\n"
        f"these on the local sign-in provider ({idp.issuer}):\n  " + "\n  ".join(staff) + "\n"
        f"Local org (Salesforce REST API): {org.url}\n"
        f"Background jobs (expiry, changes made in Salesforce) run every "
        f"{JOBS_INTERVAL_SECONDS} s in this process.\n",
        flush=True,
    )
    jobs.run_every(app, JOBS_INTERVAL_SECONDS)
    run_simple("localhost", args.port, app, threaded=True)


if __name__ == "__main__":
    main()
