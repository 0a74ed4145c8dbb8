"""``streamfold ingest FILE...``: exactly what the Lambda handler does, for event files.

Exit codes (``exit_codes``): 0 when every file was processed; 1 when a file had records
and none was applied: every one was refused and dead-lettered, e.g. an S3 or SQS event,
or a table that ``STREAMFOLD_TABLES`` leaves out; 2 for a usage mistake, a file that is
not a Lambda stream event included (nothing is ingested then); 3 when records must be
retried (a database or the search backend was unavailable).

The files' records are recorded file by file and settled a group at a time
(`infrastructure.services.grouping`): the embedded index commits once per group, not once
per file, and everything is searchable when the command returns. A file's line counts the
documents written by the settles it triggered; the last file's includes the final settle.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import orjson

from infrastructure.adapters.streams import MalformedEvent, parse_lambda_event
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli import exit_codes
from infrastructure.entrypoints.cli.output import console, errors, plural, print_json
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.services.grouping import SettleGroups
from infrastructure.services.ingestion import BatchOutcome


def add_ingest_command(commands: Any) -> None:
    ingest = commands.add_parser("ingest", help="process Lambda event files (JSON)")
    ingest.add_argument("files", nargs="+", type=Path, metavar="FILE")
    ingest.add_argument("--json", action="store_true", help="print one JSON line per file")
    ingest.set_defaults(run=run_ingest)


def load_event(path: Path) -> dict[str, Any]:
    try:
        event = decode_event(path.read_bytes())
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot read it ({error})") from None
    except json.JSONDecodeError as error:
        raise UsageError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise UsageError(
            f'{path}: not a Lambda stream event (no "Records" list); streamfold ingest takes'
            " DynamoDB Streams or Kinesis events"
        )
    return event


def decode_event(data: bytes) -> Any:
    """A file's JSON, decoded by orjson (about a third faster than the standard library on
    stream events). What orjson refuses goes to the standard library, which takes it (NaN,
    an escaped lone surrogate) or refuses it with its own message (where the JSON breaks, a
    file that is not UTF-8). One difference is left: an integer past 64 bits reads as a
    float, and no field of a stream event holds one (DynamoDB's numbers are strings)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data.decode("utf-8"))


def run_ingest(app: Streamfold, args: argparse.Namespace) -> int:
    events = [(path, load_event(path)) for path in args.files]
    failed = refused = 0
    # The records of every file are known up front: a command about to end leaves a render
    # due to its settle at the end (`SettleGroups`).
    records = sum(len(event["Records"]) for _, event in events)
    groups = SettleGroups(app.pipeline, expected_records=records)
    for number, (path, event) in enumerate(events, 1):
        try:
            outcome = app.ingestion.handle(event, groups, settle=number == len(events))
        except MalformedEvent as error:
            if groups.pending:
                groups.settle()  # the files before this one are searchable all the same
            raise UsageError(f"{path}: {error}") from None
        failed += len(outcome.failed)
        _report(path, outcome, as_json=args.json)
        if _every_record_refused(outcome):
            refused += 1
            _say_refused(app, path, event, outcome)
    if failed:
        return exit_codes.UNAVAILABLE
    return exit_codes.PROBLEM_FOUND if refused else exit_codes.OK


def _every_record_refused(outcome: BatchOutcome) -> bool:
    return (
        outcome.records > 0
        and not outcome.failed
        and outcome.events_recorded == 0
        and outcome.dead_lettered >= outcome.records
    )


def _say_refused(app: Streamfold, path: Path, event: Any, outcome: BatchOutcome) -> None:
    # The first record that could not even be parsed tells the usual mistake (not a
    # DynamoDB stream's event, an unmapped table); a refusal by the domain's rules is
    # in the letters.
    records = parse_lambda_event(event, app.settings.kind_of_table)
    reason = next((f": {r.error}" for r in records if r.error), "")
    which = f"all {outcome.records} records were" if outcome.records > 1 else "its record was"
    errors.print(
        f"streamfold: {path}: nothing applied, {which} refused and dead-lettered{reason};"
        " `streamfold dlq list` shows them",
        markup=False,
        soft_wrap=True,
    )


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
        f"{path}: {plural(outcome.records, 'record')}, "
        f"{plural(outcome.events_recorded, 'event')}, "
        f"{plural(outcome.duplicates, 'duplicate')}, {outcome.dead_lettered} dead-lettered, "
        f"{plural(outcome.documents_written, 'document')} written"
    )
    if outcome.error:
        console.print(
            f"[red]{plural(len(outcome.failed), 'record')} to retry: {outcome.error}[/red]"
        )
