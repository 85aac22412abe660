"""A real SMTP server on loopback that keeps every message, for local use and tests."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass
class CaughtMail:
    to: str
    subject: str
    text: str
    html: str
    raw: bytes


def _free_port() -> int:
    # aiosmtpd connects to its own port to check it started, so port 0 will not do.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, catcher: MailCatcher):
        self.catcher = catcher

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.catcher.keep(envelope.content)
        return "250 Message accepted for delivery"


# aiosmtpd logs every SMTP command at INFO; only its problems are worth reading here.
logging.getLogger("mail.log").setLevel(logging.WARNING)


class MailCatcher:
    """Accepts mail on `localhost:port`, keeps it in memory and optionally as .eml files."""

    def __init__(self, port: int = 0, directory: Path | None = None, echo: bool = False):
        self.messages: list[CaughtMail] = []
        self.directory = directory
        self.echo = echo
        self._arrived = threading.Condition()
        self.port = port or _free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> MailCatcher:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def keep(self, raw: bytes) -> None:
        message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        caught = CaughtMail(
            to=message["To"],
            subject=message["Subject"],
            text=text.get_content() if text else "",
            html=html.get_content() if html else "",
            raw=raw,
        )
        with self._arrived:
            self.messages.append(caught)
            if self.directory:
                self.directory.mkdir(parents=True, exist_ok=True)
                (self.directory / f"{len(self.messages):04d}.eml").write_bytes(raw)
            self._arrived.notify_all()
        if self.echo:
            print(f"\n--- mail to {caught.to}: {caught.subject}\n{caught.text}---", flush=True)

    def wait_for(self, to: str, timeout: float = 10.0, after: int = 0) -> CaughtMail:
        """The first message to `to` beyond the first `after` messages, waiting if needed."""

        def found():
            for caught in self.messages[after:]:
                if to.lower() in (caught.to or "").lower():
                    return caught
            return None

        with self._arrived:
            if not self._arrived.wait_for(found, timeout):
                raise TimeoutError(f"no mail to {to} within {timeout} s")
            return found()
