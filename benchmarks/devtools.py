"""DevTools access Playwright does not give directly."""

from __future__ import annotations

import json


class attach_to_service_worker:  # noqa: N801 - used like a function that returns a handle
    """Network events of the service worker, through the browser's DevTools session:
    Playwright gives no DevTools session for a worker, so the messages go by
    `Target.sendMessageToTarget` and come back as `Target.receivedMessageFromTarget`."""

    def __init__(self, browser, events: list):
        self.cdp = browser.new_browser_cdp_session()
        self.events = events
        workers = [
            target
            for target in self.cdp.send("Target.getTargets")["targetInfos"]
            if target["type"] == "service_worker"
        ]
        self.session = self.cdp.send(
            "Target.attachToTarget", {"targetId": workers[0]["targetId"], "flatten": False}
        )["sessionId"]
        self.cdp.on("Target.receivedMessageFromTarget", self._received)
        self._send("Network.enable")

    def _send(self, method: str) -> None:
        message = json.dumps({"id": 1, "method": method})
        self.cdp.send("Target.sendMessageToTarget", {"sessionId": self.session, "message": message})

    def _received(self, event) -> None:
        message = json.loads(event["message"])
        if message.get("method") in ("Network.responseReceived", "Network.loadingFinished"):
            self.events.append(("worker", message["method"], message["params"]))

    def poll(self) -> None:
        self.cdp.send("Target.getTargets")  # lets Playwright deliver pending events
