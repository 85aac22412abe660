"""`portal-org`: put the portal's schema into a Salesforce org, and check an org before the
portal starts against it. Credentials come from the same SALESFORCE_* settings the portal
uses (see .env.example).

    portal-org package --out portal-metadata.zip   # the Metadata API package, to inspect
    portal-org deploy --sandbox                    # deploy it (add --check-only to validate)
    portal-org check                               # name everything the org lacks
    portal-org permission-set                      # rewrite the permission set after adding
                                                   # fields to salesforce/metadata/objects
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from portal import routing
from salesforce import deploy, orgcheck
from salesforce.connection import Connector


def _queues() -> dict[str, str]:
    """The queues the routing rules name: DeveloperName and a label made from it."""
    rules = routing.load(os.environ.get("ROUTING_RULES_FILE") or routing.DEFAULT_RULES)
    return {name: name.replace("_", " ") for name in sorted(rules.queues)}


def _connect(connector: Connector):
    if connector.mode == "local":
        sys.exit(
            "no Salesforce credentials: set SALESFORCE_USERNAME with SALESFORCE_PASSWORD, "
            "or SALESFORCE_CONSUMER_KEY and SALESFORCE_PRIVATE_KEY_FILE (see .env.example)"
        )
    return connector.connect()


def main(argv=None, connector: Connector | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portal-org", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    package = commands.add_parser("package", help="write the Metadata API package (a zip)")
    package.add_argument("--out", type=Path, default=Path("portal-metadata.zip"))
    deployment = commands.add_parser("deploy", help="deploy the package to the org")
    deployment.add_argument("--sandbox", action="store_true", help="the org is a sandbox")
    deployment.add_argument("--check-only", action="store_true", help="validate, change nothing")
    check = commands.add_parser("check", help="name everything the org lacks")
    check.add_argument(
        "--local", action="store_true", help="check the local org (LOCAL_ORG_URL) instead"
    )
    commands.add_parser("permission-set", help="rewrite the integration permission set file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    connector = connector or Connector.from_env()

    if args.command == "package":
        args.out.write_bytes(deploy.build_package(_queues()))
        print(f"wrote {args.out}")
        return 0
    if args.command == "permission-set":
        deploy.PERMISSION_SET_FILE.parent.mkdir(exist_ok=True)
        deploy.PERMISSION_SET_FILE.write_bytes(deploy.permission_set_xml())
        print(f"wrote {deploy.PERMISSION_SET_FILE}")
        return 0
    if args.command == "deploy":
        sf = _connect(connector)
        result = deploy.deploy(
            sf, deploy.build_package(_queues()), args.sandbox, check_only=args.check_only
        )
        for problem in result.problems:
            print(f"  {problem}")
        print(f"deployment {result.state}")
        return 0 if result.succeeded else 1

    sf = connector.connect() if args.local else _connect(connector)
    sites = bool(os.environ.get("SALESFORCE_NETWORK_ID"))
    found = orgcheck.problems(sf, set(_queues()), sites=sites)
    for problem in found:
        print(f"missing: {problem}")
    print("the org has everything the portal needs" if not found else f"{len(found)} missing")
    return 1 if found else 0


def run() -> None:
    sys.exit(main())
