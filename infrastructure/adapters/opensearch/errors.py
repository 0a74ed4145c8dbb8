"""Telling the cluster's failures apart, and reporting them in one line without credentials.

Transient: the cluster is unreachable, overloaded (429) or failing (5xx); the same request
may succeed later and is retried. Everything else (a refused certificate, rejected
credentials, a request the cluster will never accept) is reported at once.

>>> is_transient(TransportError(429, "es_rejected_execution_exception", {}))
True
>>> failure = ClientConnectionError("N/A", "Connection refused", None)
>>> str(unavailable("https://search.example.com", "write", failure))
'OpenSearch at https://search.example.com: cannot write: connection refused; check ...'
"""

from __future__ import annotations

from typing import Any

from opensearchpy.exceptions import (
    AuthenticationException,
    AuthorizationException,
    ConnectionTimeout,
    SSLError,
    TransportError,
)
from opensearchpy.exceptions import ConnectionError as ClientConnectionError

from infrastructure.adapters.opensearch.environment import OPENSEARCH_VERIFY_CERTS
from infrastructure.settings import OPENSEARCH_AUTH, SEARCH
from projections.ports import SearchUnavailable

MAX_REASON = 300


class Retryable(Exception):
    """A failure the package found transient itself (e.g. an index that went missing)."""


def is_transient(error: BaseException) -> bool:
    """Whether the same request may succeed later."""
    if isinstance(error, Retryable):
        return True
    if isinstance(error, SSLError):
        return False
    if isinstance(error, ClientConnectionError):  # refused, reset, timed out, name not resolved
        return True
    if isinstance(error, TransportError):
        status = error.status_code
        return isinstance(status, int) and is_transient_status(status)
    return False


def is_transient_status(status: int) -> bool:
    """429 (throttled) and 5xx (the cluster failed) may succeed later."""
    return status == 429 or status >= 500


def unavailable(url: str, action: str, error: BaseException) -> SearchUnavailable:
    """The port's outage error: where, what failed, and what to check, in one line."""
    return SearchUnavailable(f"OpenSearch at {url}: cannot {action}: {reason_and_hint(error)}")


def reason_and_hint(error: BaseException) -> str:
    if isinstance(error, SSLError):
        if "certificate" in str(error).lower():
            return (
                "TLS certificate verification failed; check the cluster's certificate, "
                f"or set {OPENSEARCH_VERIFY_CERTS}=false for a test cluster"
            )
        return f"the TLS handshake failed; check that {SEARCH} uses the scheme the port serves"
    if isinstance(error, ConnectionTimeout):
        return (
            f"the connection timed out; check {SEARCH}, that the cluster is up, and that "
            "this network can reach it (VPC, subnets, security groups)"
        )
    if isinstance(error, ClientConnectionError):
        return (
            f"{_connection_failure(error)}; check {SEARCH} (scheme, host, port), that the "
            "cluster is up, and that this network can reach it (VPC, subnets, security groups)"
        )
    if isinstance(error, AuthenticationException | AuthorizationException):
        return (
            f"{error.status_code} {describe_error(error.info)}; check {OPENSEARCH_AUTH} and "
            "the credentials, and that this identity is mapped to a role allowed to use "
            "the indices"
        )
    if isinstance(error, TransportError):
        return f"{error.status_code} {describe_error(error.info)}"
    return one_line(str(error)) or type(error).__name__


def describe_error(info: Any) -> str:
    """``type: reason`` from an error body of the cluster (a bulk item's or a response's)."""
    if isinstance(info, dict):
        error = info.get("error", info)
        if isinstance(error, dict):
            kind, reason = error.get("type"), error.get("reason")
            cause = error.get("caused_by")
            text = f"{kind}: {reason}" if kind else str(reason or error)
            if isinstance(cause, dict) and cause.get("reason"):
                text += f" ({cause.get('type')}: {cause.get('reason')})"
            return one_line(text)
        return one_line(str(error))
    return one_line(str(info)) or "no details"


def one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_REASON else flat[: MAX_REASON - 3] + "..."


def _connection_failure(error: ClientConnectionError) -> str:
    text = str(error).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    if "getaddrinfo failed" in text or "temporary failure in name resolution" in text:
        return "host name not found"
    return "connection failed"
