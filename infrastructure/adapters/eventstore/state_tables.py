"""The state tables in SQL, derived from the state row classes (`projections.state`).

A row's field becomes a column of the same name: ``str`` is TEXT, ``int`` BIGINT, ``bool``
BOOLEAN, a list is TEXT holding JSON; an optional field is nullable, every other one NOT
NULL. Each table starts with ``aggregate_id``, the key rows are saved and loaded by.

>>> STATE_TABLES[StateTable.LIKES].columns
('image_id', 'user_id')
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import orjson

from infrastructure.adapters.eventstore.dialects import Cursor, Dialect
from infrastructure.adapters.eventstore.generations import for_generation
from projections import state
from projections.declarations import without_none
from projections.state import Row, StateTable

_SQL_TYPES: dict[Any, str] = {str: "TEXT", int: "BIGINT", bool: "BOOLEAN", list: "TEXT"}


def _load(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def _encode(value: Any) -> Any:
    return orjson.dumps(value).decode() if isinstance(value, list) else value


# How a stored value is read back: SQLite gives 0/1 for a boolean, both give text for JSON.
_READERS: dict[Any, Callable[[Any], Any]] = {bool: bool, int: int, list: _load}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    nullable: bool
    unique: bool = False

    @property
    def ddl(self) -> str:
        return (
            f"{self.name} {self.sql_type}"
            + ("" if self.nullable else " NOT NULL")
            + (" UNIQUE" if self.unique else "")
        )


class StateTableLayout:
    """One state table: its name, columns, and its rows' way in and out of SQL."""

    def __init__(
        self,
        name: str,
        row_class: type[Any],
        unique: str | None = None,
        computed: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.row_class = row_class
        self.fields = _columns(row_class, unique, computed or {})
        self.columns = tuple(column.name for column in self.fields)
        self._values = attrgetter(*self.columns)
        hints = typing.get_type_hints(row_class)
        self._readers = tuple(
            (f.name, _READERS.get(_base(hints[f.name]))) for f in dataclasses.fields(row_class)
        )
        # The row a stored record holds: ``layout.row(record)``.
        self.row: Callable[[Any], Any] = _row_reader(row_class, self._readers)
        # The parameters of a row's upsert, its key first: ``layout.keyed(key, row)``.
        self.keyed: Callable[[str, Any], tuple[Any, ...]] = _keyed_values(
            self.columns, _lists(hints)
        )

    @property
    def create(self) -> str:
        columns = ", ".join(column.ddl for column in self.fields)
        return f"CREATE TABLE IF NOT EXISTS {self.name} ( aggregate_id TEXT PRIMARY KEY, {columns})"

    def values(self, row: Row) -> tuple[Any, ...]:
        # Called for every state row a rebuild writes: one C-level attribute fetch per row,
        # and the per-value encoding only for rows that hold a list.
        values: tuple[Any, ...] = self._values(row)
        if list in map(type, values):
            return tuple(_encode(value) for value in values)
        return values


def _lists(hints: Mapping[str, Any]) -> set[str]:
    """The fields that hold a list (stored as JSON text)."""
    return {name for name, hint in hints.items() if _base(hint) is list}


def _keyed_values(
    columns: tuple[str, ...], lists: set[str]
) -> Callable[[str, Any], tuple[Any, ...]]:
    """A row's key and column values, its lists as JSON text (what `values` gives).

    Compiled once per table into one tuple display: a batch saves thousands of rows.
    """
    values = ", ".join(
        f"_encode(row.{name})" if name in lists else f"row.{name}" for name in columns
    )
    keyed: Callable[[str, Any], tuple[Any, ...]] = eval(  # noqa: S307
        f"lambda key, row: (key, {values})", {"_encode": _encode}
    )
    return keyed


def _row_reader(
    row_class: type[Any], readers: tuple[tuple[str, Callable[[Any], Any] | None], ...]
) -> Callable[[Any], Any]:
    """Reads a row from a record: each column by name, a stored NULL kept as None, the
    others read back by their field's reader (`_READERS`).

    Compiled once per table into one call of the row class: the views read thousands of
    rows per batch. The names are the row classes' field identifiers.
    """
    scope: dict[str, Any] = {"row_class": row_class}
    arguments = []
    for number, (name, read) in enumerate(readers):
        if read is None:
            arguments.append(f"record[{name!r}]")
        else:
            scope[f"read{number}"] = read
            arguments.append(
                f"(None if (value{number} := record[{name!r}]) is None"
                f" else read{number}(value{number}))"
            )
    source = f"lambda record: row_class({', '.join(arguments)})"
    reader: Callable[[Any], Any] = eval(source, scope)  # noqa: S307
    return reader


def _base(annotation: Any) -> Any:
    inner = without_none(annotation)
    if typing.get_origin(inner) is typing.Literal:  # an enumeration of strings
        return type(typing.get_args(inner)[0])
    return typing.get_origin(inner) or inner


def _columns(
    row_class: type[Any], unique: str | None, computed: Mapping[str, str]
) -> tuple[Column, ...]:
    hints = typing.get_type_hints(row_class)
    columns: list[Column] = []
    for field in dataclasses.fields(row_class):
        annotation = hints[field.name]
        nullable = without_none(annotation) is not annotation
        sql_type = _SQL_TYPES[_base(annotation)]
        columns.append(Column(field.name, sql_type, nullable, field.name == unique))
        if field.name in computed:
            columns.append(Column(computed[field.name], sql_type, False))
    return tuple(columns)


# A user or an image has one row per item: its one-attribute key is unique. The images'
# upload instant is stored after ``created_at`` so that SQL can order uploads by instant.
def add_declared_columns(dialect: Dialect, cursor: Cursor, generation: int) -> list[str]:
    """Add the optional columns declared since a generation's state tables were created.

    An optional attribute declared on a source table is written by the next batch, long
    before `streamfold migrate` folds the events into a new generation: its column must be
    there, NULL for the rows written before. A required column cannot be added to rows
    that lack it; the migration's new generation has it. Run inside the transaction that
    created the tables, under its lock, so that two processes never add the same column.
    Returns the columns added, as ``table.column``.
    """
    added = []
    for layout in STATE_TABLES.values():
        table = for_generation(layout.name, generation)
        present = dialect.column_names(cursor, table)
        for column in layout.fields:
            if column.name not in present and column.nullable:
                cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column.ddl}")
                added.append(f"{table}.{column.name}")
    return added


STATE_TABLES: dict[StateTable, StateTableLayout] = {
    StateTable.USERS: StateTableLayout("streamfold_user_state", state.UserRow, unique="user_id"),
    StateTable.IMAGES: StateTableLayout(
        "streamfold_image_state",
        state.ImageRow,
        unique="image_id",
        computed={"created_at": "uploaded_instant"},
    ),
    StateTable.LIKES: StateTableLayout("streamfold_like_state", state.LikeRow),
    StateTable.PAYMENTS: StateTableLayout("streamfold_payment_state", state.PaymentRow),
    StateTable.ANALYTICS: StateTableLayout("streamfold_analytics_state", state.WebTrafficRow),
}
