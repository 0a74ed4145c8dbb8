"""The projection database is sealed behind its ports: only the SQL adapter names its tables.

Every string literal of the product's packages is read (with ``ast``, so comments and
docstrings of prose do not count unless they hold SQL): one that names a table of the
event-store adapter, or that reads like SQL on a ``streamfold_`` table, may only live in
``infrastructure/adapters/eventstore``. The benchmarks (``devtools``) and the tests are
outside the rule: they may measure or check the SQL itself.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "infrastructure")
SQL_ADAPTER = ROOT / "infrastructure" / "adapters" / "eventstore"

_TABLE_WORD = re.compile(r"\bstreamfold_\w*")
_SQL_WORD = re.compile(
    r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|FROM|JOIN|INTO)\b", re.IGNORECASE
)


def adapter_table_names() -> set[str]:
    """Every ``streamfold_*`` name the SQL adapter's source uses (its tables and indexes)."""
    return {
        name
        for path in SQL_ADAPTER.rglob("*.py")
        for name in _TABLE_WORD.findall(path.read_text(encoding="utf-8"))
    }


def _literals(source: str) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def sql_on_tables(source: str, table_names: set[str]) -> list[int]:
    """Lines of the literals that name an adapter table or hold SQL on a ``streamfold_`` one."""
    found = []
    for line, text in _literals(source):
        names = set(_TABLE_WORD.findall(text))
        if names & table_names or (names and _SQL_WORD.search(text)):
            found.append(line)
    return found


def _product_sources() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SQL_ADAPTER not in path.parents:
                yield path


def test_no_sql_on_streamfold_tables_outside_the_sql_adapter() -> None:
    names = adapter_table_names()
    offending = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _product_sources()
        for line in sql_on_tables(path.read_text(encoding="utf-8"), names)
    ]
    assert offending == [], (
        "SQL on streamfold_* tables belongs in infrastructure/adapters/eventstore "
        f"(reach it through a port or an adapter method): {offending}"
    )


def test_the_adapter_names_the_tables_the_rule_guards() -> None:
    names = adapter_table_names()
    assert {"streamfold_documents", "streamfold_tracking", "streamfold_user_state"} <= names


@pytest.mark.parametrize(
    "source",
    [
        'cursor.execute("SELECT position FROM streamfold_tracking WHERE projection = ?")',
        'rows = query(f"SELECT DISTINCT {column} FROM streamfold_{name}_state")',
        'SOURCES = {"users": ("streamfold_user_state", "user_id")}',
        'statement = ("INSERT INTO streamfold_new_table"\n " (a) VALUES (?)")',
    ],
)
def test_the_scan_finds_sql_on_streamfold_tables(source: str) -> None:
    assert sql_on_tables(source, adapter_table_names()) == [1]


@pytest.mark.parametrize(
    "source",
    [
        'MARKER = "_streamfold_export.json"',
        'result = {"streamfold_records_per_second": 12}',
        'cursor.execute("SELECT * FROM events")',
        "# SELECT position FROM streamfold_tracking",
    ],
)
def test_the_scan_leaves_other_text_alone(source: str) -> None:
    assert sql_on_tables(source, adapter_table_names()) == []
