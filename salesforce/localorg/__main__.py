"""`localorg serve` starts the local org; `localorg seed-demo` fills it with demo data."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from salesforce import schema
from salesforce.localorg import certs
from salesforce.localorg.server import LocalOrg, create_app
from salesforce.localorg.store import Store

DEFAULT_PORT = 8443
DEFAULT_DIR = Path("var")


class QuietHandler(WSGIRequestHandler):
    """Serves requests without a log line each: the org's counters say what was called."""

    def log_request(self, code="-", size="-"):
        pass


class RunningOrg:
    """A local org served over TLS on loopback, in a background thread."""

    def __init__(
        self,
        directory: Path,
        port: int = 0,
        password: str | None = None,
        database: str | None = None,
    ):
        self.password = password or secrets.token_urlsafe(16)
        cert, key = certs.ensure(directory)
        self.ca_file = str(cert)
        store = Store(schema.load(), database or str(directory / "localorg.sqlite3"))
        self.org = LocalOrg(store, self.password)
        self.server = make_server(
            "localhost",
            port,
            create_app(self.org),
            threaded=True,
            ssl_context=(str(cert), str(key)),
            request_handler=QuietHandler,
        )
        self.port = self.server.server_port
        self.url = f"https://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> RunningOrg:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def environment(self) -> dict[str, str]:
        """What the portal's process needs to reach this org."""
        return {
            "LOCAL_ORG_URL": self.url,
            "LOCAL_ORG_PASSWORD": self.password,
            "LOCAL_ORG_CA_FILE": self.ca_file,
        }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="localorg", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the local org over https on loopback")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help="where the database and certificate live"
    )
    seed = commands.add_parser("seed-demo", help="create demo partners, people and registrations")
    seed.add_argument(
        "--url", default=os.environ.get("LOCAL_ORG_URL", f"https://localhost:{DEFAULT_PORT}")
    )
    seed.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)

    if args.command == "serve":
        running = RunningOrg(args.dir, args.port, os.environ.get("LOCAL_ORG_PASSWORD"))
        print(
            f"local org at {running.url} (integration password in LOCAL_ORG_PASSWORD)", flush=True
        )
        running.server.serve_forever()
    else:
        from salesforce import demo
        from salesforce.connection import Connector

        connector = Connector(
            mode="local",
            url=args.url,
            password=os.environ.get("LOCAL_ORG_PASSWORD", ""),
            ca_file=str(args.dir / "localorg-cert.pem"),
        )
        for email in demo.seed(connector.connect()):
            print(email)


if __name__ == "__main__":
    main()
