"""``streamfold import analytics FILE...``: web-analytics exports beside the users."""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infrastructure.entrypoints.cli.output import console, print_json
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.services.analytics.columns import ColumnMapping
from infrastructure.services.analytics.importer import AnalyticsImport, ImportReport
from infrastructure.services.analytics.reader import FORMATS, AnalyticsFileError
from infrastructure.settings import ANALYTICS_COLUMNS

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def add_import_command(commands: Any) -> None:
    command = commands.add_parser("import", help="import rows from sources other than DynamoDB")
    sources = command.add_subparsers(dest="source", required=True, metavar="SOURCE")
    analytics = sources.add_parser(
        "analytics", help="a web-analytics export (CSV or JSON lines, optionally gzipped)"
    )
    analytics.add_argument("files", nargs="+", type=Path, metavar="FILE")
    analytics.add_argument(
        "--columns", metavar="FIELD=COLUMN,...",
        help="the file's column for each field (userId, date, sessions, pageviews, source, "
        f"medium); default ${ANALYTICS_COLUMNS}, else the field names",
    )  # fmt: skip
    analytics.add_argument(
        "--format", choices=FORMATS, help="the files' format (default: from the extension)"
    )
    analytics.add_argument("--json", action="store_true", help="print one JSON line per file")
    analytics.set_defaults(run=run_import_analytics)


def run_import_analytics(app: Streamfold, args: argparse.Namespace) -> int:
    spec = args.columns if args.columns is not None else os.environ.get(ANALYTICS_COLUMNS, "")
    importer = AnalyticsImport(app.pipeline, ColumnMapping.parse(spec))
    for path in args.files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
    for path in args.files:
        # The file's modification time orders it against other versions of the same rows.
        version = _EPOCH + timedelta(microseconds=path.stat().st_mtime_ns // 1000)
        try:
            with path.open("rb") as stream:
                report = importer.run(str(path), stream, version, args.format)
        except AnalyticsFileError as unreadable:
            raise UsageError(str(unreadable)) from None
        _report(report, as_json=args.json)
    return 0


def _report(report: ImportReport, *, as_json: bool) -> None:
    if as_json:
        print_json(asdict(report))
        return
    console.print(
        f"{report.file}: {_count(report.rows, 'row')}, {_count(report.events_recorded, 'event')}"
        f", {report.already_imported:,} already imported, {report.dead_lettered:,} dead-lettered"
        + (" (see `streamfold dlq list --table analytics`)" if report.dead_lettered else "")
        + f", {_count(report.documents_written, 'document')} written",
        markup=False,
        soft_wrap=True,
    )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
