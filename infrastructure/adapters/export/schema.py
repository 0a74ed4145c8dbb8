"""The columns of the exported tables and their types, derived from the code that fills them.

``events`` has one row per domain event: where it stands in the log, when it was recorded,
which item it belongs to, and the union of every event class's fields (a field absent
from an event is null). ``users`` and ``images`` have one row per current document, with
the document's fields and its version. Deriving the columns from the event classes and
the document models keeps the export in step with the domain without a second list.

Types are explicit, never "everything is a string":

- a text field named ``*_at`` is an ISO-8601 instant, exported as ``timestamp[us, UTC]``
  (naive text means UTC, as the projection reads it);
- a text field named ``*_on`` is a calendar date, exported as ``date32``;
- ``int`` is ``int64``, ``bool`` is ``bool``, ``list[str]`` is ``list<string>``, a nested
  model (an image's ``owner``, a user's ``analytics``) is a ``struct``.

Partition columns are not stored in the files: they are in the paths
(``events/event_date=2024-05-01/...``, ``users/bucket=07/...``), Hive style, as Athena's
partition projection and DuckDB's ``hive_partitioning`` read them.

>>> EVENTS.schema.field("recorded_at").type
TimestampType(timestamp[us, tz=UTC])
>>> DOCUMENTS[DocumentKind.USERS].schema.field("analytics").type.field("first_visit_on").type
DataType(date32[day])
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyarrow as pa
from pydantic import BaseModel

from domain.aggregate import SourceAggregate
from domain.mappers import MAPPERS
from projections.declarations import without_none
from projections.documents import DocumentKind, ImageDocument, UserDocument

TIMESTAMP = pa.timestamp("us", tz="UTC")
DATE = pa.date32()
EVENT_DATE = "event_date"  # the events' partition column (UTC date of recorded_at)
BUCKET = "bucket"  # the documents' partition column
BUCKETS = 16  # documents are spread over this many files per kind, by a hash of the id

# Fields every event has, kept out of the per-field columns (they have columns of their own).
_EVENT_BASE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic"}
)
# Columns every event row starts with, before the fields of the event classes.
LOG_COLUMNS: tuple[pa.Field, ...] = (
    pa.field("position", pa.int64(), nullable=False),
    pa.field("recorded_at", TIMESTAMP, nullable=False),
    pa.field("kind", pa.string(), nullable=False),
    pa.field("event_type", pa.string(), nullable=False),
    pa.field("aggregate_id", pa.string(), nullable=False),
    pa.field("aggregate_version", pa.int64(), nullable=False),
)


class Semantic:
    """How a text value is exported: as text, as an instant, or as a date."""

    TEXT = "text"
    INSTANT = "instant"
    DATE = "date"


def semantic_of(name: str) -> str:
    if name.endswith("_at"):
        return Semantic.INSTANT
    if name.endswith("_on"):
        return Semantic.DATE
    return Semantic.TEXT


def arrow_type(name: str, annotation: Any) -> pa.DataType:
    """The exported type of a field from its Python annotation (``None`` is dropped)."""
    annotation = without_none(annotation)
    if annotation is bool:
        return pa.bool_()
    if annotation is int:
        return pa.int64()
    if annotation is str:
        semantic = semantic_of(name)
        if semantic == Semantic.INSTANT:
            return TIMESTAMP
        return DATE if semantic == Semantic.DATE else pa.string()
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,):
        return pa.list_(pa.string())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct(
            [pa.field(n, arrow_type(n, f.annotation)) for n, f in annotation.model_fields.items()]
        )
    raise TypeError(f"no exported type for {name}: {annotation!r}")


def raw_type(exported: pa.DataType) -> pa.DataType:
    """The type a value has in JSON, before instants and dates are parsed from text."""
    if exported in (TIMESTAMP, DATE):
        return pa.string()
    if pa.types.is_struct(exported):
        return pa.struct([pa.field(f.name, raw_type(f.type)) for f in exported])
    return exported


@dataclass(frozen=True)
class TableLayout:
    """One exported table: its columns (without the partition column) and where it lives."""

    name: str  # the table's name in SQL, and its directory under the export's root
    schema: pa.Schema
    partition: str
    partition_type: pa.DataType

    @property
    def raw_schema(self) -> pa.Schema:
        """The schema JSON values are read with, before text is parsed into instants."""
        return pa.schema([pa.field(f.name, raw_type(f.type)) for f in self.schema])


def event_classes(aggregate_class: type[SourceAggregate]) -> Iterator[type[Any]]:
    """The event classes an aggregate declares, in declaration order."""
    for value in vars(aggregate_class).values():
        if isinstance(value, type) and issubclass(value, SourceAggregate.Event):
            yield value


def _event_fields() -> list[pa.Field]:
    # Keys first (in the mappers' order), then the other fields in declaration order.
    found: dict[str, pa.DataType] = {}
    for mapper in MAPPERS.values():
        hints = _hints_of_creation(mapper.aggregate_class)
        for key in mapper.key_fields:
            _add(found, key, arrow_type(key, hints[key]), mapper.aggregate_class.__name__)
    for mapper in MAPPERS.values():
        for event_class in event_classes(mapper.aggregate_class):
            hints = typing.get_type_hints(event_class)
            for field in dataclasses.fields(event_class):
                if field.name not in _EVENT_BASE_FIELDS:
                    exported = arrow_type(field.name, hints[field.name])
                    _add(found, field.name, exported, event_class.__qualname__)
    return [pa.field(name, exported) for name, exported in found.items()]


def _hints_of_creation(aggregate_class: type[SourceAggregate]) -> dict[str, Any]:
    hints: dict[str, Any] = {}
    for event_class in event_classes(aggregate_class):
        if issubclass(event_class, SourceAggregate.Created):
            hints.update(typing.get_type_hints(event_class))
    return hints


def _add(found: dict[str, pa.DataType], name: str, exported: pa.DataType, owner: str) -> None:
    known = found.setdefault(name, exported)
    if known != exported:
        raise TypeError(f"{owner}.{name} is {exported}, elsewhere {known}: one column, one type")


def _document_fields(model: type[BaseModel]) -> list[pa.Field]:
    return [
        pa.field(name, arrow_type(name, field.annotation))
        for name, field in model.model_fields.items()
    ]


def _events() -> TableLayout:
    schema = pa.schema([*LOG_COLUMNS, *_event_fields()])
    return TableLayout("events", schema, EVENT_DATE, DATE)


def _documents(kind: DocumentKind, model: type[BaseModel]) -> TableLayout:
    version = pa.field("version", pa.int64(), nullable=False)
    schema = pa.schema([*_document_fields(model), version])
    return TableLayout(kind.value, schema, BUCKET, pa.int32())


EVENTS = _events()
DOCUMENTS: dict[DocumentKind, TableLayout] = {
    DocumentKind.USERS: _documents(DocumentKind.USERS, UserDocument),
    DocumentKind.IMAGES: _documents(DocumentKind.IMAGES, ImageDocument),
}
TABLES: tuple[TableLayout, ...] = (EVENTS, *DOCUMENTS.values())


@cache
def kind_of_aggregate() -> dict[str, str]:
    """Aggregate class name -> source kind, e.g. ``{"User": "users", ...}``."""
    return {m.aggregate_class.__name__: m.kind.value for m in MAPPERS.values()}


@cache
def key_fields_of_kind() -> dict[str, tuple[str, ...]]:
    """Source kind -> the event fields holding an item's key."""
    return {m.kind.value: m.key_fields for m in MAPPERS.values()}


def key_columns() -> Iterable[str]:
    """Every column that holds part of some kind's key, in column order."""
    keys = {name for fields in key_fields_of_kind().values() for name in fields}
    return [f.name for f in EVENTS.schema if f.name in keys]
