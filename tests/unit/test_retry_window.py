"""The retry window: how long each request may take, and when retrying stops."""

from __future__ import annotations

import pytest
from opensearchpy import ConnectionError as ClientConnectionError
from opensearchpy import TransportError

from infrastructure.adapters.opensearch.retry import (
    MIN_REQUEST_TIMEOUT_SECONDS,
    REQUEST_TIMEOUT_SECONDS,
    Backoff,
    RetryWindow,
    retry_transient,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def window(seconds: float, clock: Clock, *, hard: bool = True) -> RetryWindow:
    return RetryWindow(
        clock.now + seconds, Backoff(first=1.0, cap=1.0), clock, clock.sleep, hard=hard
    )


def test_a_request_may_take_what_is_left_within_bounds() -> None:
    clock = Clock()
    assert window(300, clock).request_timeout() == REQUEST_TIMEOUT_SECONDS
    assert window(3, clock).request_timeout() == 3
    assert window(-1, clock).request_timeout() == MIN_REQUEST_TIMEOUT_SECONDS


def test_a_hard_deadline_bounds_every_bulk_request() -> None:
    clock = Clock()
    deadline = window(3, clock)
    assert deadline.write_timeout() == 3
    clock.now += 10
    assert deadline.write_timeout() == MIN_REQUEST_TIMEOUT_SECONDS


def test_a_retry_budget_does_not_cut_a_bulk_request_short() -> None:
    clock = Clock()
    budget = window(3, clock, hard=False)
    assert budget.write_timeout() == REQUEST_TIMEOUT_SECONDS
    clock.now += 10  # a long write's later requests, once the budget is spent
    assert budget.write_timeout() == REQUEST_TIMEOUT_SECONDS
    assert budget.request_timeout() == MIN_REQUEST_TIMEOUT_SECONDS  # other requests are
    assert not budget.pause_before_retry()  # and no retry starts after it


def test_transient_failures_are_retried_until_the_window_ends() -> None:
    clock = Clock()
    attempts: list[float] = []

    def request(timeout: float) -> str:
        attempts.append(timeout)
        if len(attempts) < 3:
            raise ClientConnectionError("N/A", "refused", OSError("refused"))
        return "answer"

    assert retry_transient(request, window(10, clock)) == "answer"
    assert len(attempts) == 3

    attempts.clear()
    short = window(2.5, clock)
    with pytest.raises(ClientConnectionError):
        retry_transient(lambda _: _refused(attempts), short)
    assert len(attempts) >= 2 and short.retries == len(attempts) - 1
    assert clock.now <= short.deadline  # no pause ran past the deadline


def test_a_permanent_failure_is_raised_at_once() -> None:
    clock = Clock()
    calls: list[float] = []

    def request(timeout: float) -> None:
        calls.append(timeout)
        raise TransportError(400, "mapper_parsing_exception", {})

    with pytest.raises(TransportError):
        retry_transient(request, window(10, clock))
    assert len(calls) == 1


def _refused(attempts: list[float]) -> str:
    attempts.append(0.0)
    raise ClientConnectionError("N/A", "refused", OSError("refused"))
