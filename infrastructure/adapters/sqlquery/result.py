"""What a query answers, and how it fails: shared by the DuckDB workspace and the renderers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class SqlError(Exception):
    """The database refused a query; the message is DuckDB's, on one line."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    types: list[str]  # DuckDB's type names, e.g. BIGINT, VARCHAR, TIMESTAMP WITH TIME ZONE
    rows: list[tuple[Any, ...]]
