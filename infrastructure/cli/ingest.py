"""``streamfold ingest FILE...``: exactly what the Lambda handler does, for event files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from infrastructure.cli.output import console, print_json
from infrastructure.cli.parser import UsageError
from infrastructure.composition import Streamfold
from infrastructure.ingestion import BatchOutcome
from infrastructure.streams import MalformedEvent


def add_ingest_command(commands: Any) -> None:
    ingest = commands.add_parser("ingest", help="process Lambda event files (JSON)")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ingest.add_argument("--json", action="store_true", help="print one JSON line per file")
    ingest.set_defaults(run=run_ingest)


def load_event(path: Path) -> dict[str, Any]:
    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read it ({error})") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(event, dict):
        raise UsageError(f'{path}: expected a Lambda event object with "Records"')
    return event


def run_ingest(app: Streamfold, args: argparse.Namespace) -> int:
    events = [(path, load_event(path)) for path in args.files]
    failed = 0
    for path, event in events:
        try:
            outcome = app.ingestion.handle(event)
        except MalformedEvent as error:
            raise UsageError(f"{path}: {error}") from None
        failed += len(outcome.failed)
        _report(path, outcome, as_json=args.json)
    return 1 if failed else 0


def _report(path: Path, outcome: BatchOutcome, *, as_json: bool) -> None:
    summary = {
        "file": str(path),
        "records": outcome.records,
        "events_recorded": outcome.events_recorded,
        "duplicates": outcome.duplicates,
        "dead_lettered": outcome.dead_lettered,
        "documents_written": outcome.documents_written,
        "stale_writes_rejected": outcome.stale_writes_rejected,
        # What the Lambda handler would answer for the file's event.
        "batch_item_failures": [{"itemIdentifier": i} for i in outcome.failed],
        "error": outcome.error,
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{path}: {outcome.records} records, {outcome.events_recorded} events, "
        f"{outcome.duplicates} duplicates, {outcome.dead_lettered} dead-lettered, "
        f"{outcome.documents_written} documents written"
    )
    if outcome.error:
        console.print(f"[red]{len(outcome.failed)} records to retry: {outcome.error}[/red]")
