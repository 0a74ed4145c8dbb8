"""What an export should hold, from the store itself, and what it does hold, from its files.

The expected side decodes the stored events with the event store's own mapper and takes
the rendered documents from the projection, then turns ISO-8601 text into instants and
dates by the export's rules (a field ``*_at`` is an instant, naive meaning UTC; ``*_on``
a date), written again here so a mistake in the export's conversion shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.dataset as ds
import pyarrow.fs as pafs

from devtools.demo import lambda_events
from domain.aggregate import SourceAggregate
from infrastructure.composition import Streamfold
from projections.documents import DocumentKind

BASE_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic"}
KEY_FIELDS = {
    "users": ("user_id",),
    "images": ("image_id",),
    "likes": ("image_id", "user_id"),
    "payments": ("user_id", "payment_id"),
    "analytics": ("user_id", "visited_on", "source"),
}
KINDS = {"User": "users", "Image": "images", "Like": "likes", "Payment": "payments",
         "WebTraffic": "analytics"}  # fmt: skip


def ingest(app: Streamfold, records: list[Any], batch_size: int = 500) -> None:
    for event in lambda_events(records, batch_size=batch_size):
        outcome = app.ingestion.handle(event)
        assert not outcome.failed, outcome.error


def typed(name: str, value: Any) -> Any:
    """A stored value as the export types it."""
    if value is None:
        return None
    if name.endswith("_at"):
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if name.endswith("_on"):
        return date.fromisoformat(value)
    if isinstance(value, dict):
        return {key: typed(key, item) for key, item in value.items()}
    return value


def stored_events(app: Streamfold) -> list[dict[str, Any]]:
    """Every event of the store as an export row should have it (nulls left out)."""
    recorder = app.event_store.recorder
    mapper = app.event_store.event_log.mapper
    rows: list[dict[str, Any]] = []
    keys: dict[str, dict[str, Any]] = {}
    for notification in recorder.select_notifications(start=1, limit=10**9):
        event = mapper.to_domain_event(notification)
        assert isinstance(event, SourceAggregate.Event)
        aggregate, _, event_name = type(event).__qualname__.partition(".")
        kind = KINDS[aggregate]
        fields = {
            f.name: typed(f.name, getattr(event, f.name))
            for f in dataclasses.fields(event)
            if f.name not in BASE_FIELDS
        }
        aggregate_id = event.originator_id.hex
        if event.originator_version == 1:
            keys[aggregate_id] = {name: fields[name] for name in KEY_FIELDS[kind]}
        row = {
            "position": notification.id,
            "recorded_at": event.timestamp,
            "kind": kind,
            "event_type": f"{aggregate}.{event_name}",
            "aggregate_id": aggregate_id,
            "aggregate_version": event.originator_version,
            **keys[aggregate_id],
            **fields,
        }
        rows.append({name: value for name, value in row.items() if value is not None})
    return rows


def stored_documents(app: Streamfold) -> dict[str, dict[str, dict[str, Any]]]:
    """The live documents of each kind with their versions, typed as exported."""
    documents: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in DocumentKind:
        found: dict[str, dict[str, Any]] = {}
        after = ""
        while page := app.projection_store.documents_page(kind, after, 1000):
            for change in page:
                if change.body is not None:
                    body = {name: typed(name, value) for name, value in change.body.items()}
                    found[change.doc_id] = {**body, "version": change.version}
            after = page[-1].doc_id
        documents[kind.value] = found
    return documents


def dataset(root: Path | str, table: str, filesystem: pafs.FileSystem | None = None) -> Any:
    return ds.dataset(
        f"{root}/{table}", format="parquet", partitioning="hive", filesystem=filesystem
    )


def exported_events(
    root: Path | str, filesystem: pafs.FileSystem | None = None
) -> list[dict[str, Any]]:
    rows = dataset(root, "events", filesystem).to_table().to_pylist()
    for row in rows:
        assert str(row.pop("event_date")) == row["recorded_at"].date().isoformat()
    return sorted(
        ({name: value for name, value in row.items() if value is not None} for row in rows),
        key=lambda row: row["position"],
    )


def exported_documents(
    root: Path | str, filesystem: pafs.FileSystem | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    documents: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in DocumentKind:
        id_field = "user_id" if kind is DocumentKind.USERS else "image_id"
        rows = dataset(root, kind.value, filesystem).to_table().to_pylist()
        found = {}
        for row in rows:
            bucket = row.pop("bucket")
            assert 0 <= int(bucket) < 16
            found[row[id_field]] = row
        assert len(found) == len(rows), f"a {kind.value} document is exported twice"
        documents[kind.value] = found
    return documents


def same_instants(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their instants in UTC (Arrow hands them over in the file's zone)."""
    return [
        {
            name: value.astimezone(UTC) if isinstance(value, datetime) else value
            for name, value in row.items()
        }
        for row in rows
    ]
