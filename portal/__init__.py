"""The partner portal: a Flask app that keeps every record in Salesforce."""

from flask import Flask

from portal import (
    assets,
    cli,
    config,
    errors,
    identity,
    logs,
    push,
    routing,
    security,
    sso,
    templating,
    timing,
)
from portal.extensions import compress, csrf, limiter, login_manager, oauth
from salesforce.gateway import Gateway
from salesforce.resilience import OrgLimits, Policy


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(config.from_env())
    app.config.from_mapping(overrides or {})

    configure_logging(app)
    register_extensions(app)
    register_routing(app)
    register_blueprints(app)
    errors.register(app)
    templating.register(app)
    cli.register(app)
    return app


def register_extensions(app: Flask) -> None:
    timing.init_app(app)
    assets.init_app(app)
    if app.config["COMPRESS_RESPONSES"]:
        compress.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    identity.init_app(app)
    oauth.init_app(app)
    sso.init_app(app)
    push.init_app(app)
    policy = Policy.from_config(app.config)
    limits = OrgLimits(policy)
    for name, client in (("gateway", "portal"), ("background_gateway", "portal-background")):
        # Follow-up work (notifications, conflict flags) uses a session of its own, so its
        # calls are told apart from the ones a person waits for.
        app.extensions[name] = Gateway(
            app.config["SALESFORCE"],
            policy,
            network_id=app.config.get("SALESFORCE_NETWORK_ID", ""),
            client_name=client,
            limits=limits,
        )


def register_routing(app: Flask) -> None:
    """Load the routing rules, and when configured check their owners exist in the org."""
    rules = routing.load(app.config["ROUTING_RULES_FILE"])
    app.extensions["routing"] = rules
    if app.config["ROUTING_CHECK_OWNERS"]:
        found = app.extensions["gateway"].owner_ids(rules.queues, rules.users)
        routing.check_owners(
            rules,
            {name for kind, name in found if kind == "queue"},
            {name for kind, name in found if kind == "user"},
        )


def register_blueprints(app: Flask) -> None:
    from portal.views import (
        auth,
        deals,
        health,
        invitations,
        metrics,
        notification_settings,
        offline,
        passkeys,
        replies,
        review,
        sso,
    )

    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(deals.bp)
    app.register_blueprint(passkeys.bp)
    app.register_blueprint(invitations.bp)
    app.register_blueprint(sso.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(replies.bp)
    app.register_blueprint(notification_settings.bp)
    app.register_blueprint(offline.bp)


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logs.configure(json_lines=not app.config["LOCAL_MODE"])
