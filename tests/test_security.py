"""Security headers on every kind of answer, cookies, the refusal to run production with
development settings, and what an attachment may be."""

from __future__ import annotations

import io
import re
import struct

import pytest
from simple_salesforce.format import format_soql

from conftest import portal_config
from portal import create_app, uploads
from portal.security import UnsafeConfiguration
from tests.test_registrations import NEW, form_data, registrations_with_key

PRODUCTION_SECRET = "a-long-random-production-secret-for-tests-only"
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "worker-src": "'self'",
    "manifest-src": "'self'",
}
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40)
HEIC = struct.pack(">I", 24) + b"ftypheic" + bytes(4) + b"mif1heic" + bytes(40)
HEIF_MIF1 = struct.pack(">I", 24) + b"ftypmif1" + bytes(4) + b"mif1heic" + bytes(40)
AVIF = struct.pack(">I", 24) + b"ftypavif" + bytes(4) + b"mif1avif" + bytes(40)


def csp_of(response) -> dict[str, str]:
    directives = [part.strip() for part in response.headers["Content-Security-Policy"].split(";")]
    return dict(directive.split(" ", 1) for directive in directives if directive)


def assert_protected(response):
    policy = csp_of(response)
    for directive, value in EXPECTED_CSP.items():
        assert policy[directive] == value, directive
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    permissions = response.headers["Permissions-Policy"]
    assert "publickey-credentials-get=(self)" in permissions
    assert "publickey-credentials-create=(self)" in permissions
    assert "camera=()" in permissions


@pytest.fixture
def production_app(connector, mailbox, queue_id):
    return create_app(
        portal_config(
            connector,
            mailbox,
            LOCAL_MODE=False,
            SECRET_KEY=PRODUCTION_SECRET,
            PORTAL_BASE_URL="https://portal.example",
            SESSION_COOKIE_SECURE=True,
            SESSION_COOKIE_NAME="__Host-session",
        )
    )


# -- headers --------------------------------------------------------------------------


def test_every_kind_of_answer_carries_the_security_headers(sign_in, partner, client):
    anonymous = [client.get("/sign-in"), client.get("/health/live"), client.get("/nowhere")]
    rep = sign_in(partner.rep)
    signed_in = [
        rep.get("/"),
        rep.get(NEW),
        rep.get("/account/passkeys"),
        rep.get("/static/icons/icon.svg"),
        rep.get("/registrations/a01Hs0000000zzzIAA", headers={"Accept": "application/json"}),
        rep.post("/passkeys/sign-in/options", headers={"Accept": "application/json"}),
    ]

    for response in anonymous + signed_in:
        assert_protected(response)
        assert "Strict-Transport-Security" not in response.headers  # local http


def test_static_scripts_and_styles_carry_the_headers_that_protect_a_subresource(client):
    for path in ("/static/app.js", "/static/app.css", "/static/icons/icon-192.png"):
        response = client.get(path)

        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
        # Document headers mean nothing on a script or a stylesheet; each costs bytes.
        assert "Content-Security-Policy" not in response.headers
        assert "Permissions-Policy" not in response.headers


def test_static_files_set_no_cookie_and_do_not_vary_by_it(sign_in, partner):
    rep = sign_in(partner.rep)
    page = rep.get("/")
    assert "Set-Cookie" in page.headers  # the session is refreshed by pages

    for path in ("/static/app.js", "/static/app.css", "/static/icons/icon.svg"):
        response = rep.get(path)

        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers
        assert "Cookie" not in response.headers.get("Vary", "")
    # A missing file's page shows who is signed in: it says it varies by cookie.
    missing = rep.get("/static/nothing-here.css")
    assert missing.status_code == 404
    assert "Cookie" in missing.headers["Vary"]


def test_pages_have_no_inline_scripts_or_styles(sign_in, partner):
    rep = sign_in(partner.rep)

    for path in ("/", NEW, "/account/passkeys", "/passkeys/offer"):
        page = rep.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert "<style" not in page, path
        assert not re.search(r"\sstyle=", page), path
        assert not re.search(r"\son[a-z]+=", page), path


def test_production_answers_carry_hsts_and_secure_cookies(production_app):
    client = production_app.test_client()

    page = client.get("/sign-in", base_url="https://portal.example")

    assert_protected(page)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Domain=" not in cookie


def test_local_cookies_are_http_only_and_same_site(client):
    cookie = client.get("/sign-in").headers["Set-Cookie"]

    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # http://localhost


# -- production settings ----------------------------------------------------------------


def test_production_refuses_the_default_secret_http_and_the_local_org(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "SALESFORCE_USERNAME", "SALESFORCE_CONSUMER_KEY", "MAIL_SERVER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("portal.logs.configure", lambda json_lines: None)
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_BASE_URL", "http://portal.example")

    with pytest.raises(UnsafeConfiguration) as refused:
        create_app()

    problems = " | ".join(refused.value.problems)
    assert "SECRET_KEY" in problems
    assert "PORTAL_BASE_URL must be the portal's https:// address" in problems
    assert "no Salesforce credentials" in problems
    assert "MAIL_SERVER must be set" in problems
    assert len(refused.value.problems) == 4


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"SECRET_KEY": "local-development-only"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"PORTAL_BASE_URL": "http://portal.example"}, "PORTAL_BASE_URL"),
        ({"SESSION_COOKIE_SECURE": False}, "Secure"),
    ],
)
def test_production_names_each_unsafe_setting(connector, mailbox, changes, problem):
    config = portal_config(
        connector,
        mailbox,
        LOCAL_MODE=False,
        SECRET_KEY=PRODUCTION_SECRET,
        PORTAL_BASE_URL="https://portal.example",
        SESSION_COOKIE_SECURE=True,
        ROUTING_CHECK_OWNERS=False,
    )

    with pytest.raises(UnsafeConfiguration) as refused:
        create_app({**config, **changes})

    assert [problem in text for text in refused.value.problems] == [True]


# -- request size -----------------------------------------------------------------------


class Untouchable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise AssertionError("the body was read")


@pytest.mark.parametrize(
    ("accept", "kind"), [("application/json", "application/json"), ("text/html", "text/html")]
)
def test_oversized_request_is_refused_before_its_body_is_read(app, sign_in, partner, accept, kind):
    rep = sign_in(partner.rep)
    declared = app.config["MAX_CONTENT_LENGTH"] + 1

    response = rep.post(
        NEW,
        data=b"",
        environ_overrides={"CONTENT_LENGTH": str(declared), "wsgi.input": Untouchable()},
        content_type="multipart/form-data; boundary=x",
        headers={"Accept": accept},
    )

    assert response.status_code == 413
    assert response.mimetype == kind
    if kind == "application/json":
        assert response.get_json()["error"] == "too-large"
    assert "at most 20 MB" in response.get_data(as_text=True)


def test_file_over_the_attachment_limit_gets_a_field_error(app, sign_in, partner, sf):
    app.config["MAX_ATTACHMENT_BYTES"] = 1024 * 1024
    rep = sign_in(partner.rep)
    data = form_data(rep, attachment=(io.BytesIO(PDF.ljust(1024 * 1024 + 1, b"0")), "big.pdf"))

    response = rep.post(NEW, data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    assert '<p class="error" id="attachment-error">Files can be at most 1 MB.</p>' in response.text
    assert 'value="Globex GmbH"' in response.text
    assert registrations_with_key(sf, data["submission_key"]) == []


# -- file types and names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (PDF, "pdf"),
        (PNG, "png"),
        (JPEG, "jpeg"),
        (HEIC, "heic"),
        (HEIF_MIF1, "heic"),
        (AVIF, None),
        (b"<html><script>alert(1)</script>", None),
        (b"MZ\x90\x00" + bytes(60), None),
        (b"PK\x03\x04" + bytes(60), None),
        (b"junk %PDF-1.4", None),
        (b"", None),
    ],
)
def test_file_kind_comes_from_its_first_bytes(head, kind):
    found = uploads.kind_of(head[: uploads.HEAD_BYTES])

    assert (found.name if found else None) == kind


@pytest.mark.parametrize(
    ("name", "kind", "cleaned"),
    [
        ("quote ä.pdf", "pdf", "quote ä.pdf"),
        ("quote a\u0308.pdf", "pdf", "quote ä.pdf"),  # NFC
        ("../../etc/passwd.pdf", "pdf", "passwd.pdf"),
        ("C:\\Users\\rita\\Desktop\\deal.PDF", "pdf", "deal.PDF"),
        ("invoice\u202efdp.exe", "pdf", "invoicefdp.exe.pdf"),
        ("a\x00b\x07c\x1b[31m.pdf", "pdf", "abc[31m.pdf"),
        ("photo.pdf", "png", "photo.png"),
        ("IMG_0001.HEIC", "heic", "IMG_0001.HEIC"),
        ("scan", "jpeg", "scan.jpg"),
        ("report.v2", "pdf", "report.v2.pdf"),
        (".pdf", "pdf", "pdf.pdf"),
        ("   ", "pdf", "attachment.pdf"),
        ("\u202e", "png", "attachment.png"),
        ("名刺 🚀.jpeg", "jpeg", "名刺 🚀.jpeg"),
        ("x" * 600 + ".pdf", "pdf", "x" * 251 + ".pdf"),
    ],
)
def test_filenames_are_made_safe_and_kept_readable(name, kind, cleaned):
    assert uploads.clean_filename(name, uploads.KINDS[kind]) == cleaned
    assert len(uploads.clean_filename(name, uploads.KINDS[kind])) <= uploads.MAX_FILENAME_LENGTH


def stored_files(sf, registration_id) -> list[dict]:
    statement = format_soql(
        "SELECT ContentDocument.LatestPublishedVersionId FROM ContentDocumentLink "
        "WHERE LinkedEntityId = {}",
        registration_id,
    )
    versions = [
        link["ContentDocument"]["LatestPublishedVersionId"]
        for link in sf.query(statement)["records"]
    ]
    return [sf.ContentVersion.get(version) for version in versions]


def test_file_is_judged_by_its_bytes_and_stored_under_a_clean_name(sign_in, partner, sf):
    rep = sign_in(partner.rep)
    data = form_data(rep, attachment=(io.BytesIO(PNG), "../site\u202egnp.pdf"))

    response = rep.post(NEW, data=data, content_type="multipart/form-data")

    assert response.status_code == 302
    [stored] = stored_files(sf, response.headers["Location"].rsplit("/", 1)[1])
    assert stored["PathOnClient"] == "sitegnp.png"
    assert stored["Title"] == "sitegnp"


@pytest.mark.parametrize(
    ("content", "name", "declared"),
    [
        (b"<html><script>alert(1)</script></html>", "quote.pdf", "application/pdf"),
        (b"MZ\x90\x00" + bytes(60), "proof.png", "image/png"),
        (AVIF, "photo.heic", "image/heic"),
    ],
)
def test_file_that_is_not_an_accepted_kind_is_refused_next_to_its_field(
    sign_in, partner, sf, content, name, declared
):
    rep = sign_in(partner.rep)
    data = form_data(rep, attachment=(io.BytesIO(content), name, declared))

    response = rep.post(NEW, data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    error = re.search(r'<p class="error" id="attachment-error">([^<]*)</p>', response.text)
    assert error.group(1) == "Attach a PDF, PNG, JPEG or HEIC file; this one is not."
    assert 'value="Globex GmbH"' in response.text
    assert registrations_with_key(sf, data["submission_key"]) == []


def test_accepted_kinds_come_from_configuration(app, sign_in, partner):
    app.config["ALLOWED_ATTACHMENT_TYPES"] = ["pdf"]
    rep = sign_in(partner.rep)
    data = form_data(rep, attachment=(io.BytesIO(PNG), "photo.png"))

    response = rep.post(NEW, data=data, content_type="multipart/form-data")

    assert response.status_code == 400
    assert "Attach a PDF file; this one is not." in response.text


def test_files_are_published_to_the_configured_site(app, sign_in, partner, sf, local_org):
    site_id = local_org.org.add_site("Partner Central")
    app.extensions["gateway"]._network_id = site_id
    rep = sign_in(partner.rep)
    data = form_data(rep, attachment=(io.BytesIO(PDF), "proof.pdf"))

    response = rep.post(NEW, data=data, content_type="multipart/form-data")

    [stored] = stored_files(sf, response.headers["Location"].rsplit("/", 1)[1])
    assert stored["NetworkId"] == site_id
