"""What makes the portal an installable app that works offline: the web app manifest, the
service worker served from the root scope, the offline page, and the session state the
phone's outbox asks for before it sends anything."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal import assets

bp = Blueprint("offline", __name__)

# Names the signed-in person on every page, so the worker keeps each person's offline
# copies apart and drops them when someone else (or nobody) is signed in.
PERSON_HEADER = "X-Portal-Person"
# The worker fetches the registration form ahead, so it opens offline; such a fetch is no
# person opening the form, and says so (browsers' own prefetches send the same header).
PREFETCH_HEADER = "Purpose"
WORKER_FILE = "sw.js"
# The manifest's large icons: the browser fetches them itself when it installs the app, and
# no page shows them, so the offline shell does not keep them.
INSTALL_ICONS = ("icons/icon-512.png", "icons/icon-maskable-512.png")
THEME_COLOUR = "#0b5cad"
BACKGROUND_COLOUR = "#f3f6f9"


@bp.get("/manifest.webmanifest")
def manifest():
    def icon(name: str, size: str, kind: str, purpose: str = "any") -> dict:
        src = url_for("static", filename=f"icons/{name}")
        return {"src": src, "sizes": size, "type": kind, "purpose": purpose}

    body = {
        "id": "/",
        "name": "Partner Portal",
        "short_name": "Deals",
        "description": "Register deals with the vendor and follow them from your phone.",
        "lang": "en",
        "start_url": url_for("deals.index"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            icon("icon-192.png", "192x192", "image/png"),
            icon("icon-512.png", "512x512", "image/png"),
            icon("icon-maskable-512.png", "512x512", "image/png", "maskable"),
            icon("icon.svg", "any", "image/svg+xml"),
        ],
        "shortcuts": [{"name": "Register a deal", "url": url_for("deals.new")}],
    }
    return Response(json.dumps(body, indent=1), mimetype="application/manifest+json")


@bp.get("/sw.js")
def service_worker():
    """The worker, stamped with the shell version and the files it keeps, so that any change
    to those files changes the worker's bytes and every phone sees an update."""
    shell = {"version": shell_version(), "assets": shell_assets()}
    source = assets.body(WORKER_FILE)
    response = Response(f"const SHELL = {json.dumps(shell)};\n{source}", mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def page():
    """What a navigation shows when neither the network nor a saved copy can answer.

    The worker keeps this page for everyone, so it shows nobody's details."""
    response = current_app.make_response(render_template("offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/session.json")
def session_state():
    """Who is signed in and a fresh CSRF token: what the outbox asks before it sends."""
    if current_user.is_authenticated:
        body = {"person": {"id": current_user.id}, "csrf_token": generate_csrf()}
    else:
        body = {"person": None}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_app_request
def name_the_person(response):
    if response.mimetype == "text/html":
        response.headers[PERSON_HEADER] = current_user.id if current_user.is_authenticated else ""
    return response


def is_prefetch() -> bool:
    """The request fetches a page ahead of need, not because a person opened it."""
    return request.headers.get(PREFETCH_HEADER, "").lower() == "prefetch"


def shell_assets() -> list[str]:
    """What the worker precaches: the offline page, the manifest and the static files
    pages use."""
    files = [
        url_for("static", filename=name)
        for name in assets.current().names()
        if name != WORKER_FILE and name not in INSTALL_ICONS
    ]
    return [url_for("offline.page"), url_for("offline.manifest"), *files]


def shell_version() -> str:
    """`SHELL_VERSION` when set, otherwise a digest of the files the shell is made of."""
    if current_app.config.get("SHELL_VERSION"):
        return current_app.config["SHELL_VERSION"]
    root = current_app.root_path
    if current_app.debug:
        return _digest.__wrapped__(root)
    return _digest(root)


# The templates the offline page is made of; the rest of the shell is the static folder.
SHELL_TEMPLATES = ("templates/offline.html", "templates/_app_head.html")


@cache
def _digest(root: str) -> str:
    base = Path(root)
    paths = [*sorted((base / "static").rglob("*")), *(base / name for name in SHELL_TEMPLATES)]
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(path.relative_to(base).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
