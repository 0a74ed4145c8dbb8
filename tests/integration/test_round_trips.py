"""Network round trips of one Lambda batch with fan-out, on PostgreSQL and OpenSearch.

Counted on the wire by loopback proxies (`devtools.latency_proxy`): a PostgreSQL round
trip is each time the client speaks after the server answered (a pipeline flush counts
once), an OpenSearch one is an HTTP request. The batch renames users who each own
images that others liked, so one record fans out to several documents.

The counts are printed (``-s``). Asserted: bulk requests are split by size only (one
per 5 MB sent), and a batch stays under ``PG_ROUND_TRIP_BOUND`` PostgreSQL round trips.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from osmem_server import OsmemServer

from devtools.demo import SimulatedTables, lambda_events
from devtools.demo.people import new_user
from devtools.demo.photos import new_image
from devtools.latency_proxy import LatencyProxy
from infrastructure import lambda_handlers
from infrastructure.adapters.opensearch.bulk import MAX_BYTES_PER_REQUEST
from infrastructure.settings import PostgresStore

IMAGES_PER_OWNER = 5
# At most this many PostgreSQL round trips per batch, whatever its size and fan-out (7
# today: docs/performance.md says where they go).
PG_ROUND_TRIP_BOUND: int | None = 10


@dataclass
class Wires:
    postgres: LatencyProxy
    search: LatencyProxy


def assert_at_most(count: int, bound: int | None, what: str) -> None:
    if bound is not None:
        assert count <= bound, f"{what}: {count} round trips, at most {bound} expected"


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    with OsmemServer.start(japanese=False) as server:
        yield server


@pytest.fixture
def wires(
    compatible_server: OsmemServer,
    postgres_store: PostgresStore,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Wires]:
    with compatible_server.clone() as clone:
        parts = urlsplit(clone.url)
        with (
            LatencyProxy((postgres_store.host, postgres_store.port)) as postgres,
            LatencyProxy((parts.hostname or "127.0.0.1", parts.port or 80)) as search,
        ):
            monkeypatch.setenv(
                "STREAMFOLD_EVENT_STORE",
                f"postgresql://{postgres_store.user}@127.0.0.1:{postgres.port}/"
                f"{postgres_store.dbname}",
            )
            monkeypatch.setenv("STREAMFOLD_SEARCH", search.url)
            monkeypatch.delenv("STREAMFOLD_TABLES", raising=False)
            monkeypatch.delenv("STREAMFOLD_REFRESH", raising=False)
            lambda_handlers.reset()
            yield Wires(postgres, search)
            lambda_handlers.reset()


def owners_with_liked_images(owners: int) -> SimulatedTables:
    """``owners`` users, each owning images, the first of which another user liked."""
    rng = random.Random(7)
    tables = SimulatedTables()
    for number in range(owners):
        tables.put("users", new_user(rng, f"u-{number}", "2024-01-01T00:00:00Z"))
    for number in range(owners):
        for image in range(IMAGES_PER_OWNER):
            item = new_image(rng, f"i-{number}-{image}", f"u-{number}", "2024-01-02T00:00:00Z")
            tables.put("images", item)
    for number in range(owners):
        liker = f"u-{(number + 1) % owners}"
        like = {"imageId": f"i-{number}-0", "userId": liker, "createdAt": "2024-01-03T00:00:00Z"}
        tables.put("likes", like)
    return tables


def handle(event: Mapping[str, object]) -> None:
    answer = lambda_handlers.stream_handler(event, None)
    assert answer == {"batchItemFailures": []}


@pytest.mark.parametrize("batch", [100, 1000])
def test_round_trips_of_one_batch_of_renames_with_fan_out(wires: Wires, batch: int) -> None:
    tables = owners_with_liked_images(batch)
    for event in lambda_events(tables.take_records(), 1000):
        handle(event)
    for number in range(batch):
        tables.update("users", {"userId": f"u-{number}"}, {"name": f"Renamed {number}"})
    (renames,) = lambda_events(tables.take_records(), batch)
    wires.postgres.reset_counts()
    wires.search.reset_counts()

    handle(renames)

    postgres, requests = wires.postgres.round_trips, wires.search.requests
    bulks = [line for line in requests if "/_bulk" in line]
    documents = batch * (1 + IMAGES_PER_OWNER)
    print(
        f"\n{batch} records, {documents} documents: {postgres} PostgreSQL round trips, "
        f"{len(requests)} OpenSearch requests ({len(bulks)} bulk)"
    )
    sent = wires.search.bytes_sent
    # One bulk request per 5 MB, whatever the number of documents: these batches' documents
    # fit in one (how requests are cut is tested in tests/unit/test_bulk_requests.py).
    assert sent <= MAX_BYTES_PER_REQUEST
    assert len(bulks) == 1
    assert_at_most(postgres, PG_ROUND_TRIP_BOUND, f"a batch of {batch}")
