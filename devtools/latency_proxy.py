"""A TCP proxy on loopback that adds network latency and counts round trips.

Put it between streamfold and PostgreSQL or OpenSearch. Every time the client speaks
after the server did (or first), that is one round trip: the proxy counts it and holds
the client's bytes for ``latency_ms`` before passing them on, as a network that far away
would. This counts what crosses the wire, pipeline flushes included, without a hook in
the code under measurement. For HTTP it also keeps each request line (``POST
/_bulk?refresh=false HTTP/1.1``), so a test can see what was asked.

>>> with LatencyProxy(("127.0.0.1", 5432), latency_ms=1) as proxy:
...     # psycopg.connect(host="127.0.0.1", port=proxy.port) ...
...     proxy.round_trips
12
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import threading
import time
from typing import Any

_CHUNK = 65_536
_POLL_SECONDS = 0.05
_REQUEST_LINE = re.compile(rb"(?:^|\r\n)((?:GET|HEAD|POST|PUT|DELETE|PATCH) \S+ HTTP/1\.[01])\r\n")


class LatencyProxy:
    """Forwards loopback connections to ``upstream``, delaying and counting round trips."""

    def __init__(self, upstream: tuple[str, int], *, latency_ms: float = 0.0) -> None:
        self.upstream = upstream
        self.latency = latency_ms / 1000
        self._lock = threading.Lock()
        self._round_trips = 0
        self._bytes_sent = 0
        self._requests: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL_SECONDS)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def round_trips(self) -> int:
        with self._lock:
            return self._round_trips

    @property
    def bytes_sent(self) -> int:
        """Bytes the clients sent the server."""
        with self._lock:
            return self._bytes_sent

    @property
    def requests(self) -> list[str]:
        """The HTTP request lines seen so far, in order."""
        with self._lock:
            return list(self._requests)

    def reset_counts(self) -> None:
        with self._lock:
            self._round_trips = 0
            self._bytes_sent = 0
            self._requests.clear()

    def __enter__(self) -> LatencyProxy:
        accept = threading.Thread(target=self._accept, name="latency-proxy", daemon=True)
        accept.start()
        self._threads.append(accept)
        return self

    def __exit__(self, *_: Any) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=2)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream)
        except OSError:
            client.close()
            return
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._pump(client, upstream)
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        server_spoke_last = True
        while not self._stopping.is_set():
            readable, _, _ = select.select([client, upstream], [], [], _POLL_SECONDS)
            for sock in readable:
                data = sock.recv(_CHUNK)
                if not data:
                    return
                if sock is client:
                    with self._lock:
                        self._bytes_sent += len(data)
                    if server_spoke_last:
                        self._count(data)
                        if self.latency:
                            time.sleep(self.latency)
                    else:
                        self._note_requests(data)
                    server_spoke_last = False
                    upstream.sendall(data)
                else:
                    server_spoke_last = True
                    client.sendall(data)

    def _count(self, data: bytes) -> None:
        with self._lock:
            self._round_trips += 1
        self._note_requests(data)

    def _note_requests(self, data: bytes) -> None:
        lines = [match.group(1).decode() for match in _REQUEST_LINE.finditer(data)]
        if lines:
            with self._lock:
                self._requests.extend(lines)
