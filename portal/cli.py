"""Commands for people who run the portal: `flask --app portal invite ...`."""

import time

import click
from flask import Flask, current_app

from portal import invitations, jobs, roles
from salesforce.gateway import GatewayError
from salesforce.records import Scope


def register(app: Flask) -> None:
    @app.cli.command("run-jobs")
    @click.option("--once", is_flag=True, help="do one round and stop")
    @click.option("--every", default=60, show_default=True, help="seconds between rounds")
    def run_jobs(once, every):
        """Expire registrations and record status changes made in Salesforce."""
        runner = jobs.Jobs()
        while True:
            done = runner.run_once()
            click.echo(f"expired {done['expired']}, recorded {done['recorded']} changes")
            if once:
                return
            time.sleep(every)

    @app.cli.command("invite")
    @click.argument("email")
    @click.option("--account", "account_name", required=True, help="the partner company's name")
    @click.option("--role", type=click.Choice(roles.PARTNER_ROLES), default=roles.REP)
    @click.option("--first", "first_name", default="", help="first name")
    @click.option("--last", "last_name", required=True, help="last name")
    def invite(email, account_name, role, first_name, last_name):
        """Invite a partner person by email to join the portal and create a passkey."""
        gateway = current_app.extensions["gateway"]
        matches = [
            account_id
            for account_id, name in gateway.partner_accounts(Scope("Name = {}", (account_name,)))
            if name.lower() == account_name.lower()
        ]
        if len(matches) != 1:
            raise click.ClickException(
                f"no single partner company in the pilot is called {account_name!r}"
            )
        invitation = invitations.Invitation(email, first_name, last_name, matches[0], role)
        try:
            invitations.invite(invitation, invited_by="command line")
        except GatewayError as error:
            raise click.ClickException(f"Salesforce refused the invitation: {error}") from None
        click.echo(f"Invitation sent to {email}.")
