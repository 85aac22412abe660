"""Chromium itself says the portal installs to the home screen."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def installable_phone(playwright, browser_type_launch_args, tmp_path, live_portal):
    """A phone with a real profile on disk: Chromium reports an incognito context (every
    normal Playwright context) as not installable, whatever the app does."""
    device = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), **browser_type_launch_args, **device, base_url=live_portal
    )
    yield context
    context.close()


def test_chromium_reports_the_portal_installable(installable_phone):
    page = installable_phone.pages[0] if installable_phone.pages else installable_phone.new_page()
    page.goto("/sign-in")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    cdp = installable_phone.new_cdp_session(page)

    manifest = cdp.send("Page.getAppManifest")
    installability = cdp.send("Page.getInstallabilityErrors")

    assert manifest["errors"] == []
    assert installability["installabilityErrors"] == []
    parsed = json.loads(manifest["data"])
    assert parsed["scope"] == "/"
    assert parsed["display"] == "standalone"
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in parsed["icons"]}
    assert any(icon.get("purpose") == "maskable" for icon in parsed["icons"])


def test_service_worker_is_served_from_the_root_scope(installable_phone, live_portal):
    page = installable_phone.new_page()
    page.goto("/sign-in")

    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    answer = page.request.get("/sw.js")

    assert scope == f"{live_portal}/"
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers["content-type"].startswith("text/javascript")
