"""Web Push to partners' phones (VAPID, through pywebpush).

The portal signs each message with its VAPID key; the push service delivers it to
the phone, encrypted for that phone's subscription. A subscription the push service
says is gone (404 or 410) is forgotten.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, current_app
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

log = logging.getLogger(__name__)

PUSH_TIMEOUT_SECONDS = 10
MESSAGE_TTL_SECONDS = 24 * 60 * 60


def init_app(app: Flask) -> None:
    """Load the VAPID key from configuration; in local mode, make one on first use."""
    # An environment variable often carries the PEM's line breaks as the two characters \n.
    pem = app.config.get("VAPID_PRIVATE_KEY", "").replace("\\n", "\n")
    if not pem and app.config["LOCAL_MODE"]:
        pem = _local_key(Path(app.config.get("VAR_DIR", "var")))
    if pem:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        app.extensions["vapid"] = Vapid02(private_key=key)


def _local_key(directory: Path) -> str:
    path = directory / "vapid-private.pem"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
    return path.read_text()


def public_key() -> str:
    """The application server key the browser subscribes with (base64url), or ''."""
    vapid = current_app.extensions.get("vapid")
    if vapid is None:
        return ""
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def send(contact_id: str, title: str, body: str, link: str) -> int:
    """Push a notification to every phone of `contact_id` that asked for it; how many."""
    vapid = current_app.extensions.get("vapid")
    if vapid is None:
        return 0
    gateway = current_app.extensions["background_gateway"]
    payload = json.dumps({"title": title, "body": body, "link": link})
    sent = 0
    for subscription in gateway.push_subscriptions(contact_id):
        info = {
            "endpoint": subscription["Endpoint__c"],
            "keys": {
                "p256dh": subscription["Public_Key__c"],
                "auth": subscription["Auth_Secret__c"],
            },
        }
        try:
            webpush(
                info,
                payload,
                vapid_private_key=vapid,
                vapid_claims={"sub": current_app.config["VAPID_SUBJECT"]},
                timeout=PUSH_TIMEOUT_SECONDS,
                ttl=MESSAGE_TTL_SECONDS,
            )
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            if status in (404, 410):
                gateway.forget_push_subscription(subscription["Id"])
                log.info("push subscription %s is gone; forgotten", subscription["Id"])
                continue
            raise
        sent += 1
        log.info("push notification sent to contact %s", contact_id)
    return sent
