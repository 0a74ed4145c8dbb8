"""Retrying transient failures with exponential backoff and full jitter, within a time budget.

A `RetryWindow` ends at a deadline on the monotonic clock: the caller's (a Lambda sets it
from the invocation's remaining time) or, by default, a fixed budget from the first
attempt. Each pause is drawn uniformly between zero and an exponentially growing ceiling
("full jitter"), so that many writers throttled together do not come back together. No
pause runs past the deadline: when the next attempt could not start in time, the window
gives up.

>>> window = RetryWindow(deadline=time.monotonic() + 5)
>>> value = retry_transient(lambda timeout: client.count(request_timeout=timeout), window)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from infrastructure.adapters.opensearch.errors import is_transient

T = TypeVar("T")

DEFAULT_BUDGET_SECONDS = 20.0
REQUEST_TIMEOUT_SECONDS = 30.0  # the longest a single request may take
MIN_REQUEST_TIMEOUT_SECONDS = 0.5  # even a last attempt gets this long


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pauses of ``uniform(0, min(cap, first * 2**attempt))`` seconds."""

    first: float = 0.1
    cap: float = 5.0

    def pause(self, attempt: int, draw: Callable[[float, float], float] = random.uniform) -> float:
        ceiling = min(self.cap, self.first * 2 ** min(attempt, 32))
        return draw(0.0, ceiling)


@dataclass
class RetryWindow:
    """The time left for one unit of work and its retries."""

    deadline: float
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    retries: int = 0  # pauses taken so far
    # True: no request may outlast the deadline (a Lambda's remaining time). False: the
    # deadline is a budget for retrying (a command's), which one slow write may outlast.
    hard: bool = True

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def request_timeout(self) -> float:
        """How long the next request may take: what is left, within sensible bounds."""
        return min(REQUEST_TIMEOUT_SECONDS, max(MIN_REQUEST_TIMEOUT_SECONDS, self.remaining()))

    def write_timeout(self) -> float:
        """How long the next bulk request may take.

        A bulk request's time grows with its documents and with the cluster's load, and a
        command's long write sends many of them: a budget for retrying does not cut one
        short (it would fail every request sent once the budget is spent). A hard deadline
        still does.
        """
        return self.request_timeout() if self.hard else REQUEST_TIMEOUT_SECONDS

    def pause_before_retry(self) -> bool:
        """Sleep before the next attempt; False (without sleeping) when time is up."""
        pause = self.backoff.pause(self.retries)
        if self.remaining() - pause <= 0:
            return False
        self.retries += 1
        self.sleep(pause)
        return True


def retry_transient(request: Callable[[float], T], window: RetryWindow) -> T:
    """The request's result, retrying transient failures while the window lasts.

    ``request`` receives the timeout for that attempt. A permanent failure is raised at
    once; a transient one is raised when the window has no time left for another attempt.
    """
    while True:
        try:
            return request(window.request_timeout())
        except Exception as error:
            if not is_transient(error) or not window.pause_before_retry():
                raise
