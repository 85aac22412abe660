"""Run the portal locally: the local org with demo data, a mail catcher, and the portal."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
from pathlib import Path

from werkzeug.serving import run_simple

from portal.mailcatcher import MailCatcher
from salesforce.localorg.__main__ import RunningOrg

VAR = Path("var")


def _password() -> str:
    path = VAR / "localorg-password"
    if not path.exists():
        VAR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(16))
        path.chmod(0o600)
    return path.read_text().strip()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="portal-dev", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument("--org-port", type=int, default=8443)
    parser.add_argument("--mail-port", type=int, default=8025)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")

    org = RunningOrg(VAR, args.org_port, _password()).start()
    mail = MailCatcher(args.mail_port, VAR / "mail", echo=True).start()
    os.environ.update(org.environment())
    os.environ.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(mail.port),
        PORTAL_BASE_URL=f"http://localhost:{args.port}",
    )

    from portal import create_app
    from salesforce import demo
    from salesforce.connection import Connector

    emails = demo.seed(Connector.from_env().connect())
    app = create_app()
    print(
        f"\nPartner portal: http://localhost:{args.port}\n"
        f"Sign in with one of these demo partners; the sign-in email appears in this terminal\n"
        f"(and as .eml files in {VAR / 'mail'}):\n  " + "\n  ".join(emails) + "\n"
        f"Local org (Salesforce REST API): {org.url}\n",
        flush=True,
    )
    run_simple("localhost", args.port, app, threaded=True)


if __name__ == "__main__":
    main()
