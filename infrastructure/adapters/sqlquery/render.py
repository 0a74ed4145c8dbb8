"""A query result as text for people (an aligned table), CSV, or JSON for scripts.

The table does not depend on the terminal's width, so what the documentation shows is
exactly what the command prints. Numbers are right-aligned; instants are printed as
ISO-8601 UTC; lists and structs as JSON.

>>> print(as_table(QueryResult(["plan", "users"], ["VARCHAR", "BIGINT"], [("pro", 536)])))
plan  users
----  -----
pro     536
(1 row)
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from infrastructure.adapters.sqlquery.result import QueryResult

DEFAULT_MAX_ROWS = 100


def as_table(result: QueryResult, max_rows: int = DEFAULT_MAX_ROWS) -> str:
    shown = result.rows[:max_rows]
    cells = [[_text(value) for value in row] for row in shown]
    widths = [len(name) for name in result.columns]
    for row in cells:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    right = [_numeric(kind) for kind in result.types]
    lines = [
        _line(result.columns, widths, right),
        "  ".join("-" * width for width in widths),
        *(_line(row, widths, right) for row in cells),
    ]
    count = len(result.rows)
    footer = f"({count:,} row{'s' if count != 1 else ''})"
    if count > len(shown):
        footer = f"({count:,} rows, the first {len(shown):,} shown; use --csv or --json for all)"
    return "\n".join([*lines, footer])


def as_csv(result: QueryResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows:
        writer.writerow(["" if value is None else _text(value) for value in row])
    return buffer.getvalue()


def as_json(result: QueryResult) -> str:
    """One JSON object per row, in a list."""
    rows = [dict(zip(result.columns, map(plain, row), strict=True)) for row in result.rows]
    return json.dumps(rows, ensure_ascii=False)


def plain(value: Any) -> Any:
    """A value as JSON has it: instants and dates as ISO text, decimals as numbers."""
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(plain(value), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(plain(value))


def _instant(value: datetime) -> str:
    text = value.isoformat()
    return text.replace("+00:00", "Z")


_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UBIGINT", "UINTEGER",
            "FLOAT", "DOUBLE", "DECIMAL")  # fmt: skip


def _numeric(kind: str) -> bool:
    return kind.upper().startswith(_NUMERIC)


def _line(cells: list[str], widths: list[int], right: list[bool]) -> str:
    parts = [
        cell.rjust(width) if align else cell.ljust(width)
        for cell, width, align in zip(cells, widths, right, strict=True)
    ]
    return "  ".join(parts).rstrip()
