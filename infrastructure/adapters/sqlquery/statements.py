"""Which statements ``streamfold sql`` runs by default: those that only read.

DuckDB can write files (``COPY ... TO``, ``EXPORT DATABASE``), attach other databases,
install and load extensions, and change settings (some of which write files, such as a
profiling output). A question about the export needs none of that, so anything but a
query (``SELECT``, ``WITH``, ``FROM``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``) or an
``EXPLAIN`` is refused unless the caller allows writes.

>>> refuse_writes("SELECT plan, count(*) FROM users GROUP BY plan")
>>> refuse_writes("COPY users TO 'users.csv'")
Traceback (most recent call last):
SqlRefused: COPY statements may write files, attach databases or change settings: ...
"""

from __future__ import annotations

import duckdb

from infrastructure.adapters.sqlquery.result import SqlError

_READING = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_WORDS = {
    duckdb.StatementType.LOAD: "INSTALL/LOAD",
    duckdb.StatementType.VARIABLE_SET: "SET",
    duckdb.StatementType.EXPORT: "EXPORT DATABASE",
}


class SqlRefused(SqlError):
    """A statement that could write or reach outside the export, without permission."""


def refuse_writes(sql: str) -> None:
    """Raise `SqlRefused` for the first statement that is not a read."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error:
        return  # a syntax error: running it gives DuckDB's own message
    for statement in statements:
        if statement.type not in _READING:
            word = _WORDS.get(statement.type, statement.type.name.replace("_", " "))
            raise SqlRefused(
                f"{word} statements may write files, attach databases or change settings: "
                "`streamfold sql` runs them only with --allow-writes"
            )
