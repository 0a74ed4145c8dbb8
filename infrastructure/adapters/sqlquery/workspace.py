"""SQL over an export with DuckDB: the tables ``events``, ``users`` and ``images``.

Each table is a view over the export's Parquet files, read in place (nothing is loaded
before a query needs it). A table the export has no file for yet is an empty table with
the same columns, so a query is never refused for an export that is merely young. The
documents' bucket (how the files are spread) is not a column; the events' recording date
is, as ``event_date``.

Times are shown in UTC, whatever the machine's time zone, so results read the same
everywhere. A mistake in the SQL (syntax, an unknown table or column, a type error) is
raised as ``SqlError`` with DuckDB's own message on one line.

>>> with SqlWorkspace(Path(".streamfold/export")) as sql:
...     result = sql.run("SELECT plan, count(*) AS users FROM users GROUP BY plan")
>>> result.columns
['plan', 'users']
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import duckdb
import pyarrow as pa

from infrastructure.adapters.export.schema import BUCKET, EVENT_DATE, EVENTS, TABLES, TableLayout
from infrastructure.adapters.sqlquery.result import QueryResult, SqlError

__all__ = ["QueryResult", "SqlError", "SqlWorkspace", "one_line"]


class SqlWorkspace:
    """An in-memory DuckDB database whose tables are views over an export directory."""

    def __init__(self, export_root: Path) -> None:
        self.root = export_root
        self._connection = duckdb.connect(":memory:")
        self._connection.execute("SET TimeZone = 'UTC'")
        for table in TABLES:
            self._create_view(table)

    def _create_view(self, table: TableLayout) -> None:
        directory = self.root / table.name
        if any(directory.glob("*/*.parquet")):
            pattern = str(directory / "*" / "*.parquet").replace("'", "''")
            hidden = "" if table is EVENTS else f" EXCLUDE ({BUCKET})"
            self._connection.execute(
                f"CREATE VIEW {table.name} AS SELECT *{hidden} FROM read_parquet("
                f"'{pattern}', hive_partitioning = true, "
                f"hive_types = {{'{table.partition}': {_duck_type(table)}}})"
            )
            return
        empty = table.schema.empty_table()
        if table is EVENTS:
            empty = empty.append_column(EVENT_DATE, pa.array([], pa.date32()))
        self._connection.register(f"{table.name}_empty", empty)
        self._connection.execute(f"CREATE VIEW {table.name} AS SELECT * FROM {table.name}_empty")

    def run(self, sql: str) -> QueryResult:
        """Run one statement and fetch its whole result.

        Rows travel through Arrow, which hands instants over with their time zone (UTC)
        without needing pytz.
        """
        try:
            relation = self._connection.sql(sql)
            if relation is None:  # a statement without rows (SET, CREATE, ...)
                return QueryResult([], [], [])
            table = relation.to_arrow_table()
            columns, types = list(relation.columns), [str(kind) for kind in relation.types]
        except duckdb.Error as error:
            raise SqlError(_with_our_tables(one_line(str(error)))) from None
        values = [column.to_pylist() for column in table.columns]
        return QueryResult(columns, types, list(zip(*values, strict=True)))

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> SqlWorkspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def one_line(message: str) -> str:
    """DuckDB's message on one line: its lines joined, the caret drawing left out.

    >>> one_line('Parser Error: syntax error at or near "SELEC"\n\nLINE 1: SELEC 1\n        ^')
    'Parser Error: syntax error at or near "SELEC" (LINE 1: SELEC 1)'
    """
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "the query failed"
    located = [line for line in lines[1:] if line.startswith("LINE ")]
    said = [lines[0], *(line for line in lines[1:] if not line.startswith(("LINE ", "^")))]
    return " ".join(said) + (f" ({located[0]})" if located else "")


def exported_tables(export_root: Path) -> list[str]:
    """The tables the export has written files for (none: nothing was exported there)."""
    return [t.name for t in TABLES if any((export_root / t.name).glob("*/*.parquet"))]


# DuckDB suggests the nearest name in its whole catalog, system views included
# ("Did you mean "pg_sequences"?"); a reader of the export means one of its tables.
_NO_TABLE = re.compile(r'Table with name (?P<name>\S+) does not exist! Did you mean "[^"]*"\?')


def _with_our_tables(message: str) -> str:
    found = _NO_TABLE.search(message)
    if found is None:
        return message
    names = [table.name for table in TABLES]
    close = difflib.get_close_matches(found["name"].lower(), names, n=1, cutoff=0.5)
    hint = f'Did you mean "{close[0]}"? ' if close else ""
    tables = ", ".join(names)
    said = f"Table with name {found['name']} does not exist! {hint}The tables are {tables}."
    return message[: found.start()] + said + message[found.end() :]


def _duck_type(table: TableLayout) -> str:
    return "DATE" if table.partition == EVENT_DATE else "INTEGER"
