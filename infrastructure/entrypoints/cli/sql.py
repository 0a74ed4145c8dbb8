"""``streamfold sql "SELECT ..."``: SQL over the Parquet export, with DuckDB."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from infrastructure.adapters.sqlquery.render import DEFAULT_MAX_ROWS, as_csv, as_json, as_table
from infrastructure.adapters.sqlquery.result import SqlError
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.settings import export_location


def add_sql_command(commands: Any) -> None:
    sql = commands.add_parser(
        "sql", help="run SQL over the exported events, users and images (DuckDB)"
    )
    sql.add_argument("query", metavar="SQL", help='the query, or "-" to read it from stdin')
    sql.add_argument(
        "--from", dest="location", metavar="DIR",
        help="the export directory (default: $STREAMFOLD_EXPORT, else .streamfold/export)",
    )  # fmt: skip
    sql.add_argument("--fresh", action="store_true", help="export what is new first")
    output = sql.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    output.add_argument("--csv", action="store_true", help="print the rows as CSV")
    sql.add_argument(
        "--max-rows", type=int, default=DEFAULT_MAX_ROWS, help="rows the table shows at most"
    )
    sql.add_argument(
        "--allow-writes", action="store_true",
        help="also run statements that write files, attach databases or change settings "
        "(COPY ... TO, ATTACH, INSTALL, LOAD, EXPORT DATABASE, SET, ...)",
    )  # fmt: skip
    sql.set_defaults(run=run_sql, needs_app=False)


def run_sql(_: Any, args: argparse.Namespace) -> int:
    query = sys.stdin.read() if args.query == "-" else args.query
    if not query.strip():
        raise UsageError("the query is empty")
    location = args.location or export_location()
    if location.startswith("s3://"):
        raise UsageError(
            f"{location} is on S3: query it with Athena (docs/sql.md), or give a local "
            "export directory with --from"
        )
    if args.fresh:
        from infrastructure.entrypoints.cli.export import export

        export(location, full=False, chunk=500_000, show_progress=False)
    # DuckDB: loaded when used
    from infrastructure.adapters.sqlquery.statements import refuse_writes
    from infrastructure.adapters.sqlquery.workspace import SqlWorkspace, exported_tables

    root = Path(location.removeprefix("file://"))
    if not exported_tables(root):
        raise UsageError(_no_export(location, given=bool(args.location)))
    try:
        if not args.allow_writes:
            refuse_writes(query)
        with SqlWorkspace(root) as workspace:
            result = workspace.run(query)
    except SqlError as error:
        raise UsageError(str(error)) from None
    if args.json:
        sys.stdout.write(as_json(result) + "\n")
    elif args.csv:
        sys.stdout.write(as_csv(result))
    else:
        sys.stdout.write(as_table(result, max_rows=max(args.max_rows, 0)) + "\n")
    return 0


def _no_export(location: str, *, given: bool) -> str:
    if given:
        return (
            f"no export in {location}: write one with `streamfold export {location}`, "
            "or add --fresh to export before the query"
        )
    return (
        f"no export in {location} (the default; STREAMFOLD_EXPORT changes it): run "
        "`streamfold export`, add --fresh to export before the query, or name the "
        "directory you exported to with --from DIR"
    )
