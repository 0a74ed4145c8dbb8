"""``streamfold poll``: read the tables' DynamoDB streams until stopped (SIGTERM, Ctrl-C)."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from domain.kinds import TableKind
from infrastructure.adapters.aws_clients import aws_client
from infrastructure.entrypoints.cli.output import console, plural, print_json
from infrastructure.entrypoints.cli.parser import UsageError
from infrastructure.services.observability import BatchTelemetry
from infrastructure.services.poller import PassReport, PollSettings, StreamPoller
from infrastructure.services.poller.stream_arns import stream_arns_of

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold


def add_poll_command(commands: Any) -> None:
    poll = commands.add_parser(
        "poll", help="read DynamoDB streams directly (containers, local development)"
    )
    poll.add_argument(
        "--table", action="append", default=[], metavar="NAME",
        help="a table to follow (repeatable; default: the tables of STREAMFOLD_TABLES)",
    )  # fmt: skip
    poll.add_argument(
        "--stream-arn", action="append", default=[], metavar="ARN",
        help="a stream to follow instead of looking tables up (repeatable)",
    )  # fmt: skip
    poll.add_argument("--batch-size", type=int, help="records per read, 1-1000")
    poll.add_argument("--idle-seconds", type=float, help="wait when every shard is drained")
    poll.add_argument(
        "--until-idle", action="store_true", help="stop once a pass reads nothing (a summary)"
    )
    poll.add_argument("--json", action="store_true", help="print the --until-idle summary as JSON")
    poll.set_defaults(run=run_poll)


def run_poll(app: Streamfold, args: argparse.Namespace) -> int:
    settings = _settings(args)
    # A missing region or credentials, or an unreachable endpoint, is explained by the
    # command line's failure handling (infrastructure.entrypoints.cli.failures).
    streams = aws_client("dynamodbstreams")
    arns = args.stream_arn or list(
        stream_arns_of(aws_client("dynamodb"), _tables(app, args)).values()
    )
    # Following a stream is a service: JSON logs and metrics. Draining it is a command: a summary.
    telemetry = None if args.until_idle else BatchTelemetry.from_environment()
    poller = StreamPoller(
        app.ingestion, app.shard_checkpoints(), streams, arns, settings, telemetry
    )
    if args.until_idle:
        report = poller.drain()
        _summarize(report, as_json=args.json)
        return 1 if report.retries else 0
    stop = threading.Event()
    with _stopped_by_signals(stop):
        poller.run(stop)
    return 0


def _settings(args: argparse.Namespace) -> PollSettings:
    settings = PollSettings.from_environment()
    if args.batch_size is not None:
        if not 1 <= args.batch_size <= 1000:
            raise UsageError("--batch-size must be from 1 to 1000")
        settings = replace(settings, batch_size=args.batch_size)
    if args.idle_seconds is not None:
        settings = replace(settings, idle_seconds=max(args.idle_seconds, 0.0))
    return settings


def _tables(app: Streamfold, args: argparse.Namespace) -> list[str]:
    if args.table:
        return list(args.table)
    return list(app.settings.tables) or [kind.value for kind in TableKind]


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    def request_stop(signum: int, _: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _summarize(report: PassReport, *, as_json: bool) -> None:
    summary = {
        "records": report.records,
        "batches": report.batches,
        "events_recorded": sum(o.events_recorded for o in report.outcomes),
        "duplicates": sum(o.duplicates for o in report.outcomes),
        "dead_lettered": sum(o.dead_lettered for o in report.outcomes),
        "documents_written": sum(o.documents_written for o in report.outcomes),
        "shards_finished": report.shards_finished,
        "retries": report.retries,
    }
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{plural(summary['records'], 'record')} in "
        f"{plural(summary['batches'], 'batch', 'batches')}: "
        f"{plural(summary['events_recorded'], 'event')}, "
        f"{plural(summary['duplicates'], 'duplicate')}, "
        f"{summary['dead_lettered']} dead-lettered, "
        f"{plural(summary['documents_written'], 'document')} written"
    )
