"""Driving the portal with Flask's test client the way a browser would: for tests and
benchmarks."""

from __future__ import annotations

import re

CSRF_PATTERN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
LINK_PATTERN = re.compile(r"https?://\S+/sign-in/[A-Za-z0-9_-]+")
KEY_PATTERN = re.compile(r'name="submission_key" type="hidden" value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    """The CSRF token of the form at `path`."""
    return CSRF_PATTERN.search(client.get(path).text).group(1)


def submit_form(client, path: str, data: dict | None = None, **kwargs):
    """POST `data` to the form at `path` with its CSRF token."""
    return client.post(
        path, data={"csrf_token": csrf_token(client, path), **(data or {})}, **kwargs
    )


def link_from(mail) -> str:
    """The sign-in link in an email."""
    return LINK_PATTERN.search(mail.text).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def sign_in(client, mailbox, email: str):
    """Ask for a sign-in link for `email`, then use it; the client is signed in after."""
    seen = len(mailbox.messages)
    submit_form(client, "/sign-in", {"email": email})
    link = link_from(mailbox.wait_for(email, after=seen))
    return submit_form(client, path_of(link))
