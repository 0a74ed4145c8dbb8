"""``streamfold rebuild [users|images|all] [--rollback]``."""

from __future__ import annotations

import argparse
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from infrastructure.cli.output import console, print_json
from infrastructure.composition import Streamfold
from infrastructure.rebuild import Rebuild, RebuildReport, rollback
from projections.documents import DocumentKind


def add_rebuild_command(commands: Any) -> None:
    rebuild = commands.add_parser(
        "rebuild", help="rebuild indices from the event store behind the aliases, no downtime"
    )
    rebuild.add_argument("kind", nargs="?", choices=["users", "images", "all"], default="all")
    rebuild.add_argument("--rollback", action="store_true", help="swap back to the previous one")
    rebuild.add_argument("--batch-size", type=int, default=10_000, help="events per batch")
    rebuild.add_argument("--json", action="store_true")
    rebuild.set_defaults(run=run_rebuild)


def run_rebuild(app: Streamfold, args: argparse.Namespace) -> int:
    if args.rollback:
        report = rollback(app, args.batch_size)
    else:
        kinds = list(DocumentKind) if args.kind == "all" else [DocumentKind(args.kind)]
        report = _rebuild_with_progress(app, kinds, args.batch_size, quiet=args.json)
    summary = {
        "generation": report.generation,
        "kinds": report.kinds,
        "events": report.events,
        "documents_written": report.documents_written,
        "seconds": round(report.seconds, 2),
        "aliases_now_point_to": report.indices,
        "previous_indices": report.previous_indices,
        "resumed": report.resumed,
    }
    if args.json:
        print_json(summary)
        return 0
    verb = "rolled back to" if args.rollback else "rebuilt as"
    console.print(
        f"{', '.join(report.kinds)} {verb} generation {report.generation} in "
        f"{report.seconds:.1f} s: {report.events:,} events folded, "
        f"{report.documents_written:,} documents written."
    )
    for kind, name in report.indices.items():
        previous = report.previous_indices.get(kind) or "-"
        console.print(f"  alias {app.index.alias_name(DocumentKind(kind))}: {previous} -> {name}")
    if not args.rollback:
        console.print("The previous indices are kept: `streamfold rebuild --rollback` swaps back.")
    return 0


def _rebuild_with_progress(
    app: Streamfold, kinds: list[DocumentKind], batch_size: int, *, quiet: bool
) -> RebuildReport:
    with Progress(
        TextColumn("[bold]rebuilding"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("events"),
        TimeRemainingColumn(),
        console=console,
        disable=quiet,
    ) as progress:
        task = progress.add_task("rebuild", total=None)

        def advance(position: int, head: int) -> None:
            progress.update(task, completed=position, total=head)

        return Rebuild(app, batch_size=batch_size, progress=advance).run(kinds)
