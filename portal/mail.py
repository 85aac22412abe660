"""Email to partners, through the configured SMTP server."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from flask import current_app, render_template

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10


class MailFailed(Exception):
    """The message could not be handed to the SMTP server."""


def send(to: str, subject: str, template: str, **context) -> None:
    """Send `template` (`mail/<template>.txt` and `.html`) to `to`."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(render_template(f"mail/{template}.txt", **context))
    message.add_alternative(render_template(f"mail/{template}.html", **context), subtype="html")

    if not config["MAIL_SERVER"]:
        if not config["LOCAL_MODE"]:
            raise MailFailed("no MAIL_SERVER configured")
        # Local development without a mail catcher: the message goes to the console.
        print(message.get_body(("plain",)).get_content(), flush=True)
        return
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_SECONDS
        ) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD", ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.error("mail %r not sent: %s", subject, type(error).__name__)
        raise MailFailed(subject) from error
