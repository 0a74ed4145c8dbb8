"""How fast a document's history answers, and what keeping its feed index costs ingestion.

A generated CRM workload is ingested twice into fresh embedded stores, once with the feed
index (projections/feeds.py) and once without, to compare records/s. The first store then
also receives one "hot" user whose images collect ``hot_likes`` likes, and the history
page and the as-of replay of that user are timed.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools.demo import CrmWorkload, lambda_events
from devtools.demo.tables import SimulatedTables
from infrastructure.adapters.eventstore.projection_store import SqlProjectionSession
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from projections.documents import DocumentKind

HOT_USER = "usr_bench_hot"
_HOT_IMAGES = 20


@dataclass(frozen=True)
class HistoryFigures:
    events: int
    hot_events: int
    records: int
    with_feeds_records_per_second: float
    without_feeds_records_per_second: float
    history_ms: list[float]
    as_of_ms: list[float]

    def describe(self) -> dict[str, Any]:
        drop = 1 - self.with_feeds_records_per_second / self.without_feeds_records_per_second
        return {
            "events_in_store": self.events,
            "hot_user_contributing_events": self.hot_events,
            "records_ingested": self.records,
            "ingest_records_per_second_with_feeds": round(self.with_feeds_records_per_second),
            "ingest_records_per_second_without_feeds": round(self.without_feeds_records_per_second),
            "ingest_throughput_drop_percent": round(100 * drop, 1),
            "history_page_ms": _percentiles(self.history_ms),
            "as_of_ms": _percentiles(self.as_of_ms),
        }


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 1), "p95": round(p95, 1)}


@contextmanager
def _store(directory: Path) -> Iterator[Streamfold]:
    settings = Settings(
        SQLiteStore(directory / "events.db"), EmbeddedSearch(directory / "index"), {}, "bench"
    )
    with Streamfold.from_settings(settings) as app:
        yield app


def _ingest(app: Streamfold, payloads: list[str]) -> float:
    started = time.perf_counter()
    for payload in payloads:
        outcome = app.ingestion.handle(json.loads(payload))
        if outcome.failed:
            raise RuntimeError(f"the benchmark batch failed: {outcome.error}")
    return time.perf_counter() - started


def hot_user_payloads(likes: int, batch_size: int) -> list[str]:
    """One user, ``_HOT_IMAGES`` images of theirs, and ``likes`` likes spread over them."""
    tables = SimulatedTables(region="eu-west-1", seed=5)
    tables.put("users", {"userId": HOT_USER, "email": "hot@bench.example", "name": "Hot User",
                         "plan": "pro", "country": "GB", "createdAt": "2024-01-01T00:00:00Z",
                         "marketingOptIn": True})  # fmt: skip
    for n in range(_HOT_IMAGES):
        tables.put("images", {"imageId": f"img_hot_{n}", "userId": HOT_USER, "title": f"Hot {n}",
                              "imageUrl": f"https://cdn.example/hot/{n}.jpg",
                              "createdAt": "2024-02-01T00:00:00Z", "status": "active",
                              "sizeBytes": 1000})  # fmt: skip
    for n in range(likes):
        tables.put("likes", {"imageId": f"img_hot_{n % _HOT_IMAGES}",
                             "userId": f"usr_fan_{n // _HOT_IMAGES}",
                             "createdAt": "2024-03-01T00:00:00Z"})  # fmt: skip
    return [json.dumps(event) for event in lambda_events(tables.records, batch_size)]


def _timed(action: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(1000 * (time.perf_counter() - started))
    return samples


def measure_history(
    users: int, hot_likes: int, runs: int, pairs: int = 3, batch_size: int = 1000
) -> HistoryFigures:
    """``pairs`` ingestions without and with the index, alternated; the fastest of each
    counts, as the one least disturbed by whatever else the machine runs."""
    workload = CrmWorkload(seed=3, users=users)
    payloads = [json.dumps(e) for e in lambda_events(workload.records, batch_size)]
    records = len(workload.records)
    del workload
    with tempfile.TemporaryDirectory(prefix="streamfold-history-") as scratch:
        without, with_feeds = float("inf"), float("inf")
        for pair in range(pairs):
            without = min(without, _without_feeds(Path(scratch) / f"without-{pair}", payloads))
            if pair < pairs - 1:
                with _store(Path(scratch) / f"with-{pair}") as app:
                    with_feeds = min(with_feeds, _ingest(app, payloads))
        with _store(Path(scratch) / "with") as app:
            with_feeds = min(with_feeds, _ingest(app, payloads))
            _ingest(app, hot_user_payloads(hot_likes, batch_size))
            history = app.history
            hot_events = len(history._feeds.feeding_aggregates(DocumentKind.USERS, HOT_USER))
            page = _timed(lambda: history.changes(DocumentKind.USERS, HOT_USER, limit=50), runs)
            now = datetime.now(UTC)
            as_of = _timed(lambda: history.as_of(DocumentKind.USERS, HOT_USER, now), runs)
            events = app.event_store.head()
    return HistoryFigures(
        events, hot_events, records, records / with_feeds, records / without, page, as_of
    )


def _without_feeds(directory: Path, payloads: list[str]) -> float:
    # The baseline: the same pipeline with the feed index switched off for this run only.
    SqlProjectionSession.keeps_feeds = False
    try:
        with _store(directory) as app:
            return _ingest(app, payloads)
    finally:
        SqlProjectionSession.keeps_feeds = True
