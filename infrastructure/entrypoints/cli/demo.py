"""``streamfold demo``: a realistic CRM workload through the whole pipeline."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

from devtools.demo import CrmWorkload, kinesis_lambda_events, lambda_events
from infrastructure.entrypoints.cli.output import console, live_progress, plural, print_table
from infrastructure.services.grouping import SettleGroups
from infrastructure.services.ingestion import BatchOutcome
from projections.documents import DocumentKind
from projections.query import SearchRequest

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold

DEMO_QUERIES = [
    (DocumentKind.IMAGES, "montains at dwn", "a typo-tolerant search over titles"),
    (DocumentKind.IMAGES, "city skyline night", "several words, ranked"),
    (DocumentKind.USERS, "olivia", "users by name"),
]


def add_demo_command(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run a generated CRM workload through the pipeline")
    demo.add_argument("--users", type=int, default=2000, help="how many users to generate")
    demo.add_argument("--seed", type=int, default=7, help="the workload's random seed")
    demo.add_argument("--batch-size", type=int, default=100, help="records per Lambda batch")
    demo.add_argument("--kinesis", action="store_true", help="deliver in the Kinesis shape")
    demo.set_defaults(run=run_demo)


def run_demo(app: Streamfold, args: argparse.Namespace) -> int:
    # An unreachable backend is one line now, not a retried warning for every batch.
    app.search.count(DocumentKind.USERS)
    console.print(f"Generating a CRM workload of {args.users} users (seed {args.seed}) ...")
    workload = CrmWorkload(seed=args.seed, users=args.users)
    shape = kinesis_lambda_events if args.kinesis else lambda_events
    events = shape(workload.records, batch_size=args.batch_size)
    total = BatchOutcome()
    started = time.perf_counter()
    with live_progress(
        TextColumn("[bold]ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} records/s"),
        TimeElapsedColumn(),
    ) as progress:
        task = progress.add_task("ingest", total=len(workload.records), rate="-")
        # Recorded batch by batch, settled a group at a time; the last batch settles the rest.
        groups = SettleGroups(app.pipeline, expected_records=len(workload.records))
        last = len(events)
        for number, event in enumerate(events, 1):
            outcome = app.ingestion.handle(event, groups, settle=number == last)
            _add(total, outcome)
            elapsed = time.perf_counter() - started
            progress.update(
                task, advance=outcome.records, rate=f"{total.records / max(elapsed, 1e-9):,.0f}"
            )
    _summary(app, total, time.perf_counter() - started)
    _show_queries(app)
    return 1 if total.failed else 0


def _add(total: BatchOutcome, outcome: BatchOutcome) -> None:
    total.records += outcome.records
    total.events_recorded += outcome.events_recorded
    total.duplicates += outcome.duplicates
    total.dead_lettered += outcome.dead_lettered
    total.documents_written += outcome.documents_written
    total.stale_writes_rejected += outcome.stale_writes_rejected
    total.failed += outcome.failed


def _summary(app: Streamfold, total: BatchOutcome, seconds: float) -> None:
    users = app.search.count(DocumentKind.USERS)
    images = app.search.count(DocumentKind.IMAGES)
    console.print(
        f"\n{plural(total.records, 'stream record')} in {seconds:.1f} s "
        f"({total.records / max(seconds, 1e-9):,.0f}/s): "
        f"{plural(total.events_recorded, 'domain event')}, "
        f"{plural(total.duplicates, 'duplicate')} skipped, "
        f"{plural(total.dead_lettered, 'dead letter')}, "
        f"{plural(total.documents_written, 'document write')}."
    )
    if total.duplicates == total.records:
        console.print("Every record was already ingested: the pipeline is idempotent.")
    console.print(
        f"Searchable now: [bold]{users:,}[/bold] users, [bold]{images:,}[/bold] images.\n"
    )


def _show_queries(app: Streamfold) -> None:
    for kind, text, purpose in DEMO_QUERIES:
        page = app.search.search(kind, SearchRequest(text=text, size=3))
        field = "title" if kind is DocumentKind.IMAGES else "name"
        rows = [[hit.id, hit.source.get(field), f"{hit.score or 0:.2f}"] for hit in page.hits]
        print_table(
            f"streamfold search {kind.value} {text!r}  ({purpose}): "
            f"{plural(page.total, 'match', 'matches')}",
            ["id", field, "score"],
            rows,
        )
    console.print("Try: .venv/bin/streamfold search images 'sunset beach' --json")
