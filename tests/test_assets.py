"""Static files under digested names, kept for a year, and answers compressed."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from conftest import portal_config
from portal import assets, create_app
from tests.test_registrations import NEW

DIGESTED = re.compile(r"/static/(?P<name>[\w/-]+)\.(?P<digest>[0-9a-f]{12})\.(?P<suffix>\w+)")


def without_tokens(page: bytes) -> bytes:
    return re.sub(rb'(value|content)="[^"]*"', b"", page)


def static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_name_static_files_by_their_digest_and_those_are_kept_a_year(sign_in, partner):
    rep = sign_in(partner.rep)

    urls = static_urls(rep.get("/").text)

    assert len(urls) >= 4  # stylesheet, scripts, icons
    for url in urls:
        assert DIGESTED.fullmatch(url), url
        response = rep.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_a_digested_file_is_the_file_itself(client, app):
    page = client.get("/sign-in").text
    stylesheet = next(url for url in static_urls(page) if url.endswith(".css"))

    served = client.get(stylesheet).data

    assert served == (Path(app.static_folder) / "app.css").read_bytes()


def test_a_script_names_the_modules_it_imports_by_their_digests(client):
    worker = client.get("/sw.js").text
    imported = re.findall(r"from '(/static/[^']+)'", worker)

    assert imported
    for url in imported:
        assert DIGESTED.fullmatch(url), url
        assert client.get(url).status_code == 200


def test_another_releases_digest_gets_this_releases_file_revalidated_not_kept(client, app):
    current = (Path(app.static_folder) / "app.css").read_bytes()

    other = client.get("/static/app.000000000000.css")

    assert other.status_code == 200
    assert other.data == current
    assert other.headers["Cache-Control"] == "no-cache"
    # The ETag names the content served, so the service worker can tell it is not the
    # file the name promised.
    assert other.headers["ETag"] != '"000000000000"'
    assert client.get("/static/sw/store.000000000000.js").status_code == 200
    assert client.get("/static/nothing-here.000000000000.css").status_code == 404
    assert client.get("/static/nothing-here.css").status_code == 404


def test_a_failed_if_match_is_a_bare_412_kept_nowhere(client):
    url = static_urls(client.get("/sign-in").text)[0]

    response = client.get(url, headers={"If-Match": '"something-else"'})

    assert response.status_code == 412
    assert response.data == b""
    assert response.headers["Cache-Control"] == "no-store"


def test_a_plain_name_is_revalidated(client):

    plain = client.get("/static/app.css")
    assert plain.status_code == 200
    assert plain.headers["Cache-Control"] == "no-cache"
    again = client.get("/static/app.css", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def write(folder, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_changing_a_module_renames_every_script_that_imports_it(tmp_path):
    write(tmp_path, "lib/store.js", "export const version = 1;\n")
    write(tmp_path, "client.js", "import { version } from '/static/lib/store.js';\n")
    write(tmp_path, "page.js", "import '/static/client.js';\nconst other = '/static/none.js';\n")
    write(tmp_path, "app.css", "body { color: black; }\n")
    before = assets.build(tmp_path)

    write(tmp_path, "lib/store.js", "export const version = 2;\n")
    after = assets.build(tmp_path)

    for name in ("lib/store.js", "client.js", "page.js"):
        assert before[name].digested_name != after[name].digested_name, name
    assert before["app.css"].digested_name == after["app.css"].digested_name
    assert f"'/static/{after['lib/store.js'].digested_name}'" in after["client.js"].body.decode()
    assert f"'/static/{after['client.js'].digested_name}'" in after["page.js"].body.decode()
    # A reference to a file that does not exist is left as written.
    assert "'/static/none.js'" in after["page.js"].body.decode()


def test_scripts_that_import_each_other_are_refused_with_their_names(tmp_path):
    write(tmp_path, "a.js", "import '/static/b.js';\n")
    write(tmp_path, "b.js", "import '/static/a.js';\n")

    with pytest.raises(assets.CircularReference, match="a.js -> b.js -> a.js"):
        assets.build(tmp_path)


def test_a_watching_build_sees_an_edited_file(tmp_path):
    write(tmp_path, "app.css", "body { color: black; }\n")
    watched = assets.Assets(tmp_path, watch=True)
    first = watched.get("app.css").digested_name

    write(tmp_path, "app.css", "body { color: navy; margin: 0; }\n")

    edited = watched.get("app.css")
    assert edited.digested_name != first
    assert watched.find(first) == (edited, False)
    assert watched.find(edited.digested_name) == (edited, True)


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [("gzip", "gzip", gzip.decompress), ("br, gzip", "br", brotli.decompress)],
)
def test_pages_scripts_and_styles_are_compressed_as_the_browser_accepts(
    sign_in, partner, accept, encoding, decode
):
    rep = sign_in(partner.rep)
    plain_page = rep.get(NEW).data
    page = rep.get(NEW, headers={"Accept-Encoding": accept})
    script = rep.get("/static/outbox-forms.js", headers={"Accept-Encoding": accept})
    plain_script = rep.get("/static/outbox-forms.js").data

    assert page.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in page.headers["Vary"]
    assert len(page.data) < len(plain_page) / 2
    # The form carries one-use tokens, so compare what is the same on every load.
    assert without_tokens(decode(page.data)) == without_tokens(plain_page)
    assert script.headers["Content-Encoding"] == encoding
    assert decode(script.data) == plain_script


def test_without_compression_and_digests_the_portal_serves_plain_files(connector, mailbox):
    plain = create_app(
        portal_config(connector, mailbox, COMPRESS_RESPONSES=False, STATIC_DIGESTS=False)
    ).test_client()

    page = plain.get("/sign-in", headers={"Accept-Encoding": "gzip, br"})

    assert "Content-Encoding" not in page.headers
    urls = static_urls(page.text)
    assert "/static/app.css" in urls
    assert plain.get("/static/app.css").headers["Cache-Control"] == "no-cache"
