"""``streamfold resync``: re-derive some documents and rewrite them with fresh versions.

streamfold resync users ID [ID ...]       those user documents
streamfold resync images ID [ID ...]      those image documents
streamfold resync images --owner ID       the images of one user
streamfold resync --table likes           every document the likes table feeds
... [--source dynamodb]                   read the items from their tables first
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from domain.kinds import TableKind
from infrastructure.adapters.aws_clients import aws_client
from infrastructure.entrypoints.cli import exit_codes
from infrastructure.entrypoints.cli.output import console, plural, print_json
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.services.resync import (
    ReconcileReport,
    RewriteReport,
)
from projections.documents import DocumentKind

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold


def add_resync_command(commands: Any) -> None:
    resync = commands.add_parser(
        "resync", help="re-derive some documents from the event store and rewrite them"
    )
    resync.add_argument("kind", nargs="?", choices=["users", "images"], help="document kind")
    resync.add_argument("ids", nargs="*", metavar="ID", help="document ids")
    resync.add_argument("--owner", metavar="USER_ID", help="with images: the images of a user")
    resync.add_argument(
        "--table", choices=[kind.value for kind in TableKind],
        help="every document the table's items feed",
    )  # fmt: skip
    resync.add_argument(
        "--source", choices=["events", "dynamodb"], default="events",
        help="dynamodb: read the items from their tables first, record what differed",
    )  # fmt: skip
    resync.add_argument("--json", action="store_true", help="print one JSON object")
    resync.set_defaults(run=run_resync)


def run_resync(app: Streamfold, args: argparse.Namespace) -> int:
    target = _target(args)
    reconciled = ReconcileReport()
    if args.source == "dynamodb":
        reconciled = _reconcile(app, args, target)
    documents = _documents(app, args, target)
    resync = app.resync()
    reports = {kind: resync.documents(kind, ids) for kind, ids in documents.items() if ids}
    summary = _summary(reports, reconciled, args.source)
    if target != "ids":  # ids found through a table or an owner may name no document: fine
        summary["unknown"] = []
    named = [doc_id for ids in documents.values() for doc_id in ids]
    if named and summary["unknown"] and len(summary["unknown"]) == len(named):
        raise UsageError(_unknown(args.kind, summary["unknown"]))
    if args.json:
        print_json(summary)
    else:
        _print(summary)
        if summary["unknown"]:
            console.print(_unknown(args.kind, summary["unknown"]), markup=False)
    problems = summary["too_often"] or summary["unknown"] or reconciled.rejected
    return exit_codes.PROBLEM_FOUND if problems else exit_codes.OK


def _unknown(kind: str, ids: list[str]) -> str:
    noun = kind.removesuffix("s")
    return (
        f"no {noun} {', '.join(ids)} in the event store: check the "
        f"{'id' if len(ids) == 1 else 'ids'} (`streamfold search {kind}` lists them), or "
        "import the tables with `streamfold bootstrap`"
    )


def _target(args: argparse.Namespace) -> str:
    if args.table:
        if args.kind or args.ids or args.owner:
            raise UsageError(
                "--table takes no kind, ids or --owner; see `streamfold resync --help`"
            )
        return "table"
    if args.kind is None:
        raise UsageError("name a kind and ids, images --owner ID, or --table TABLE")
    if args.owner:
        if args.kind != "images" or args.ids:
            raise UsageError("--owner goes with `images` and no ids")
        return "owner"
    if not args.ids:
        raise UsageError(f"name the {args.kind} to resync, e.g. `streamfold resync {args.kind} ID`")
    return "ids"


def _reconcile(app: Streamfold, args: argparse.Namespace, target: str) -> ReconcileReport:
    client = aws_client("dynamodb")
    if target == "table":
        return app.resync().reconcile_table(client, TableKind(args.table))
    if target == "owner":
        return app.resync().reconcile_table(client, TableKind.IMAGES, owner_id=args.owner)
    keys = [(doc_id,) for doc_id in args.ids]
    return app.resync().reconcile_table(client, TableKind(args.kind), keys=keys)


def _documents(
    app: Streamfold, args: argparse.Namespace, target: str
) -> dict[DocumentKind, list[str]]:
    if target == "table":
        return {
            kind: sorted(ids)
            for kind, ids in app.resync().documents_of_table(TableKind(args.table)).items()
        }
    if target == "owner":
        return {DocumentKind.IMAGES: app.resync().images_of_owner(args.owner)}
    return {DocumentKind(args.kind): list(args.ids)}


def _summary(
    reports: dict[DocumentKind, RewriteReport], reconciled: ReconcileReport, source: str
) -> dict[str, Any]:
    return {
        "source": source,
        "rewritten": {kind.value: report.rewritten for kind, report in reports.items()},
        "written": sum(report.written for report in reports.values()),
        "stale_writes_rejected": sum(r.stale_writes_rejected for r in reports.values()),
        "documents_dead_lettered": reconciled.documents_dead_lettered
        + sum(r.documents_dead_lettered for r in reports.values()),
        "too_often": [doc for report in reports.values() for doc in report.too_often],
        "unknown": [doc for report in reports.values() for doc in report.unknown],
        "items_read": reconciled.items_read,
        "events_recorded": reconciled.events_recorded,
        "items_that_differed": reconciled.differed,
        "items_rejected": reconciled.rejected,
    }


def _print(summary: dict[str, Any]) -> None:
    if summary["source"] == "dynamodb":
        console.print(
            f"read {plural(summary['items_read'], 'item')} from DynamoDB: "
            f"{len(summary['items_that_differed']):,} differed from the event store, "
            f"{plural(summary['events_recorded'], 'event')} recorded"
        )
        for item in summary["items_that_differed"][:20]:
            console.print(f"  {item}", markup=False)
        for item in summary["items_rejected"]:
            console.print(f"  rejected {item}", markup=False)
    counts = [
        plural(n, f"{kind.removesuffix('s')} document") for kind, n in summary["rewritten"].items()
    ]
    rewritten = " and ".join(counts) or "no documents"
    console.print(
        f"rewrote {rewritten} with fresh versions "
        f"({summary['written']:,} written, "
        f"{summary['stale_writes_rejected']:,} stale writes rejected)"
    )
    for doc in summary["too_often"]:
        console.print(f"  not rewritten, too many rewrites since its last event: {doc}")
    if summary["documents_dead_lettered"]:
        console.print(
            f"{summary['documents_dead_lettered']:,} documents refused by the search backend "
            "were dead-lettered (see `streamfold dlq list`)"
        )
