"""Health checks for load balancers and monitoring: is the process up, does Salesforce answer,
how much of the daily API allowance is used. No sign-in; nothing about credentials."""

from flask import Blueprint, current_app, jsonify

from portal.extensions import limiter

bp = Blueprint("health", __name__)


@bp.get("/health")
@limiter.exempt
def health():
    gateway = current_app.extensions["gateway"]
    salesforce = gateway.health(current_app.config["HEALTH_CHECK_SECONDS"])

    usage = salesforce["api_usage"]
    if not salesforce["reachable"]:
        status = "unavailable"
    elif salesforce["problem"] or (usage and usage["percent"] >= usage["warning_percent"]):
        status = "degraded"
    else:
        status = "ok"
    # A used-up allowance is not cured by taking this process out of rotation: the pages
    # explain it, so only an unreachable org answers 503.
    return jsonify(status=status, salesforce=salesforce), 503 if status == "unavailable" else 200


@bp.get("/health/live")
@limiter.exempt
def live():
    """The process answers requests; Salesforce is not asked."""
    return jsonify(status="ok")
