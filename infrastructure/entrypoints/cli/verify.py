"""``streamfold verify [users|images|all] [--source eventstore|dynamodb] [--repair]``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from domain.kinds import TableKind
from infrastructure.adapters.aws_clients import aws_client
from infrastructure.entrypoints.cli.output import console, plural, print_json, print_table
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.services.table_documents import scan_documents
from infrastructure.services.verify import EVENT_STORE, INDEX, VerifyReport
from projections.documents import DocumentKind

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold


def add_verify_command(commands: Any) -> None:
    command = commands.add_parser(
        "verify", help="compare the live index with the event store's fold, or with the tables"
    )
    command.add_argument("kind", nargs="?", choices=["users", "images", "all"], default="all")
    command.add_argument(
        "--source", choices=["eventstore", "dynamodb"], default="eventstore",
        help="what to compare with: the fold of the event store (default) or a scan of the "
        "tables named by STREAMFOLD_TABLES",
    )  # fmt: skip
    command.add_argument(
        "--repair", action="store_true",
        help="rewrite the drifted documents from the event store (never from the tables)",
    )  # fmt: skip
    command.add_argument("--segments", type=int, default=4, help="parallel scan segments")
    command.add_argument("--examples", type=int, default=10, help="drifted documents to show")
    command.add_argument("--json", action="store_true")
    command.set_defaults(run=run_verify)


def run_verify(app: Streamfold, args: argparse.Namespace) -> int:
    if not 1 <= args.segments <= 1_000_000:
        raise UsageError("--segments must be from 1 to 1000000")
    kinds = list(DocumentKind) if args.kind == "all" else [DocumentKind(args.kind)]
    if args.source == "dynamodb":
        tables = app.settings.table_names(TableKind)
        scan = scan_documents(aws_client("dynamodb"), tables, args.segments)
        report = app.verification().against_tables(kinds, scan, repair=args.repair)
    else:
        report = app.verification().against_event_store(kinds, repair=args.repair)
    summary = _summary(report, args.examples)
    if args.json:
        print_json(summary)
    else:
        _print(report, summary, args)
    repaired = args.repair and not report.unrepairable and not report.documents_dead_lettered
    return 0 if report.clean or repaired else 1


def _summary(report: VerifyReport, examples: int) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "source": report.source,
        "checked": report.checked,
        "missing": report.count("missing"),
        "extra": report.count("extra"),
        "differing": report.count("differs"),
        "repaired": report.repaired,
        "unrepairable": report.unrepairable,
        "documents_dead_lettered": report.documents_dead_lettered,
        "examples": [
            {"kind": d.kind, "id": d.doc_id, "problem": d.problem, "fields": d.fields}
            | ({"cause": d.cause} if report.source == "dynamodb" else {})
            for d in report.drift[:examples]
        ],
    }
    if report.source == "dynamodb":
        summary["items_scanned"] = report.items
        summary["index_drift"] = len(report.caused_by(INDEX))
        summary["event_store_behind_tables"] = len(report.caused_by(EVENT_STORE))
        summary["unreadable_items"] = report.unreadable[:examples]
    return summary


def _print(report: VerifyReport, summary: dict[str, Any], args: argparse.Namespace) -> None:
    against = "the tables" if report.source == "dynamodb" else "the event store"
    checked = " and ".join(
        plural(count, kind.removesuffix("s")) for kind, count in summary["checked"].items()
    )
    console.print(
        f"checked {checked or 'nothing'} against {against}: {summary['missing']:,} missing, "
        f"{summary['extra']:,} extra, {summary['differing']:,} differing"
        + (f"; {report.repaired:,} repaired" if args.repair else "")
        + (
            f", {report.documents_dead_lettered:,} refused (see `streamfold dlq`)"
            if report.documents_dead_lettered
            else ""
        )
    )
    if report.drift:
        rows = [[d.kind, d.doc_id, d.problem, ", ".join(d.fields), d.cause] for d in report.drift]
        columns = ["kind", "id", "problem", "fields", "cause"]
        if report.source != "dynamodb":
            rows, columns = [row[:-1] for row in rows], columns[:-1]
        print_table("examples", columns, rows[: args.examples])
    if report.unreadable:
        console.print(
            f"{plural(len(report.unreadable), 'item')} of the tables cannot have a document "
            f"(the domain's rules refuse it); the first: {report.unreadable[0]}",
            markup=False,
        )
    behind = report.caused_by(EVENT_STORE)
    if behind:
        console.print(
            f"{plural(len(behind), 'document')} {'differs' if len(behind) == 1 else 'differ'} "
            "because the event store never received a change "
            "of the tables; `--repair` does not write these. Replay the stream while it still "
            "holds the change (`streamfold poll --stream-arn ARN --until-idle`), or change the "
            "item again; items the event store has never seen come in with "
            '`streamfold bootstrap`. See docs/operations.md, "Verify and repair".'
        )
