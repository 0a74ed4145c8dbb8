"""``streamfold bootstrap``: load existing DynamoDB tables, then let the stream take over."""

from __future__ import annotations

import argparse
from typing import Any

import boto3
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from domain.kinds import TableKind
from infrastructure.bootstrap import bootstrap
from infrastructure.cli.output import console, print_json
from infrastructure.composition import Streamfold


def add_bootstrap_command(commands: Any) -> None:
    command = commands.add_parser(
        "bootstrap", help="import the current contents of the source tables (parallel scan)"
    )
    command.add_argument("--segments", type=int, default=4, help="parallel scan segments")
    command.add_argument(
        "--kind", action="append", choices=[k.value for k in TableKind],
        help="only these table kinds (repeatable; default: all four)",
    )  # fmt: skip
    command.add_argument("--json", action="store_true")
    command.set_defaults(run=run_bootstrap)


def run_bootstrap(app: Streamfold, args: argparse.Namespace) -> int:
    names = {kind: table for table, kind in app.settings.tables.items()}
    kinds = [TableKind(k) for k in args.kind] if args.kind else list(TableKind)
    tables = {kind: names.get(kind, kind.value) for kind in kinds}
    client = boto3.client("dynamodb")
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        console=console, disable=args.json,
    ) as progress:  # fmt: skip
        task = progress.add_task("scanning", total=None)
        seen: dict[str, int] = {}

        def advance(table: str, items: int) -> None:
            seen[table] = seen.get(table, 0) + items
            progress.update(task, description=f"scanned {seen}")

        report = bootstrap(app.pipeline, client, tables, segments=args.segments, progress=advance)
    summary = {
        "items": report.items,
        "events_recorded": report.events_recorded,
        "already_newer_from_the_stream": report.already_newer,
        "rejected_to_dead_letters": report.rejected,
        "documents_dead_lettered": report.documents_dead_lettered,
    }
    if args.json:
        print_json(summary)
    else:
        console.print(
            f"imported {report.items}: {report.events_recorded:,} events recorded, "
            f"{report.already_newer:,} items already newer from the stream, "
            f"{report.rejected} rejected, {report.documents_dead_lettered} documents "
            "dead-lettered. Now start the stream handler or `streamfold poll`."
        )
    return 0
