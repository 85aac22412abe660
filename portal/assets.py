"""The static files, served under names that carry a digest of their content.

`url_for("static", filename="app.css")` gives `/static/app.3f9c0a1b2d4e.css`; that name is
kept by browsers and the service worker for a year, and any change to the file is a new
name. Scripts refer to other static files by their plain names (`'/static/sw/store.js'`);
those references are rewritten to the digested names before the digest of the referring
script is taken, so a change to a module renames every script that imports it.

A plain name still answers, with `no-cache`, for what cannot know the digest. So does a
digested name of content that is no longer (or not yet) current: a page of another release
gets this release's file, revalidated on every use, never kept for a year under a name
that promises other bytes. (While processes of two releases serve side by side, a page of
one may ask another for its files; the service worker checks the ETag before it keeps one.)
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
DIGEST_LENGTH = 12
# The digest in a static file's name: `app.0123456789ab.css`.
DIGESTED_NAME = re.compile(rf"\.[0-9a-f]{{{DIGEST_LENGTH}}}(?=\.|$)")
# A quoted reference to a static file inside a script: '/static/sw/store.js'.
STATIC_REFERENCE = re.compile(r"""(['"])/static/([\w./-]+)\1""")
SCRIPT_SUFFIXES = (".js", ".mjs")


@dataclass(frozen=True)
class Asset:
    name: str  # the path under the static folder, with "/" separators
    body: bytes
    digest: str

    @property
    def digested_name(self) -> str:
        folder, _, file = self.name.rpartition("/")
        stem, dot, suffix = file.partition(".")
        renamed = f"{stem}.{self.digest}{dot}{suffix}" if dot else f"{stem}.{self.digest}"
        return f"{folder}/{renamed}" if folder else renamed

    @property
    def mimetype(self) -> str:
        kind, _ = mimetypes.guess_type(self.name)
        if self.name.endswith(SCRIPT_SUFFIXES):
            return "text/javascript"
        return kind or "application/octet-stream"


class CircularReference(ValueError):
    """Two static scripts refer to each other, so neither name can carry the other's digest."""


def build(folder: Path) -> dict[str, Asset]:
    """Every file under `folder`, by plain name, with references rewritten and digested."""
    sources = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    built: dict[str, Asset] = {}

    def resolve(name: str, referrers: tuple[str, ...]) -> Asset:
        if name in built:
            return built[name]
        if name in referrers:
            chain = " -> ".join((*referrers, name))
            raise CircularReference(f"static scripts refer to each other: {chain}")
        body = sources[name]
        if name.endswith(SCRIPT_SUFFIXES):

            def rename(match: re.Match) -> str:
                quote, target = match.groups()
                if target not in sources:
                    return match.group(0)
                digested = resolve(target, (*referrers, name)).digested_name
                return f"{quote}/static/{digested}{quote}"

            body = STATIC_REFERENCE.sub(rename, body.decode("utf-8")).encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:DIGEST_LENGTH]
        built[name] = Asset(name, body, digest)
        return built[name]

    for name in sources:
        resolve(name, ())
    return built


class Assets:
    """The built static files of an app; rebuilt when a file changes if `watch` is set."""

    def __init__(self, folder: Path, watch: bool = False):
        self.folder = folder
        self.watch = watch
        self._stamp: tuple = ()
        self._by_name: dict[str, Asset] = {}
        self._by_digested_name: dict[str, Asset] = {}
        self._refresh()

    def _files_stamp(self) -> tuple:
        return tuple(
            (path.as_posix(), status.st_mtime_ns, status.st_size)
            for path in sorted(self.folder.rglob("*"))
            if path.is_file() and (status := path.stat())
        )

    def _refresh(self) -> None:
        stamp = self._files_stamp()
        if stamp == self._stamp:
            return
        by_name = build(self.folder)
        self._by_digested_name = {asset.digested_name: asset for asset in by_name.values()}
        self._by_name = by_name
        self._stamp = stamp

    def _current(self) -> None:
        if self.watch:
            self._refresh()

    def get(self, name: str) -> Asset | None:
        """The asset under its plain name."""
        self._current()
        return self._by_name.get(name)

    def find(self, name: str) -> tuple[Asset | None, bool]:
        """The asset a request names, and whether the name is its current digested name.

        A name with another digest finds the current asset of the same plain name."""
        self._current()
        if name in self._by_digested_name:
            return self._by_digested_name[name], True
        if name in self._by_name:
            return self._by_name[name], False
        folder, _, file = name.rpartition("/")
        plain = DIGESTED_NAME.sub("", file, count=1)
        return self._by_name.get(f"{folder}/{plain}" if folder else plain), False

    def names(self) -> list[str]:
        self._current()
        return sorted(self._by_name)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, kept out of static files' answers: they set no cookie
    and do not vary by it, so one copy serves every request for them (the page's, and the
    service worker's when it keeps the offline shell) and any shared cache may keep it."""

    def save_session(self, app, session, response) -> None:
        if request.endpoint == "static" and response.status_code < 400:
            return  # an error page shows who is signed in, so it says it varies by cookie
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """Serves the static folder through `Assets`, digested names included in `url_for`.

    With `STATIC_DIGESTS` off, pages name the plain files and every answer says `no-cache`:
    how Flask serves static files by default, kept to measure what the digests save."""
    assets = Assets(Path(app.static_folder), watch=app.debug)
    app.extensions["assets"] = assets
    app.view_functions["static"] = serve
    app.session_interface = SessionInterface()

    @app.url_defaults
    def digested_names(endpoint: str, values: dict) -> None:
        if endpoint != "static" or not app.config["STATIC_DIGESTS"]:
            return
        asset = assets.get(values.get("filename", ""))
        if asset is not None:
            values["filename"] = asset.digested_name


def current() -> Assets:
    return current_app.extensions["assets"]


def serve(filename: str) -> Response:
    asset, digested = current().find(filename)
    if asset is None:
        abort(404)
    response = Response(asset.body, mimetype=asset.mimetype)
    immutable = digested and current_app.config["STATIC_DIGESTS"]
    response.headers["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
    response.set_etag(asset.digest)
    response = response.make_conditional(request)
    if response.status_code == 412:  # If-Match named other content: say so, keep nothing
        response = Response(status=412)
        response.headers["Cache-Control"] = "no-store"
    return response


def body(name: str) -> str:
    """The built text of a static file (its references to other files digested)."""
    asset = current().get(name)
    if asset is None:
        raise FileNotFoundError(name)
    return asset.body.decode("utf-8")
