"""Portal processes share nothing but Salesforce: two gunicorn processes, started with the
production server configuration, serve one person as if behind a load balancer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from portal import testing
from tests.test_registrations import registrations_with_key

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 30
SHARED_SECRET = "a-secret-both-processes-share-and-nothing-else"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def portals(local_org, mailbox, queue_id):
    """The base URLs of two portal processes, each its own gunicorn with one worker."""
    ports = [free_port(), free_port()]
    processes = []
    for port in ports:
        environment = {
            **os.environ,
            **local_org.environment(),
            "PORTAL_ENV": "local",
            "SECRET_KEY": SHARED_SECRET,
            "PORTAL_BASE_URL": f"http://localhost:{ports[0]}",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(mailbox.port),
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
            "GUNICORN_THREADS": "2",
        }
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
    urls = [f"http://localhost:{port}" for port in ports]
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    for url, process in zip(urls, processes, strict=True):
        while True:
            try:
                # The socket is open before the worker has loaded the app: answers may wait.
                if requests.get(f"{url}/health/live", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"portal at {url} did not start: {process.stderr.read().decode()}")
            time.sleep(0.2)
    yield urls
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=20)


def test_signed_in_on_one_process_submits_on_the_other_and_replays_on_either(
    portals, partner, mailbox, sf
):
    first, second = portals
    browser = requests.Session()  # one cookie jar for both, as behind one address

    page = browser.get(f"{first}/sign-in").text
    seen = len(mailbox.messages)
    browser.post(
        f"{first}/sign-in",
        data={"csrf_token": testing.CSRF_PATTERN.search(page).group(1), "email": partner.rep.email},
    )
    link = testing.path_of(testing.link_from(mailbox.wait_for(partner.rep.email, after=seen)))
    confirm = browser.get(f"{first}{link}").text
    signed_in = browser.post(
        f"{first}{link}",
        data={"csrf_token": testing.CSRF_PATTERN.search(confirm).group(1)},
        allow_redirects=False,
    )
    assert signed_in.status_code == 302

    form = browser.get(f"{second}/registrations/new", allow_redirects=False)
    assert form.status_code == 200  # the other process knows who this is
    data = {
        "csrf_token": testing.CSRF_PATTERN.search(form.text).group(1),
        "submission_key": testing.KEY_PATTERN.search(form.text).group(1),
        "end_customer_name": "Two Process GmbH",
        "country": "DE",
        "deal_value": "90000",
        "product_line": "Analytics",
        "expected_close_date": (date.today() + timedelta(days=30)).isoformat(),
    }
    submitted = browser.post(f"{second}/registrations/new", data=data, allow_redirects=False)
    assert submitted.status_code == 302

    replayed_on_first = browser.post(f"{first}/registrations/new", data=data, allow_redirects=False)
    replayed_by_script = browser.post(
        f"{second}/registrations/new",
        data=data,
        headers={"Accept": "application/json", "X-CSRFToken": data["csrf_token"]},
    )

    [record] = registrations_with_key(sf, data["submission_key"])
    location = f"/registrations/{record['Id']}"
    assert submitted.headers["Location"].endswith(location)
    assert replayed_on_first.headers["Location"].endswith(location)
    assert replayed_by_script.status_code == 200
    assert replayed_by_script.json()["registration"]["id"] == record["Id"]
    assert "Two Process GmbH" in browser.get(f"{first}{location}").text
