"""Arrow columns from JSON text: read with the raw types, then instants and dates parsed.

Events and documents are stored as JSON, one object per row. DuckDB's JSON reader turns a
page of them into typed columns in parallel C++ (twice as fast as Arrow's here), handed
over as Arrow; the ISO-8601 text of instants and dates is then cast to real timestamps and
dates. Arrow's cast takes the common spellings (``Z``, ``+01:00``); text it refuses (naive
instants, ``2024-01-01`` as an instant) is parsed one value at a time the way the
projection reads it: naive means UTC.

>>> table = read_json_rows([b'{"created_at": "2024-01-01T10:00:00"}'], layout.raw_schema)
>>> cast_to(table, layout.schema).column("created_at")[0]
<pyarrow.TimestampScalar: '2024-01-01T10:00:00.000000+0000'>
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from infrastructure.adapters.export.schema import DATE, TIMESTAMP

_connections = threading.local()


def read_json_rows(rows: Sequence[bytes], raw_schema: pa.Schema) -> pa.Table:
    """One table row per JSON object, in order; fields outside the schema are ignored."""
    if not rows:
        return raw_schema.empty_table()
    descriptor, path = tempfile.mkstemp(prefix="streamfold-export-", suffix=".jsonl")
    try:
        with os.fdopen(descriptor, "wb") as staged:
            staged.write(b"\n".join(rows))
            staged.write(b"\n")
        columns = ", ".join(f"'{f.name}': '{_duck_type(f.type)}'" for f in raw_schema)
        table = (
            _connection()
            .sql(
                "SELECT * FROM read_json(?, format = 'newline_delimited',"
                f" columns = {{{columns}}})",
                params=[path],
            )
            .to_arrow_table()
        )
    finally:
        Path(path).unlink()
    if table.num_rows != len(rows):  # a row with a raw newline would split in two
        raise ValueError(f"read {table.num_rows} JSON rows from {len(rows)} objects")
    return table.cast(raw_schema)


def _connection() -> duckdb.DuckDBPyConnection:
    connection = getattr(_connections, "connection", None)
    if connection is None:
        connection = _connections.connection = duckdb.connect(":memory:")
    return connection


def _duck_type(data_type: pa.DataType) -> str:
    if pa.types.is_string(data_type):
        return "VARCHAR"
    if pa.types.is_int64(data_type):
        return "BIGINT"
    if pa.types.is_boolean(data_type):
        return "BOOLEAN"
    if pa.types.is_list(data_type):
        return f"{_duck_type(data_type.value_type)}[]"
    if pa.types.is_struct(data_type):
        fields = ", ".join(f'"{f.name}" {_duck_type(f.type)}' for f in data_type)
        return f"STRUCT({fields})"
    raise TypeError(f"no DuckDB type for {data_type}")


def cast_column(values: pa.Array | pa.ChunkedArray, exported: pa.DataType) -> pa.Array:
    """A raw column as its exported type (instants and dates parsed from text)."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if exported == TIMESTAMP:
        return _instants(array)
    if exported == DATE:
        return _dates(array)
    if pa.types.is_struct(exported):
        return _struct(array, exported)
    return array if array.type == exported else array.cast(exported)


def cast_to(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Every column of ``table`` named in ``schema``, as the schema's types, in its order."""
    columns = [cast_column(table.column(f.name), f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


_ZONE = r"(Z|[+-]\d\d(:?\d\d)?)$"


def _instants(array: pa.Array) -> pa.Array:
    try:
        return pc.cast(array, TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Naive text means UTC: say so with a "Z", still in one vectorized cast.
    zoned = pc.match_substring_regex(array, _ZONE)
    utc = pc.if_else(zoned, array, pc.binary_join_element_wise(array, "Z", ""))
    try:
        return pc.cast(utc, TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([_instant(text) for text in array.to_pylist()], type=TIMESTAMP)


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _dates(array: pa.Array) -> pa.Array:
    try:
        return pc.cast(array, DATE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = [None if t is None else date.fromisoformat(t) for t in array.to_pylist()]
        return pa.array(values, type=DATE)


def _struct(array: pa.Array, exported: pa.StructType) -> pa.Array:
    assert isinstance(array, pa.StructArray)
    children = [cast_column(array.field(f.name), f.type) for f in exported]
    return pa.StructArray.from_arrays(
        children, fields=list(exported), mask=array.is_null() if array.null_count else None
    )
