"""``streamfold bootstrap``: load existing DynamoDB tables, then let the stream take over."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

from domain.kinds import TableKind
from infrastructure.adapters.aws_clients import aws_client
from infrastructure.entrypoints.cli.output import console, live_progress, plural, print_json
from infrastructure.services.bootstrap import bootstrap

if TYPE_CHECKING:
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
    # Without --kind, every table the stream is read from: all four, or those the mapping names.
    mapped = set(app.settings.tables.values()) or set(TableKind)
    kinds = (
        [TableKind(k) for k in args.kind] if args.kind else [k for k in TableKind if k in mapped]
    )
    tables = app.settings.table_names(kinds)
    client = aws_client("dynamodb")
    with live_progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
        disable=args.json,
    ) as progress:  # fmt: skip
        task = progress.add_task("scanning", total=None)
        seen: dict[str, int] = {}

        def advance(table: str, items: int) -> None:
            seen[table] = seen.get(table, 0) + items
            progress.update(task, description=f"scanned {_items(seen)}")

        def stage(name: str) -> None:  # a first build's steps: folding, rendering, ...
            progress.update(task, description=f"scanned {_items(seen)}; building documents: {name}")

        report = bootstrap(
            app.pipeline, client, tables, segments=args.segments, progress=advance,
            first_build=app.first_build(), stage=stage,
        )  # fmt: skip
    summary = {
        "items": report.items,
        "events_recorded": report.events_recorded,
        "already_newer_from_the_stream": report.already_newer,
        "rejected_to_dead_letters": report.rejected,
        "documents_written": report.documents_written,
        "documents_dead_lettered": report.documents_dead_lettered,
        # The generation a first build made live (ADR 0030); null when settled in groups.
        "built_into_generation": report.built_into,
    }
    if args.json:
        print_json(summary)
    else:
        console.print(
            f"imported {_items(report.items)}: "
            f"{plural(report.events_recorded, 'event')} recorded, "
            f"{plural(report.already_newer, 'item')} already newer from the stream, "
            f"{report.rejected} rejected, "
            f"{plural(report.documents_written, 'document')} written"
            + (
                ""
                if report.built_into is None
                else f" (built once, generation {report.built_into})"
            )
            + f", {plural(report.documents_dead_lettered, 'document')} dead-lettered. "
            "Now start the stream handler or `streamfold poll`."
        )
    return 0


def _items(per_table: dict[str, int]) -> str:
    """``3 items of prod-users and 1 item of prod-images``."""
    counts = [f"{plural(count, 'item')} of {table}" for table, count in per_table.items()]
    return " and ".join(counts) or "no items"
