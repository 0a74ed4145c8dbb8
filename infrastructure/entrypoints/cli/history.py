"""``streamfold history`` and ``streamfold show``: a document's past on the command line.

streamfold history users usr_0c1d --limit 20          newest first
streamfold history images img_9f2a --json --before 1234
streamfold show users usr_0c1d --as-of 2026-03-01      the document then
streamfold show users usr_0c1d --explain likes_received
streamfold history --backfill [--checkpoints]          index events recorded before the
                                                       feed index existed (resumable)
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from infrastructure.entrypoints.cli import exit_codes
from infrastructure.entrypoints.cli.output import (
    console,
    print_json,
    print_json_for_people,
    print_table,
)
from infrastructure.entrypoints.cli.parser import UsageError
from projections.documents import DocumentKind

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold


def add_history_commands(commands: Any) -> None:
    history = commands.add_parser("history", help="the changes of one document, newest first")
    history.add_argument(
        "kind", type=DocumentKind, choices=list(DocumentKind), metavar="KIND", nargs="?"
    )
    history.add_argument("doc_id", metavar="ID", nargs="?")
    history.add_argument(
        "--backfill", action="store_true",
        help="instead of a page: index the feeds of events recorded before the feed index "
        "existed (resumable, idempotent)",
    )  # fmt: skip
    history.add_argument(
        "--checkpoints", action="store_true",
        help="with --backfill: also build the replay checkpoints of busy documents",
    )  # fmt: skip
    history.add_argument("--limit", type=int, default=50, help="entries per page (default 50)")
    history.add_argument("--before", type=int, help="the next_cursor of the previous page")
    history.add_argument("--json", action="store_true", help="print the page as JSON")
    history.set_defaults(run=run_history)
    show = commands.add_parser("show", help="one document, now or as of a date")
    _kind_and_id(show)
    show.add_argument("--as-of", type=_moment, help="ISO date or time (UTC when no offset)")
    show.add_argument("--explain", metavar="FIELD", help="list the items behind a derived field")
    show.add_argument("--json", action="store_true", help="print JSON on one line")
    show.set_defaults(run=run_show)


def _kind_and_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", type=DocumentKind, choices=list(DocumentKind), metavar="KIND")
    parser.add_argument("doc_id", metavar="ID")


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--as-of {text!r}: give an ISO date such as 2026-03-01") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def run_history(app: Streamfold, args: argparse.Namespace) -> int:
    if args.backfill:
        if args.kind is not None:
            raise UsageError("--backfill indexes every document: give no KIND or ID")
        return _backfill(app, args)
    if args.kind is None or args.doc_id is None:
        raise UsageError("give the KIND and ID of a document, or --backfill")
    if args.checkpoints:
        raise UsageError("--checkpoints goes with --backfill")
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    page = app.history.changes(args.kind, args.doc_id, limit=args.limit, before=args.before)
    if args.json:
        print_json(page.as_json())
        return exit_codes.OK
    if not page.entries:
        console.print(f"No recorded change of {args.kind.value} document {args.doc_id}.")
        return exit_codes.OK
    rows = [
        [e.recorded_at, e.position, e.summary, _key(e.item_key), _changes(e.changes)]
        for e in page.entries
    ]
    print_table(
        f"{args.kind.value} {args.doc_id}: history, newest first",
        ["recorded at", "position", "change", "item", "fields (old → new)"],
        rows,
    )
    if page.next_cursor is not None:
        console.print(f"Older changes: --before {page.next_cursor}")
    return exit_codes.OK


def run_show(app: Streamfold, args: argparse.Namespace) -> int:
    if args.explain:
        value = app.history.explain(args.kind, args.doc_id, args.explain, args.as_of)
    elif args.as_of is not None:
        value = app.history.as_of(args.kind, args.doc_id, args.as_of)
    else:
        value = app.history.as_of(args.kind, args.doc_id, datetime.now(UTC))
    if value is None:
        when = f" at {args.as_of.isoformat()}" if args.as_of else ""
        sys.stderr.write(f"streamfold: no {args.kind.value} document {args.doc_id!r}{when}\n")
        return exit_codes.PROBLEM_FOUND
    (print_json if args.json else print_json_for_people)(value)
    return exit_codes.OK


def _backfill(app: Streamfold, args: argparse.Namespace) -> int:
    from infrastructure.adapters.eventstore.feed_backfill import SqlBackfillStore
    from projections.history.backfill import BackfillReport, FeedBackfill
    from projections.history.service import CHECKPOINT_EVERY

    store = SqlBackfillStore(app.event_store)

    def progress(report: BackfillReport) -> None:
        if not args.json:
            console.print(f"feed index: events up to {report.position:,} of {report.target:,}")

    report = FeedBackfill(store).run(progress)
    checkpointed = 0
    if args.checkpoints:
        for kind, doc_id in store.busy_documents(CHECKPOINT_EVERY):
            app.history.checkpoint(kind, doc_id)
            checkpointed += 1
    summary = {
        "resumed_from": report.resumed_from,
        "position": report.position,
        "target": report.target,
        "events_read": report.events,
        "feed_rows_offered": report.feed_rows,
        "documents_checkpointed": checkpointed,
    }
    if args.json:
        print_json(summary)
    elif report.resumed_from >= report.target:
        console.print(f"The feed index holds every event up to {report.target:,} already.")
    else:
        console.print(
            f"Feed index filled for the events up to {report.position:,} "
            f"({report.events:,} events read, {report.feed_rows:,} rows offered)."
        )
    if args.checkpoints and not args.json:
        console.print(f"Checkpoints built for {checkpointed:,} busy documents.")
    return exit_codes.OK


def _key(key: dict[str, str]) -> str:
    return " ".join(f"{name}={value}" for name, value in key.items())


def _changes(changes: Any) -> str:
    return "; ".join(f"{c.field}: {c.old!r} → {c.new!r}" for c in changes)
