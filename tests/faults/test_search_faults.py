"""OpenSearch refusing, stalling, cutting a bulk request or answering 429/503.

The handler runs in a warm container against the OpenSearch test server behind a fault
proxy. While the fault lasts, it reports every record of the batch for retry, answers
before the Lambda's remaining time runs out, and acknowledges nothing it has not stored.
Once the fault clears, the next delivery converges.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.documents import assert_same_documents
from tests.faults.pipeline import Crm, deliver, searchable_now
from tests.support.fault_proxy import FaultProxy

# Lambda answers 5 s before its timeout, so this leaves the search backend 1 s.
REMAINING_MS = 6_000

FAULTS: dict[str, Callable[[FaultProxy], None]] = {
    "refused": FaultProxy.refuse,
    "stalled": FaultProxy.stall,
    "cut mid-bulk, request half sent": lambda proxy: proxy.cut("request", 200, times=None),
    "cut mid-bulk, response lost": lambda proxy: proxy.cut("response", 10, times=None),
    "429 too many requests": lambda proxy: proxy.answer(429),
    "503 unavailable": lambda proxy: proxy.answer(503),
}


@pytest.fixture
def crm(lambda_home: Path, search_proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch) -> Crm:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"sqlite:///{lambda_home / 'events.db'}")
    monkeypatch.setenv("STREAMFOLD_SEARCH", search_proxy.url)
    crm = Crm()
    assert deliver(crm.next_batch()).succeeded  # a warm container, indices in place
    return crm


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_search_fault_is_reported_in_time_and_the_next_delivery_converges(
    crm: Crm, search_proxy: FaultProxy, fault: str
) -> None:
    batch = crm.next_batch()
    FAULTS[fault](search_proxy)

    during = deliver(batch, remaining_ms=REMAINING_MS)

    assert during.failed == during.identifiers
    assert during.seconds < REMAINING_MS / 1000 - 3
    search_proxy.heal()
    after = deliver(batch)
    assert after.succeeded
    assert_same_documents(searchable_now(), crm.expected())


@pytest.mark.parametrize(
    "fault",
    [
        lambda proxy: proxy.cut("request", 200, times=1),
        lambda proxy: proxy.cut("response", 10, times=1),
        lambda proxy: proxy.answer(429, times=2),
        lambda proxy: proxy.answer(503, times=1),
    ],
    ids=["request cut once", "response lost once", "429 twice", "503 once"],
)
def test_a_passing_fault_is_retried_within_the_batch_and_what_is_acknowledged_is_stored(
    crm: Crm, search_proxy: FaultProxy, fault: Callable[[FaultProxy], None]
) -> None:
    batch = crm.next_batch()
    fault(search_proxy)

    answer = deliver(batch, remaining_ms=30_000)

    assert answer.succeeded
    assert sum(search_proxy.faults.values()) >= 1
    assert_same_documents(searchable_now(), crm.expected())
