"""The comparison with the per-record consumer, at a small size: its runs and what it reports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opensearchpy import OpenSearch
from osmem_server import OsmemServer

from devtools.benchmarks.opensearch import compare, describe_runs
from devtools.benchmarks.scratch import scratch_database

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def search_url() -> Iterator[str]:
    with OsmemServer.start(japanese=False) as server, server.clone() as clone:
        yield clone.url


def test_runs_are_reported_as_medians_and_leave_the_server_as_they_found_it(
    search_url: str,
) -> None:
    runs = []
    for _ in range(2):  # each on a fresh database, as the command runs them
        with scratch_database(POSTGRES_ADMIN) as postgres:
            runs.append(compare(search_url, postgres, users=4, batch_size=100))

    figures = describe_runs(runs)

    assert figures["runs"] == 2 and len(figures["each_run"]) == 2
    assert figures["records"] == runs[0].records > 0
    speedups = sorted(run.speedup for run in runs)
    assert figures["speedup"] == {
        "median": round((speedups[0] + speedups[1]) / 2, 2),
        "min": round(speedups[0], 2),
        "max": round(speedups[1], 2),
    }
    assert set(figures["median_run_stage_seconds"]) >= {"parse", "intake", "search"}
    assert OpenSearch(search_url).indices.get(index="*") == {}
