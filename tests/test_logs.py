"""Log lines: each written once, however the process set logging up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What `portal-dev` does: its log set-up first, then the app (which sets logging up again
# outside tests), then the development server's own lines.
DEV_SERVER = """
import logging
from portal import create_app, devserver
from werkzeug._internal import _log

devserver.setup_logging()
create_app({"ROUTING_CHECK_OWNERS": False})
_log("info", "werkzeug line")
logging.getLogger("portal.test").info("portal line")
"""


def test_the_development_server_writes_each_line_once():
    done = subprocess.run(  # noqa: S603  # nosec B603 - this interpreter, fixed code
        [sys.executable, "-c", DEV_SERVER],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert done.stderr.count("werkzeug line") == 1, done.stderr
    assert done.stderr.count("portal line") == 1, done.stderr
    assert " INFO portal.test portal line" in done.stderr
