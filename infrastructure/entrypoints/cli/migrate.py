"""``streamfold migrate [users|images|all] [--plan] [--rollback] [--new-index] [--json]``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from infrastructure.entrypoints.cli.output import console, live_progress, plural, print_json
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.services.migrations.migrate import DEFAULT_LEASE_SECONDS, MigrationReport
from infrastructure.services.migrations.plan import KindPlan, MigrationPlan, Verdict
from projections.documents import DocumentKind

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold


def add_migrate_command(commands: Any) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="bring the indices to the code's versions (in place or blue/green), no downtime",
    )
    migrate.add_argument("kind", nargs="?", choices=["users", "images", "all"], default="all")
    migrate.add_argument("--plan", action="store_true", help="only say what would change")
    migrate.add_argument(
        "--rollback", action="store_true", help="swap back to the previous versions"
    )
    migrate.add_argument(
        "--new-index", action="store_true",
        help="take the blue/green way even where the change fits in place",
    )  # fmt: skip
    migrate.add_argument("--batch-size", type=int, default=10_000, help="events per batch")
    migrate.add_argument(
        "--lease-seconds", type=float, default=DEFAULT_LEASE_SECONDS,
        help="how long the migration's lease lasts without renewal (a dead job's expires)",
    )  # fmt: skip
    migrate.add_argument("--json", action="store_true", help="print one JSON object")
    migrate.set_defaults(run=run_migrate)


def run_migrate(app: Streamfold, args: argparse.Namespace) -> int:
    if args.plan and args.rollback:
        raise UsageError(
            "--plan and --rollback exclude each other; see `streamfold migrate --help`"
        )
    if args.batch_size < 1 or args.lease_seconds <= 0:
        raise UsageError("--batch-size and --lease-seconds must be positive")
    kinds = list(DocumentKind) if args.kind == "all" else [DocumentKind(args.kind)]
    migration = app.migration(batch_size=args.batch_size, lease_seconds=args.lease_seconds)
    if args.plan:
        plan = migration.plan(kinds)
        if args.json:
            print_json(plan.as_json())
        else:
            print_plan(plan)
        return 0
    if args.rollback:
        report = migration.rollback()
    else:
        report = _migrate_with_progress(app, kinds, args, quiet=args.json)
    if args.json:
        print_json(report.as_json())
    else:
        _print_report(report, args.rollback)
    return 0


def print_plan(plan: MigrationPlan) -> None:
    for kind_plan in plan.kinds:
        _print_kind_plan(kind_plan)
    if not plan.needed:
        console.print("Nothing to migrate.")
    else:
        console.print("Run `streamfold migrate` to apply this plan.")


def _print_kind_plan(plan: KindPlan) -> None:
    versions = plan.wanted.label if plan.live is None else plan.live.label
    if plan.live is not None and plan.verdict is not Verdict.UP_TO_DATE:
        versions = f"{plan.live.label} -> {plan.wanted.label}"
    console.print(f"{plan.kind.value:<7} {versions:<28} {plan.verdict.value}", markup=False)
    lines: list[tuple[str, str]] = []
    if plan.live_index and plan.verdict is not Verdict.UP_TO_DATE:
        lines.append(("live index", plan.live_index))
    lines += [("projection", f"v{r.version}: {r.summary}") for r in plan.revisions]
    change = plan.change
    lines += [("field added", f"{p}: {s.describe()}") for p, s in change.added.items()]
    lines += [("field removed", f"{p}: {s.describe()}") for p, s in change.removed.items()]
    lines += [("type changed", c.describe()) for c in change.retyped]
    lines += [("option changed", c.describe()) for c in change.reconfigured]
    lines += [("setting changed", c.describe()) for c in change.settings]
    if plan.verdict is not Verdict.UP_TO_DATE:
        lines += [("why", reason) for reason in plan.reasons]
    if plan.verdict is Verdict.NEW_INDEX:
        lines.append(("cost", f"a rebuild reads {plan.events:,} events and writes "
                              f"{plan.documents:,} documents"))  # fmt: skip
    elif plan.verdict is Verdict.IN_PLACE:
        lines.append(("cost", f"{plan.documents:,} documents re-rendered (a rebuild would "
                              f"read {plan.events:,} events)"))  # fmt: skip
    if plan.unfinished_generation is not None:
        lines.append(("resumes", f"the unfinished generation {plan.unfinished_generation}"))
    for label, text in lines:
        console.print(f"  {label:<16}{text}", markup=False)


def _print_report(report: MigrationReport, rolled_back: bool) -> None:
    for outcome in report.outcomes:
        if outcome.method == "none":
            console.print(f"{outcome.kind}: up to date ({outcome.to_version})")
            continue
        console.print(
            f"{outcome.kind}: {outcome.method}, {outcome.from_version} ({outcome.from_index})"
            f" -> {outcome.to_version} ({outcome.to_index})"
        )
        if outcome.fields_added_in_place:
            console.print(
                f"  {outcome.fields_added_in_place} new field(s) added to {outcome.from_index}"
            )
        if outcome.documents_rewritten:
            console.print(f"  {plural(outcome.documents_rewritten, 'document')} re-rendered")
    if report.generation is not None and not rolled_back:
        console.print(
            f"generation {report.generation} is live: {plural(report.events, 'event')} folded, "
            f"{plural(report.documents_written, 'document')} written"
            + (" (resumed)" if report.resumed else "")
            + f" in {report.seconds:.1f} s. "
            "`streamfold migrate --rollback` swaps back."
        )
    elif rolled_back:
        console.print(f"generation {report.generation} is live again ({report.seconds:.1f} s).")
    else:
        console.print(f"done in {report.seconds:.1f} s.")


def _migrate_with_progress(
    app: Streamfold, kinds: list[DocumentKind], args: argparse.Namespace, *, quiet: bool
) -> MigrationReport:
    with live_progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        disable=quiet,
        transient=True,
    ) as progress:
        task = progress.add_task("migrating", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total or None)

        def stage(name: str) -> None:
            progress.update(task, description=name)

        migration = app.migration(
            batch_size=args.batch_size,
            lease_seconds=args.lease_seconds,
            progress=advance,
            stage=stage,
        )
        return migration.run(kinds, new_index=args.new_index)
