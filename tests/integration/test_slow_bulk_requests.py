"""A slow bulk request against a command's retry budget and against a Lambda's deadline.

A command gives up on an unreachable search backend after a few seconds of retrying
(its retry budget), but a bulk request may take longer than that on a loaded cluster,
and a long write sends many of them: the budget bounds the retries, not how long one
request may take. A Lambda's deadline bounds both. The requests go through a loopback
proxy that holds each one for a second, in front of the OpenSearch test server.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from osmem_server import OsmemServer

from devtools.latency_proxy import LatencyProxy
from infrastructure.adapters.opensearch import OpenSearchIndex
from infrastructure.settings import SEARCH, OpenSearchTarget, Settings
from projections.ports import SearchUnavailable
from tests.contract.search_index_contract import ADA, GRACE, user

SLOW_REQUEST_SECONDS = 1.0
BUDGET_SECONDS = 0.2  # far shorter than one slow request


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    with OsmemServer.start(japanese=False) as server:
        yield server


@pytest.fixture
def slow_index(compatible_server: OsmemServer) -> Iterator[tuple[OpenSearchIndex, LatencyProxy]]:
    """An index whose indices are ready, reached through a proxy that is fast for now."""
    with compatible_server.clone() as clone:
        parts = urlsplit(clone.url)
        with LatencyProxy((parts.hostname or "127.0.0.1", parts.port or 80)) as proxy:
            search = Settings.from_environment({SEARCH: proxy.url}).search
            assert isinstance(search, OpenSearchTarget)
            index = OpenSearchIndex(
                search, index_prefix=f"sf{uuid.uuid4().hex[:8]}", retry_budget=BUDGET_SECONDS
            )
            try:
                index.prepare()
                index.write([user(ADA, 1)])
                proxy.latency = SLOW_REQUEST_SECONDS
                yield index, proxy
            finally:
                proxy.latency = 0.0
                index.close()


def test_a_commands_bulk_request_may_outlast_its_retry_budget(
    slow_index: tuple[OpenSearchIndex, LatencyProxy],
) -> None:
    index, proxy = slow_index
    started = time.monotonic()

    outcome = index.write([user(ADA, 2), user(GRACE, 1)])

    assert outcome.written == 2 and not outcome.failed
    assert time.monotonic() - started >= SLOW_REQUEST_SECONDS
    assert len([line for line in proxy.requests if "/_bulk" in line]) == 2  # no retry


def test_a_lambdas_deadline_still_bounds_the_bulk_request(
    slow_index: tuple[OpenSearchIndex, LatencyProxy],
) -> None:
    index, _ = slow_index
    index.deadline = time.monotonic() + BUDGET_SECONDS
    started = time.monotonic()

    with pytest.raises(SearchUnavailable, match="cannot write 1 of 1 documents"):
        index.write([user(GRACE, 1)])

    # Given up when the request's timeout (at least half a second) ran out, not after it.
    assert time.monotonic() - started < SLOW_REQUEST_SECONDS
