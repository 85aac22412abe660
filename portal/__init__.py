"""The partner portal: a Flask app that keeps every record in Salesforce."""

import logging

from flask import Flask

from portal import cli, config, errors, identity, sso, templating
from portal.extensions import csrf, limiter, login_manager, oauth
from salesforce.gateway import Gateway


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(config.from_env())
    app.config.from_mapping(overrides or {})

    register_extensions(app)
    register_blueprints(app)
    errors.register(app)
    templating.register(app)
    cli.register(app)
    configure_logging(app)
    return app


def register_extensions(app: Flask) -> None:
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    identity.init_app(app)
    oauth.init_app(app)
    sso.init_app(app)
    app.extensions["gateway"] = Gateway(app.config["SALESFORCE"])


def register_blueprints(app: Flask) -> None:
    from portal.views import auth, deals, invitations, passkeys, sso

    app.register_blueprint(auth.bp)
    app.register_blueprint(deals.bp)
    app.register_blueprint(passkeys.bp)
    app.register_blueprint(invitations.bp)
    app.register_blueprint(sso.bp)


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
