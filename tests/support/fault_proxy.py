"""A TCP proxy on loopback that breaks the connection to a server on demand.

Put it between streamfold and PostgreSQL or OpenSearch and choose what goes wrong:

- ``refuse()``: nothing listens any more (connections are refused), open ones are reset;
- ``stall()``: connections stay open but nothing goes through, in either direction;
- ``cut(direction, after_bytes, times)``: reset a connection in the middle of a request
  (part of it reached the server) or of a response (the server did the work, the client
  never hears of it);
- ``answer(status, times)``: answer HTTP requests itself with ``status`` (429, 503, ...)
  and a JSON error body, without reaching the server;
- ``heal()``: forward everything again.

Every fault injected is counted in ``faults`` (by kind), so tests can report them.

>>> with FaultProxy(("127.0.0.1", 5432)) as proxy:
...     proxy.refuse()
...     # psycopg.connect(port=proxy.port) -> connection refused
...     proxy.heal()
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Any

_CHUNK = 65_536
_POLL_SECONDS = 0.02


class Fault(Enum):
    NONE = "none"
    REFUSE = "refuse"
    STALL = "stall"
    CUT = "cut"
    ANSWER = "answer"


@dataclass
class _Plan:
    fault: Fault = Fault.NONE
    direction: str = "request"  # cut: "request" (client -> server) or "response"
    after_bytes: int = 0  # cut: bytes let through in that direction before the cut
    times: int | None = None  # cut/answer: how many times, then heal; None: until heal()
    status: int = 503  # answer


class _Connection:
    """One client connection and its upstream twin."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = False

    def reset(self) -> None:
        """Close both sides with a TCP reset, as a crashed peer or a broken network would."""
        if self.closed:
            return
        self.closed = True
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        """Close both sides gracefully (FIN)."""
        if self.closed:
            return
        self.closed = True
        for sock in (self.client, self.upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``upstream``, with faults injected on demand."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.faults: Counter[str] = Counter()
        self.connections_accepted = 0
        self._plan = _Plan()
        self._counted = 0  # bytes seen in the cut's direction since it was armed
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._closing = False
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self.port = 0
        self._listen()

    # -- addresses ------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, for HTTP upstreams such as OpenSearch."""
        return f"http://{self.host}:{self.port}"

    # -- faults ---------------------------------------------------------------------------

    def heal(self) -> None:
        """Forward everything again (and listen again after ``refuse``)."""
        with self._lock:
            previous = self._plan.fault
            self._plan = _Plan()
        if previous is Fault.REFUSE:
            self._listen()
        if previous is Fault.STALL:
            # A stalled connection's bytes were never delivered; its peers gave up on it.
            self.reset_connections()

    def refuse(self) -> None:
        """Stop listening, so that new connections are refused; reset the open ones."""
        with self._lock:
            self._plan = _Plan(Fault.REFUSE)
        self._stop_listening()
        self.reset_connections()
        self.faults["refused"] += 1

    def stall(self) -> None:
        """Hold every byte, in both directions, on open and new connections."""
        with self._lock:
            self._plan = _Plan(Fault.STALL)
        self.faults["stalled"] += 1

    def cut(self, direction: str = "request", after_bytes: int = 0, times: int | None = 1) -> None:
        """Reset the connection carrying the byte ``after_bytes`` (counted from now).

        ``direction="request"`` counts bytes from client to server: the server sees a
        request cut short. ``"response"`` counts bytes from server to client: the server
        has done the work, the client never learns of it.
        """
        if direction not in ("request", "response"):
            raise ValueError("direction is 'request' or 'response'")
        with self._lock:
            self._plan = _Plan(Fault.CUT, direction=direction, after_bytes=after_bytes, times=times)
            self._counted = 0

    def answer(self, status: int, times: int | None = None) -> None:
        """Answer the next HTTP requests with ``status`` instead of forwarding them."""
        with self._lock:
            self._plan = _Plan(Fault.ANSWER, status=status, times=times)
        # Clients reuse idle keep-alive connections; closing them makes every request
        # come through a new connection, which this proxy answers itself.
        self.close_connections()

    def reset_connections(self) -> None:
        """Reset every open connection (both sides)."""
        for connection in self._open_connections():
            connection.reset()

    def close_connections(self) -> None:
        for connection in self._open_connections():
            connection.close()

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        self._closing = True
        self._stop_listening()
        self.reset_connections()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------

    def _open_connections(self) -> list[_Connection]:
        with self._lock:
            return list(self._connections)

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._accepting.start()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        # shutdown() wakes the thread blocked in accept(); close() alone would leave the
        # socket listening until that accept() returned.
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            listener.close()
        if self._accepting is not None:
            self._accepting.join(timeout=1)

    def _accept(self, listener: socket.socket) -> None:
        while not self._closing:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by refuse() or close()
            self.connections_accepted += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        status = self._take_answer()
        if status is not None:
            self._answer_http(client, status)
            return
        try:
            upstream = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            _Connection(client, None).reset()
            return
        connection = _Connection(client, upstream)
        with self._lock:
            self._connections.add(connection)
        try:
            self._pump(connection)
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()

    def _pump(self, connection: _Connection) -> None:
        upstream = connection.upstream
        assert upstream is not None  # _serve only pumps a connection it opened upstream
        peers = {connection.client: upstream, upstream: connection.client}
        while not connection.closed and not self._closing:
            if self._plan.fault is Fault.STALL:
                threading.Event().wait(_POLL_SECONDS)  # leave the bytes where they are
                continue
            try:
                readable, _, _ = select.select(list(peers), [], [], _POLL_SECONDS)
            except (OSError, ValueError):
                return
            for source in readable:
                if self._plan.fault is Fault.STALL:
                    break
                try:
                    data: bytes | None = source.recv(_CHUNK)
                except OSError:
                    connection.reset()
                    return
                if not data:
                    return
                direction = "request" if source is connection.client else "response"
                data = self._through(connection, direction, data)
                if data is None:
                    return
                try:
                    peers[source].sendall(data)
                except OSError:
                    connection.reset()
                    return

    def _through(self, connection: _Connection, direction: str, data: bytes) -> bytes | None:
        """The bytes to forward, or None after cutting the connection."""
        with self._lock:
            plan = self._plan
            if plan.fault is not Fault.CUT or plan.direction != direction:
                return data
            allowed = plan.after_bytes - self._counted
            self._counted += len(data)
            if allowed >= len(data):
                return data
            self._use_once(plan)
            self.faults[f"cut_{direction}"] += 1
        if allowed > 0:
            with contextlib.suppress(OSError):
                target = connection.upstream if direction == "request" else connection.client
                target.sendall(data[:allowed])  # type: ignore[union-attr]
        connection.reset()
        return None

    def _use_once(self, plan: _Plan) -> None:
        if plan.times is None:
            return
        plan.times -= 1
        if plan.times <= 0:
            self._plan = _Plan()
        elif plan.fault is Fault.CUT:
            self._counted = 0

    def _take_answer(self) -> int | None:
        with self._lock:
            plan = self._plan
            if plan.fault is not Fault.ANSWER:
                return None
            self._use_once(plan)
            self.faults[f"http_{plan.status}"] += 1
            return plan.status

    @staticmethod
    def _answer_http(client: socket.socket, status: int) -> None:
        """Read one HTTP request and answer it with ``status``, then close."""
        try:
            client.settimeout(5)
            _read_http_request(client)
            body = json.dumps(_error_body(status)).encode()
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
                "content-type: application/json\r\n"
                f"content-length: {len(body)}\r\n"
                "connection: close\r\n\r\n"
            ).encode()
            client.sendall(head + body)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                client.close()


_REASONS = {429: "Too Many Requests", 502: "Bad Gateway", 503: "Service Unavailable"}


def _error_body(status: int) -> dict[str, Any]:
    kind = "es_rejected_execution_exception" if status == 429 else "unavailable_shards_exception"
    return {"error": {"type": kind, "reason": f"injected fault {status}"}, "status": status}


def _read_http_request(client: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(_CHUNK)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        chunk = client.recv(_CHUNK)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
