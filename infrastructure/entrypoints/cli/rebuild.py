"""``streamfold rebuild [users|images|all] [--workers N|--partition K/N|--activate|--rollback]``."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from infrastructure.entrypoints.cli.output import console, live_progress, plural, print_json
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.services.rebuild import RebuildReport
from infrastructure.services.rebuilding.slices import Partition, PartitionError
from infrastructure.services.rebuilding.workers import LocalWorkers
from projections.documents import DocumentKind

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold

# Set by AWS Batch in each child of an array job: 0 to size - 1.
BATCH_ARRAY_INDEX = "AWS_BATCH_JOB_ARRAY_INDEX"
# A worker that stopped before its part was done (it waited too long for the other slices)
# exits with EX_TEMPFAIL: run it again, it resumes.
EXIT_RUN_AGAIN = 75


def add_rebuild_command(commands: Any) -> None:
    rebuild = commands.add_parser(
        "rebuild", help="rebuild indices from the event store behind the aliases, no downtime"
    )
    rebuild.add_argument("kind", nargs="?", choices=["users", "images", "all"], default="all")
    rebuild.add_argument("--rollback", action="store_true", help="swap back to the previous one")
    rebuild.add_argument(
        "--partition", metavar="K/N",
        help="rebuild slice K (0 to N-1) of N, one worker each; K may be `array` for "
        f"${BATCH_ARRAY_INDEX}",
    )  # fmt: skip
    rebuild.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="share the rebuild among N worker processes of this machine (one slice each)",
    )  # fmt: skip
    rebuild.add_argument(
        "--activate", action="store_true",
        help="activate a partitioned rebuild whose slices are all done (normally the last "
        "worker does it)",
    )  # fmt: skip
    rebuild.add_argument(
        "--wait", type=float, metavar="SECONDS",
        help="how long a worker waits for the other slices to fold (default: as long as it "
        f"takes); past it, it exits with {EXIT_RUN_AGAIN} and resumes when run again",
    )  # fmt: skip
    rebuild.add_argument("--batch-size", type=int, default=10_000, help="events per batch")
    rebuild.add_argument("--json", action="store_true")
    rebuild.set_defaults(run=run_rebuild)


def run_rebuild(app: Streamfold, args: argparse.Namespace) -> int:
    modes = (args.rollback, args.activate, args.partition is not None, args.workers != 1)
    if sum(modes) > 1:
        raise UsageError("use one of --rollback, --activate, --partition and --workers")
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    if not 1 <= args.workers <= 256:
        raise UsageError("--workers must be from 1 to 256")
    if args.rollback:
        report = app.rebuild(batch_size=args.batch_size).rollback()
    elif args.activate:
        report = app.rebuild(batch_size=args.batch_size).finish()
    else:
        report = _rebuild_with_progress(app, args, quiet=args.json)
    summary = {
        "generation": report.generation,
        "kinds": report.kinds,
        "partition": report.partition,
        "events": report.events,
        "events_caught_up": report.caught_up,
        "documents_written": report.documents_written,
        "seconds": round(report.seconds, 2),
        "activated": report.activated,
        "waiting_for": report.waiting_for,
        "waiting_to": report.waiting_to,
        "aliases_now_point_to": report.indices if report.activated else {},
        "previous_indices": report.previous_indices,
        "resumed": report.resumed,
    }
    status = EXIT_RUN_AGAIN if report.waiting_to == "fold" or (
        args.activate and report.waiting_for
    ) else 0  # fmt: skip
    if args.json:
        print_json(summary)
        return status
    _print_summary(app, report, rollback=args.rollback)
    return status


def _partition(text: str | None) -> Partition | None:
    if text is None:
        return None
    index, _, count = text.partition("/")
    if index.strip() == "array":
        if not os.environ.get(BATCH_ARRAY_INDEX, "").isdigit():
            raise UsageError(f"--partition array/N needs ${BATCH_ARRAY_INDEX} (AWS Batch sets it)")
        text = f"{os.environ[BATCH_ARRAY_INDEX]}/{count}"
    try:
        return Partition.parse(text)
    except PartitionError as error:
        raise UsageError(f"--partition {error}") from None


def _print_summary(app: Streamfold, report: RebuildReport, *, rollback: bool) -> None:
    work = (
        f"{plural(report.events, 'event')} folded, "
        f"{plural(report.documents_written, 'document')} written"
        f" in {report.seconds:.1f} s"
    )
    if report.activated:
        verb = "rolled back to" if rollback else "rebuilt as"
        console.print(f"{', '.join(report.kinds)} {verb} generation {report.generation}: {work}.")
        for kind, name in report.indices.items():
            previous = report.previous_indices.get(kind) or "-"
            alias = app.index.alias_name(DocumentKind(kind))
            console.print(f"  alias {alias}: {previous} -> {name}")
        if not rollback:
            console.print(
                "The previous indices are kept: `streamfold rebuild --rollback` swaps back."
            )
        return
    slices = ", ".join(map(str, report.waiting_for))
    if report.waiting_to == "fold":
        console.print(
            f"slice {report.partition} of generation {report.generation}: {work}; slice(s) "
            f"{slices} have not folded yet. Run this worker again: it resumes."
        )
    elif report.waiting_for:
        console.print(
            f"slice {report.partition} of generation {report.generation} is done: {work}. "
            f"Slice(s) {slices} still render; the last one to finish activates "
            "(or `streamfold rebuild --activate` once they are done)."
        )
    else:
        console.print(
            f"generation {report.generation} was activated by another worker meanwhile: {work}."
        )


class _Rate(ProgressColumn):
    """Events (or documents) per second."""

    def render(self, task: Task) -> Text:
        return Text("" if task.speed is None else f"{task.speed:,.0f}/s", style="cyan")


def _rebuild_with_progress(
    app: Streamfold, args: argparse.Namespace, *, quiet: bool
) -> RebuildReport:
    kinds = list(DocumentKind) if args.kind == "all" else [DocumentKind(args.kind)]
    with live_progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[unit]}"),
        _Rate(),
        TimeRemainingColumn(),
        disable=quiet,
    ) as progress:
        tasks = [progress.add_task("rebuilding", total=None, unit="events")]

        def advance(done: int, total: int) -> None:
            progress.update(tasks[-1], completed=done, total=total or None)

        def stage(name: str) -> None:  # each step gets a bar (and a rate) of its own
            progress.remove_task(tasks.pop())
            unit = "documents" if name.startswith("rendering") else "events"
            tasks.append(progress.add_task(name, total=None, unit=unit))

        if args.workers > 1:
            return LocalWorkers(
                app.projection_store.registry,
                args.workers,
                args.kind,
                args.batch_size,
                progress=advance,
                stage=stage,
            ).run()
        return app.rebuild(
            batch_size=args.batch_size,
            progress=advance,
            partition=_partition(args.partition),
            wait_seconds=args.wait,
            stage=stage,
        ).run(kinds)
