"""The loopback proxy counts round trips and request lines and adds its latency to each."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from devtools.latency_proxy import LatencyProxy


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65_536):
            self.request.sendall(data)


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo) as server:
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield "127.0.0.1", server.server_address[1]
        server.shutdown()


def exchange(connection: socket.socket, message: bytes) -> bytes:
    connection.sendall(message)
    received = b""
    while len(received) < len(message):
        received += connection.recv(65_536)
    return received


def test_each_exchange_is_one_round_trip_and_pays_the_latency(echo: tuple[str, int]) -> None:
    with (
        LatencyProxy(echo, latency_ms=20) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as connection,
    ):
        started = time.perf_counter()
        answers = [exchange(connection, f"ping {n}".encode()) for n in range(3)]
        seconds = time.perf_counter() - started
        trips, sent = proxy.round_trips, proxy.bytes_sent

    assert answers == [b"ping 0", b"ping 1", b"ping 2"]
    assert trips == 3
    assert sent == 18
    assert seconds >= 3 * 0.020


def test_http_request_lines_are_kept_in_order_and_counts_reset(echo: tuple[str, int]) -> None:
    first = b"POST /_bulk?refresh=false HTTP/1.1\r\nHost: x\r\n\r\n{}\n"
    second = b"GET /a-users/_search HTTP/1.1\r\nHost: x\r\n\r\n"
    with (
        LatencyProxy(echo) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port)) as connection,
    ):
        exchange(connection, first)
        exchange(connection, second)
        seen = proxy.requests
        proxy.reset_counts()
        after_reset = (proxy.round_trips, proxy.requests)

    assert seen == ["POST /_bulk?refresh=false HTTP/1.1", "GET /a-users/_search HTTP/1.1"]
    assert after_reset == (0, [])
