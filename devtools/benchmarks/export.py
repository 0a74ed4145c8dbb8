"""Export throughput over an event store of N events, and SQL latency over that export.

The store is filled first (the generated CRM workload through the intake, then the
projection, so that there are documents to export); that part is not timed. Then a full
export runs to a fresh directory, and three of ``docs/sql.md``'s questions are timed over
its files, each in a fresh DuckDB workspace, as ``streamfold sql`` runs them.

    streamfold bench export --events 1000000 --store /tmp/export-bench   # keeps the store
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.export.destination import LocalDirectory
from infrastructure.adapters.export.exporter import ParquetExport
from infrastructure.adapters.sqlquery.workspace import SqlWorkspace
from infrastructure.adapters.streams import parse_lambda_event
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from projections.projector import DocumentProjector

_EVENTS_PER_USER = 24  # what the generated workload records per user, a little less on average

# Three questions of docs/sql.md: one over the documents, two that only the history answers.
QUERIES: dict[str, str] = {
    "plan transitions (events)": (
        "SELECT previous_plan AS from_plan, plan AS to_plan, count(*) AS changes"
        " FROM events WHERE event_type = 'User.PlanChanged'"
        " GROUP BY ALL ORDER BY changes DESC, from_plan, to_plan"
    ),
    "refund rate by country (events + users)": (
        "WITH payments AS (SELECT user_id, payment_id,"
        " bool_or(event_type = 'Payment.Refunded') AS refunded"
        " FROM events WHERE kind = 'payments' GROUP BY ALL)"
        " SELECT u.country, count(*) AS payments,"
        " round(100.0 * avg(p.refunded::INTEGER), 1) AS refunded_pct"
        " FROM payments p JOIN users u USING (user_id)"
        " GROUP BY ALL ORDER BY payments DESC, u.country LIMIT 5"
    ),
    "users by plan (users)": (
        "SELECT plan, count(*) AS users, round(avg(lifetime_value_cents) / 100, 2) AS avg_ltv"
        " FROM users GROUP BY plan ORDER BY plan"
    ),
}


@dataclass
class QueryFigures:
    name: str
    runs: list[float] = field(default_factory=list)  # seconds, each in a fresh workspace

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.runs) * 1000


@dataclass
class ExportFigures:
    events: int
    documents: int
    seconds: float
    event_files: int
    document_files: int
    queries: list[QueryFigures]

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds


def settings_in(directory: Path) -> Settings:
    return Settings(
        SQLiteStore(directory / "events.db"), EmbeddedSearch(directory / "index"), {}, "bench"
    )


def fill_store(directory: Path, events: int, seed: int = 1) -> int:
    """At least ``events`` domain events and their projection; returns the head."""
    with Streamfold.from_settings(settings_in(directory)) as app:
        while app.event_store.head() < events:
            workload = CrmWorkload(seed=seed, users=_users_for(events - app.event_store.head()))
            for event in lambda_events(workload.records, batch_size=5000):
                records = parse_lambda_event(event, app.settings.kind_of_table)
                app.intake.record([r.change for r in records if r.change is not None])
            seed += 1
        DocumentProjector(app.projection_store, batch_size=10_000).catch_up()
        return app.event_store.head()


def _users_for(missing_events: int) -> int:
    # A tenth more than the average asks for, and never a handful of users: a top-up of
    # one or two users can add next to nothing (its items exist already) and the filling
    # went on for thousands of rounds.
    return max(50, -(-missing_events * 11 // (10 * _EVENTS_PER_USER)))


def measure_export(store: Path, events: int, runs: int = 5) -> ExportFigures:
    """Fill ``store`` unless it holds ``events`` already, export it, time the queries."""
    with Streamfold.from_settings(settings_in(store)) as app:
        filled = app.event_store.head()
    if filled < events:
        fill_store(store, events)
    with Streamfold.from_settings(settings_in(store)) as app, _scratch() as target:
        started = time.perf_counter()
        report = ParquetExport(app.event_store, LocalDirectory(target)).run(full=True)
        seconds = time.perf_counter() - started
        figures = ExportFigures(
            events=report.events,
            documents=sum(report.documents.values()),
            seconds=seconds,
            event_files=report.event_files,
            document_files=report.document_files,
            queries=[_time_query(target, name, sql, runs) for name, sql in QUERIES.items()],
        )
    return figures


def _time_query(export: Path, name: str, sql: str, runs: int) -> QueryFigures:
    figures = QueryFigures(name)
    for _ in range(runs):
        started = time.perf_counter()
        with SqlWorkspace(export) as workspace:
            workspace.run(sql)
        figures.runs.append(time.perf_counter() - started)
    return figures


@contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="streamfold-export-bench-") as directory:
        yield Path(directory)


def describe(figures: ExportFigures) -> dict[str, object]:
    return {
        "events": figures.events,
        "documents": figures.documents,
        "seconds": round(figures.seconds, 2),
        "events_per_second": round(figures.events_per_second),
        "event_files": figures.event_files,
        "document_files": figures.document_files,
        "query_latency_ms": {
            q.name: {"median": round(q.median_ms, 1), "max": round(q.max_ms, 1)}
            for q in figures.queries
        },
    }
