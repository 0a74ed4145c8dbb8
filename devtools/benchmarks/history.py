"""How fast a document's history answers for a busy user in a big store.

A generated CRM workload is ingested into an embedded store, then one "hot" user whose
images collect ``hot_likes`` likes. That user's first history page (50 entries; also
with no checkpoint kept restored between requests), older pages (following the cursor)
and ``as_of`` at moments spread over the user's past are timed, in wall and CPU time.
The first read, which builds the replay checkpoints, is timed on its own: the hot user's
checkpoints are dropped at the start of every run.

What keeping the feed index costs ingestion is measured by `streamfold bench pipeline
--without-feed-index` against the same command without the flag (`feed_index_off`).
"""

from __future__ import annotations

import json
import os
import random
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
from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.document_feeds import SqlDocumentFeeds
from infrastructure.adapters.eventstore.projection_store import SqlProjectionSession
from infrastructure.adapters.eventstore.sqlite_factory import connect_store
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from projections.documents import DocumentKind
from projections.history.replay import recorded_at
from projections.history.service import DocumentHistory

HOT_USER = "usr_bench_hot"
_HOT_IMAGES = 20


@dataclass(frozen=True)
class HistoryFigures:
    events: int
    hot_events: int
    first_read_ms: float
    checkpoints: int
    checkpoint_bytes: int
    history_ms: list[float]
    history_cold_ms: list[float]
    older_page_ms: list[float]
    as_of_ms: list[float]
    load_average: tuple[float, float, float]
    history_cpu_ms: list[float]
    as_of_cpu_ms: list[float]

    def describe(self) -> dict[str, Any]:
        return {
            "events_in_store": self.events,
            "hot_user_contributing_events": self.hot_events,
            "first_read_ms": round(self.first_read_ms, 1),
            "checkpoints": self.checkpoints,
            "checkpoint_bytes": self.checkpoint_bytes,
            "history_page_ms": _percentiles(self.history_ms),
            "history_page_cold_ms": _percentiles(self.history_cold_ms),
            "older_page_ms": _percentiles(self.older_page_ms),
            "as_of_ms": _percentiles(self.as_of_ms),
            "history_page_cpu_ms": _percentiles(self.history_cpu_ms),
            "as_of_cpu_ms": _percentiles(self.as_of_cpu_ms),
            "load_average": self.load_average,
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


@contextmanager
def feed_index_off() -> Iterator[None]:
    """The projection without its feed index, for a benchmark's baseline only."""
    SqlProjectionSession.keeps_feeds = False
    try:
        yield
    finally:
        SqlProjectionSession.keeps_feeds = True


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


def _timed(action: Callable[[], object], cpu: list[float] | None = None) -> float:
    """Milliseconds of wall time; the process's CPU milliseconds go to ``cpu``."""
    started, used = time.perf_counter(), time.process_time()
    action()
    if cpu is not None:
        cpu.append(1000 * (time.process_time() - used))
    return 1000 * (time.perf_counter() - started)


def build_store(directory: Path, users: int, hot_likes: int, batch_size: int = 1000) -> None:
    """The background workload and the hot user, ingested into a store in ``directory``."""
    workload = CrmWorkload(seed=3, users=users)
    payloads = [json.dumps(e) for e in lambda_events(workload.records, batch_size)]
    del workload
    with _store(directory) as app:
        _ingest(app, payloads)
        _ingest(app, hot_user_payloads(hot_likes, batch_size))


def pad_store(directory: Path, events: int) -> int:
    """Append copies of the store's first events, under mirrored aggregate ids, until it
    holds ``events``; their feed rows are copied under copied document ids. Returns the
    events appended.

    Ingesting a million events through the whole pipeline takes hours on a loaded machine;
    the history reads a document's events by index, so what matters to it is how many
    rows the events table and its indexes hold, not how they got there. The copies are
    never projected (the projection's position stays where it was).
    """
    connection = connect_store(directory / "events.db")
    try:
        connection.create_function("mirrored", 1, lambda text: text[::-1], deterministic=True)
        (head,) = connection.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
        copies = min(head, max(0, events - head))
        if copies == 0:
            return 0
        with connection:
            connection.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
                " SELECT mirrored(originator_id), originator_version, topic, state"
                " FROM stored_events WHERE rowid <= ? ORDER BY rowid",
                (copies,),
            )
            connection.execute(
                "INSERT OR IGNORE INTO streamfold_document_feeds (kind, doc_id, aggregate_id)"
                " SELECT f.kind, f.doc_id || '~copy', mirrored(f.aggregate_id)"
                " FROM streamfold_document_feeds f WHERE f.doc_id != ?",
                (HOT_USER,),
            )
        return int(copies)
    finally:
        connection.close()


def measure_history(
    users: int, hot_likes: int, runs: int, store: Path | None = None, seed: int = 1
) -> HistoryFigures:
    """Times on the store in ``store`` (built there first if it holds none), else on a
    store built in a temporary directory."""
    if store is None:
        with tempfile.TemporaryDirectory(prefix="streamfold-history-") as scratch:
            build_store(Path(scratch), users, hot_likes)
            return _measure(Path(scratch), runs, seed)
    if not (store / "events.db").exists():
        store.mkdir(parents=True, exist_ok=True)
        build_store(store, users, hot_likes)
    return _measure(store, runs, seed)


def _measure(directory: Path, runs: int, seed: int) -> HistoryFigures:
    kind = DocumentKind.USERS
    with _store(directory) as app:
        feeds = SqlDocumentFeeds(app.event_store)
        history = DocumentHistory(feeds)
        positions = feeds.feeding_positions(kind, HOT_USER)
        feeds.drop_checkpoints(kind, HOT_USER, 0)
        first_read = _timed(lambda: history.changes(kind, HOT_USER, limit=50))
        checkpoints, size = _checkpoint_size(app)
        page_cpu: list[float] = []
        page = [
            _timed(lambda: history.changes(kind, HOT_USER, limit=50), page_cpu) for _ in range(runs)
        ]
        # Without the checkpoints kept restored in memory: each page restores its own.
        cold = DocumentHistory(feeds, keep_restored=0)
        page_cold = [_timed(lambda: cold.changes(kind, HOT_USER, limit=50)) for _ in range(runs)]
        older: list[float] = []
        cursor = history.changes(kind, HOT_USER, limit=50).next_cursor
        for _ in range(runs):
            started = time.perf_counter()
            cursor = history.changes(kind, HOT_USER, limit=50, before=cursor).next_cursor
            older.append(1000 * (time.perf_counter() - started))
        first, last = (recorded_at(e) for e in feeds.events_at([positions[0], positions[-1]]))
        rng = random.Random(seed)
        moments = [datetime.now(UTC)] + [
            first + (last - first) * rng.random() for _ in range(runs - 1)
        ]
        as_of_cpu: list[float] = []
        as_of = [
            _timed(lambda m=m: history.as_of(kind, HOT_USER, m), as_of_cpu)  # type: ignore[misc]
            for m in moments
        ]
        events = app.event_store.head()
    return HistoryFigures(
        events, len(positions), first_read, checkpoints, size, page, page_cold, older, as_of,
        os.getloadavg(), page_cpu, as_of_cpu,
    )  # fmt: skip


def _checkpoint_size(app: Streamfold) -> tuple[int, int]:
    dialect = dialect_for(app.event_store)
    with dialect.transaction() as cursor:
        cursor.execute(
            dialect.sql(
                "SELECT COUNT(*) AS n, SUM(LENGTH(state)) AS bytes"
                " FROM streamfold_history_checkpoints WHERE kind = ? AND doc_id = ?"
            ),
            (DocumentKind.USERS.value, HOT_USER),
        )
        row = cursor.fetchone()
    return int(row["n"]), int(row["bytes"] or 0)


@dataclass(frozen=True)
class IngestionRun:
    feed_index: bool
    records: int
    seconds: float
    cpu_seconds: float  # of this process, every thread (tantivy's writers included)
    load_average: float

    def describe(self) -> dict[str, Any]:
        return {
            "feed_index": self.feed_index,
            "records_per_second": round(self.records / self.seconds),
            "records_per_cpu_second": round(self.records / self.cpu_seconds),
            "load_average": round(self.load_average, 2),
        }


def ingestion_ab(users: int, pairs: int, batch_size: int = 1000) -> list[IngestionRun]:
    """The same workload ingested into fresh embedded stores, without and with the feed
    index, alternated ``pairs`` times; wall and CPU time of each ingestion."""
    workload = CrmWorkload(seed=3, users=users)
    payloads = [json.dumps(e) for e in lambda_events(workload.records, batch_size)]
    records = len(workload.records)
    del workload
    runs: list[IngestionRun] = []
    with tempfile.TemporaryDirectory(prefix="streamfold-feeds-ab-") as scratch:
        for pair in range(pairs):
            for feed_index in (False, True):
                directory = Path(scratch) / f"{pair}-{feed_index}"
                with feed_index_off() if not feed_index else _nothing(), _store(directory) as app:
                    used = time.process_time()
                    seconds = _ingest(app, payloads)
                    cpu = time.process_time() - used
                runs.append(IngestionRun(feed_index, records, seconds, cpu, os.getloadavg()[0]))
    return runs


@contextmanager
def _nothing() -> Iterator[None]:
    yield
