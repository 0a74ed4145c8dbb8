"""``streamfold export [DESTINATION]``: the event log and the documents as Parquet files."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.entrypoints.cli.output import console, live_progress, plural, print_json
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.settings import Settings, export_location

if TYPE_CHECKING:
    from infrastructure.adapters.export.exporter import ExportReport


def add_export_command(commands: Any) -> None:
    export = commands.add_parser(
        "export", help="write events and documents as Parquet (a directory or s3://)"
    )
    export.add_argument(
        "destination", nargs="?", metavar="DESTINATION",
        help="a directory or s3://bucket/prefix (default: $STREAMFOLD_EXPORT, else "
        ".streamfold/export)",
    )  # fmt: skip
    export.add_argument(
        "--full", action="store_true", help="rewrite everything instead of what is new"
    )
    export.add_argument(
        "--chunk", type=int, default=500_000, help="events per range of event files"
    )
    export.add_argument("--json", action="store_true", help="print the report as JSON")
    export.set_defaults(run=run_export, needs_app=False)


def run_export(_: Any, args: argparse.Namespace) -> int:
    if args.chunk < 1:
        raise UsageError("--chunk must be at least 1")
    report = export(args.destination or export_location(), full=args.full, chunk=args.chunk,
                    show_progress=not args.json and console.is_terminal)  # fmt: skip
    if args.json:
        print_json(asdict(report) | {"events_per_second": round(report.events_per_second)})
    else:
        _summary(report)
    return 0


def export(location: str, *, full: bool, chunk: int, show_progress: bool) -> ExportReport:
    """Export the configured event store to ``location`` (also what ``sql --fresh`` runs)."""
    # Arrow and Parquet are loaded by the commands that use them, not by every command.
    from infrastructure.adapters.export.destination import open_destination
    from infrastructure.adapters.export.exporter import ParquetExport

    store = EventStore(Settings.from_environment().event_store)
    try:
        destination = open_destination(location)
        if not show_progress:
            return ParquetExport(store, destination, chunk_events=chunk).run(full=full)
        with live_progress(
            TextColumn("[bold]exporting events"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            transient=True,
        ) as progress:
            task = progress.add_task("export", total=None)
            exporter = ParquetExport(
                store,
                destination,
                chunk_events=chunk,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
            return exporter.run(full=full)
    finally:
        store.close()


def _summary(report: ExportReport) -> None:
    documents = ", ".join(f"{count:,} {kind}" for kind, count in report.documents.items())
    events = (
        f"{plural(report.events, 'event')} in {plural(report.event_files, 'file')} "
        f"({report.events_per_second:,.0f} events/s), up to position {report.position:,}"
        if report.events
        else f"no new events (up to position {report.position:,})"
    )
    console.print(
        f"{report.destination}: {events}; "
        + (f"documents rewritten: {documents}" if documents else "documents unchanged")
        + (f", {report.deleted_documents:,} deleted" if report.deleted_documents else "")
        + (" (exported from the start)" if report.restarted else ""),
        soft_wrap=True,
        markup=False,
    )


def add_export_bench(which: Any) -> None:
    """``streamfold bench export``: registered by the bench command beside the others."""
    bench = which.add_parser(
        "export", help="export events/s over >= 1M events, and SQL latency over that export"
    )
    bench.add_argument("--events", type=int, default=1_000_000)
    bench.add_argument(
        "--store", type=Path, help="keep the generated event store here (reused when it is big "
        "enough); default: a temporary directory",
    )  # fmt: skip
    bench.add_argument("--runs", type=int, default=5, help="timed runs per query")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(run=run_export_bench, needs_app=False)


def run_export_bench(_: Any, args: argparse.Namespace) -> int:
    import tempfile

    from devtools.benchmarks.export import describe, measure_export

    console.print(
        f"Preparing an event store of at least {args.events:,} events (not timed) ...",
        soft_wrap=True,
    )
    if args.store is not None:
        args.store.mkdir(parents=True, exist_ok=True)
        figures = describe(measure_export(args.store, args.events, max(args.runs, 1)))
    else:
        with tempfile.TemporaryDirectory(prefix="streamfold-export-store-") as directory:
            figures = describe(measure_export(Path(directory), args.events, max(args.runs, 1)))
    if args.json:
        print_json(figures)
        return 0
    console.print(
        f"full export of {figures['events']:,} events and {figures['documents']:,} documents "
        f"in {figures['seconds']} s: {figures['events_per_second']:,} events/s "
        f"({figures['event_files']} event files, {figures['document_files']} document files)",
        soft_wrap=True,
    )
    latency: Any = figures["query_latency_ms"]
    for name, timing in latency.items():
        console.print(
            f"  {name:<42} median {timing['median']:>7.1f} ms   max {timing['max']:>7.1f} ms"
        )
    return 0
