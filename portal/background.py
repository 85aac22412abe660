"""Work done after a partner's action has been answered: notifications and conflict checks.

It runs in one background thread per process, with the app's context, and retries
with backoff; a failure here is logged and never reaches the person who acted.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask, current_app

log = logging.getLogger(__name__)

_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="portal-background")
_pending = 0
_idle = threading.Condition()


def run_later(task, *args, **kwargs) -> Future:
    """Run `task(*args, **kwargs)` after this request, retrying failures with backoff."""
    global _pending
    app: Flask = current_app._get_current_object()
    with _idle:
        _pending += 1
    future = _executor.submit(_run, app, task, args, kwargs)
    future.add_done_callback(_finished)
    return future


def _finished(_future: Future) -> None:
    global _pending
    with _idle:
        _pending -= 1
        _idle.notify_all()


def _run(app: Flask, task, args, kwargs):
    delays = app.config["BACKGROUND_RETRY_SECONDS"]
    for attempt, delay in enumerate([0, *delays], 1):
        time.sleep(delay)
        try:
            with app.app_context():
                return task(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - any failure is retried, then logged
            log.warning(
                "background %s failed (attempt %s): %s",
                task.__name__,
                attempt,
                type(error).__name__,
            )
    log.error("background %s gave up after %s attempts", task.__name__, len(delays) + 1)
    return None


def wait_until_idle(timeout: float = 30.0) -> None:
    """Block until all queued work is done, including work it queued (tests, shutdown)."""
    with _idle:
        if not _idle.wait_for(lambda: _pending == 0, timeout):
            raise TimeoutError(f"background work still running after {timeout} s")
