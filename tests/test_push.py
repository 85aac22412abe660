"""Web Push: a partner's phone subscribes, and decisions reach it encrypted and signed."""

import base64
import json
import os
import threading

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from simple_salesforce.format import format_soql
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal import background
from tests.test_workflow import act, submit


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class PushService:
    """A push service on loopback that decrypts what it receives, like the phone would."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.received: list[dict] = []
        self.answer_status = 201
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}/push/phone-1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def subscription(self) -> dict:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(public), "auth": b64(self.auth)}}

    def app(self, environ, start_response):
        request = Request(environ)
        plain = http_ece.decrypt(
            request.get_data(), private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        self.received.append(
            {
                "message": json.loads(plain),
                "authorization": request.headers.get("Authorization", ""),
                "ttl": request.headers.get("TTL"),
            }
        )
        return Response(status=self.answer_status)(environ, start_response)


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.server.shutdown()


def subscribe(client, subscription):
    page = client.get("/account/notifications").text
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    return client.post(
        "/account/notifications/phone",
        json={"subscription": subscription},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )


def test_decision_reaches_the_subscribed_phone(sign_in, partner, make_internal, push_service, sf):
    rep = sign_in(partner.rep)
    assert subscribe(rep, push_service.subscription()).status_code == 200
    assert sf.Contact.get(partner.rep.id)["Portal_Push_Notifications__c"] is True
    assert "1 phone set up" in rep.get("/account/notifications").text
    registration_id = submit(rep, customer="Pushco")
    _, reviewer = make_internal("Approver", queues=["EMEA_Desk"])

    act(reviewer, registration_id, "needs-info", question="Budget owner?")
    act(reviewer, registration_id, "reject", reason_code="Other")
    background.wait_until_idle()

    messages = [item["message"] for item in push_service.received]
    assert messages[0]["title"] == "The channel team has a question"
    assert messages[0]["body"] == "Budget owner?"
    assert messages[0]["link"].endswith(f"/registrations/{registration_id}")
    assert messages[1]["title"] == "Not approved: Pushco"
    assert all(item["authorization"].startswith("vapid t=") for item in push_service.received)


def test_phone_is_not_pushed_when_push_is_switched_off(
    sign_in, partner, make_internal, push_service
):
    rep = sign_in(partner.rep)
    subscribe(rep, push_service.subscription())
    page = rep.get("/account/notifications").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    rep.post("/account/notifications", data={"csrf_token": token, "email": "y"})
    registration_id = submit(rep, customer="Quietco")
    _, reviewer = make_internal("Approver", queues=["EMEA_Desk"])

    act(reviewer, registration_id, "approve")
    background.wait_until_idle()

    assert push_service.received == []


def test_a_gone_phone_is_forgotten(sign_in, partner, make_internal, push_service, sf):
    rep = sign_in(partner.rep)
    subscribe(rep, push_service.subscription())
    push_service.answer_status = 410
    registration_id = submit(rep, customer="Goneco")
    _, reviewer = make_internal("Approver", queues=["EMEA_Desk"])

    act(reviewer, registration_id, "approve")
    background.wait_until_idle()

    statement = format_soql(
        "SELECT COUNT() FROM Portal_Push_Subscription__c WHERE Contact__c = {}", partner.rep.id
    )
    assert sf.query(statement)["totalSize"] == 0


@pytest.mark.parametrize(
    "subscription",
    [
        None,
        {},
        {"endpoint": "https://push.example/x"},
        {"endpoint": "ftp://x", "keys": {"p256dh": "a" * 40, "auth": "b" * 16}},
        {"endpoint": "https://push.example/x", "keys": {"p256dh": "<script>", "auth": "b" * 16}},
        {
            "endpoint": "https://push.example/" + "x" * 3000,
            "keys": {"p256dh": "a" * 40, "auth": "b" * 16},
        },
    ],
)
def test_bad_subscriptions_are_refused(sign_in, partner, subscription):
    answer = subscribe(sign_in(partner.rep), subscription)
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "invalid-subscription"
