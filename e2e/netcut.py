"""A TCP proxy between the browser and the portal that a test can cut: the network as a
phone in a lift sees it.

Playwright's offline switch does not cover everything a service worker does, so the
browser talks to the portal through this proxy, which forwards, resets connections,
refuses them, or resets uploads part-way. Its port stays the same while it runs: the
service worker's origin includes the port.
"""

from __future__ import annotations

import contextlib
import random
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

FORWARD = "forward"
RESET = "reset"  # accept, then reset: "connection reset" in the browser
REFUSE = "refuse"  # nobody listens: "connection refused"

CHUNK_BYTES = 64 * 1024
POLL_SECONDS = 0.05


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset instead of an orderly goodbye."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # Wakes a thread blocked reading it; the reset goes out when that read returns.
        sock.shutdown(socket.SHUT_RD)
    sock.close()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@dataclass(eq=False)
class _Link:
    browser: socket.socket
    portal: socket.socket
    sent_up: int = 0
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self, reset: bool) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        (_reset if reset else _close)(self.browser)
        _close(self.portal)


class NetCut:
    """Forwards `localhost:<port>` to `localhost:<target_port>` until told otherwise."""

    def __init__(self, target_port: int, latency_seconds: float = 0.0):
        self.target_port = target_port
        self.latency_seconds = latency_seconds
        self.mode = FORWARD
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0
        self.uploads_cut = 0
        self._links: set[_Link] = set()
        self._cut_next_upload_after: int | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._chaos: threading.Thread | None = None
        self._chaos_stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self) -> NetCut:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_chaos()
        self._stopping.set()
        self._thread.join(timeout=5)
        self.cut()
        if self._listener:
            self._listener.close()

    # -- what a test switches -------------------------------------------------------

    def forward(self) -> None:
        """Back online."""
        with self._lock:
            if self._listener is None:
                self._listener = self._listen(self.port)
            self.mode = FORWARD

    def reset(self) -> None:
        """Every connection, open or new, is reset."""
        self.mode = RESET
        self.cut()

    def refuse(self) -> None:
        """Nobody listens on the port; open connections are reset."""
        with self._lock:
            self.mode = REFUSE
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self.cut()

    def cut(self) -> None:
        """Reset every open connection, the way a dropped signal ends them."""
        with self._lock:
            links = list(self._links)
        for link in links:
            link.close(reset=True)

    def cut_next_upload_after(self, byte_count: int) -> None:
        """The first connection to have sent more than `byte_count` bytes is reset there:
        an upload dies half-way."""
        self._cut_next_upload_after = byte_count

    def chaos(self, seed: int, upload_cut_bytes: tuple[int, int] = (200_000, 3_000_000)) -> None:
        """Until `stop_chaos`, switch between forwarding, resets and refusals at random
        moments, and now and then reset an upload part-way."""
        rng = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
        self._chaos_stop.clear()

        def run():
            while not self._chaos_stop.is_set():
                roll = rng.random()
                if roll < 0.45:
                    self.forward()
                    if rng.random() < 0.5:
                        self.cut_next_upload_after(rng.randint(*upload_cut_bytes))
                    pause = rng.uniform(0.5, 2.5)
                elif roll < 0.75:
                    self.reset()
                    pause = rng.uniform(0.2, 1.5)
                else:
                    self.refuse()
                    pause = rng.uniform(0.2, 1.5)
                self._chaos_stop.wait(pause)
            self.forward()

        self._chaos = threading.Thread(target=run, daemon=True)
        self._chaos.start()

    def stop_chaos(self) -> None:
        """Stop switching and forward again."""
        if self._chaos:
            self._chaos_stop.set()
            self._chaos.join(timeout=10)
            self._chaos = None
        self._cut_next_upload_after = None
        self.forward()

    # -- the proxy ------------------------------------------------------------------

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        return listener

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                time.sleep(POLL_SECONDS)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], POLL_SECONDS)
                if not ready:
                    continue
                browser, _ = listener.accept()
            except (OSError, ValueError):
                continue  # the listener closed under us: refusing
            if self.mode != FORWARD:
                _reset(browser)
                continue
            try:
                portal = socket.create_connection(("localhost", self.target_port), timeout=5)
            except OSError:
                _reset(browser)
                continue
            portal.settimeout(None)
            link = _Link(browser, portal)
            with self._lock:
                self._links.add(link)
                self.connections += 1
            threading.Thread(target=self._pump, args=(link, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(link, False), daemon=True).start()

    def _upload_to_cut(self, link: _Link) -> bool:
        with self._lock:
            threshold = self._cut_next_upload_after
            if threshold is None or link.sent_up <= threshold:
                return False
            self._cut_next_upload_after = None
            self.uploads_cut += 1
            return True

    def _pump(self, link: _Link, upstream: bool) -> None:
        source, target = (link.browser, link.portal) if upstream else (link.portal, link.browser)
        first = True
        try:
            while True:
                data = source.recv(CHUNK_BYTES)
                if not data:
                    break
                if first and self.latency_seconds:
                    time.sleep(self.latency_seconds)
                first = False
                if upstream:
                    link.sent_up += len(data)
                    if self._upload_to_cut(link):
                        link.close(reset=True)
                        break
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
                target.sendall(data)
        except OSError:
            pass
        finally:
            link.close(reset=False)
            with self._lock:
                self._links.discard(link)
