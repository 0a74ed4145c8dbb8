"""How much one request may carry, and how often one client may ask.

- A body larger than ``STREAMFOLD_API_MAX_BODY_BYTES`` (64 KiB by default; a search
  request is a few hundred bytes) is refused with 413 before the application sees it,
  whether it announces its length or streams in chunks.
- Each client (its address: the peer under ``streamfold serve``, API Gateway's
  ``sourceIp`` on Lambda) may send ``STREAMFOLD_API_RATE`` requests per second on average
  (50 by default), in bursts of ``STREAMFOLD_API_BURST`` (100); beyond that it gets 429
  with ``Retry-After``. This bounds what one caller can take from a process; across a
  fleet of Lambda containers, API Gateway's throttling is the limit to set.

Both answer with the API's JSON error body.

>>> app.add_middleware(RequestLimits, limits=Limits.from_environment(os.environ))
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infrastructure.entrypoints.http.errors import error_body
from infrastructure.settings import API_BURST, API_MAX_BODY_BYTES, API_RATE, ConfigError

_MAX_CLIENTS = 10_000  # buckets kept; the least recently seen client is forgotten first


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 64 * 1024
    per_second: float = 50.0  # 0: no rate limit
    burst: int = 100

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Limits:
        defaults = cls()
        return cls(
            max_body_bytes=int(_number(environ, API_MAX_BODY_BYTES, defaults.max_body_bytes, 1)),
            per_second=_number(environ, API_RATE, defaults.per_second, 0),
            burst=int(_number(environ, API_BURST, defaults.burst, 1)),
        )


def _number(environ: Mapping[str, str], name: str, default: float, least: float) -> float:
    text = (environ.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a number") from None
    if not math.isfinite(value) or value < least:
        raise ConfigError(f"{name}={text!r}: use a number of at least {least:g}")
    return value


class _Buckets:
    """A token bucket per client, refilled at ``per_second`` up to ``burst``."""

    def __init__(self, per_second: float, burst: int) -> None:
        self._per_second = per_second
        self._burst = float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait_for(self, client: str, now: float) -> float:
        """0 and a token taken if the client may go on, else the seconds until it may."""
        tokens, updated = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - updated) * self._per_second)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self._per_second
        self._buckets[client] = (tokens - 1 if wait == 0 else tokens, now)
        if len(self._buckets) > _MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return wait


class _TooLarge(Exception):
    pass


class RequestLimits:
    """ASGI middleware enforcing `Limits` on every HTTP request."""

    def __init__(self, app: ASGIApp, limits: Limits) -> None:
        self._app = app
        self._limits = limits
        self._buckets = _Buckets(limits.per_second, limits.burst) if limits.per_second else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        if self._buckets is not None:
            # time.monotonic is looked up at each call, so a test can freeze the clock.
            wait = self._buckets.wait_for(_client(scope), time.monotonic())
            if wait:
                await _refuse(scope, receive, send, 429, "rate_limited",
                              "too many requests from this client; retry later",
                              {"Retry-After": str(math.ceil(wait))})  # fmt: skip
                return
        limit = self._limits.max_body_bytes
        if _declared_length(scope) > limit:
            await _refuse(scope, receive, send, 413, "too_large", _too_large(limit))
            return
        try:
            body = await _read_body(receive, limit)
        except _TooLarge:
            await _refuse(scope, receive, send, 413, "too_large", _too_large(limit))
            return
        await self._app(scope, _replay(body, receive), send)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    response = JSONResponse(error_body(code, message), status_code=status, headers=headers)
    await response(scope, receive, send)


def install_limits(app: Any, limits: Limits) -> None:
    """Put the limits in front of everything else the app does."""
    app.add_middleware(RequestLimits, limits=limits)
