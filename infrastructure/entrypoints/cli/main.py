"""``streamfold``: the command line entry point.

Only the module of the command being run is imported (with what it needs: the search
engine, DuckDB, boto3, ...); every other command is known by its name and summary alone,
so ``streamfold --help`` and a quick ``streamfold count`` start without loading the rest.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infrastructure.entrypoints.cli import exit_codes
from infrastructure.entrypoints.cli.failures import debugging, explain
from infrastructure.entrypoints.cli.parser import OneLineParser

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold

# A command line answers within seconds: an unreachable search backend is reported after
# this long, not after the 20 s a stream handler spends on a passing outage.
RETRY_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class Command:
    module: str  # under infrastructure.entrypoints.cli
    adder: str  # the function that adds the command's parser
    summary: str


COMMANDS = {
    "demo": Command(
        "demo", "add_demo_command", "run a generated CRM workload through the pipeline"
    ),
    "ingest": Command("ingest", "add_ingest_command", "process Lambda event files (JSON)"),
    "search": Command("queries", "add_query_commands", "full-text search over users or images"),
    "count": Command("queries", "add_query_commands", "count users or images matching a query"),
    "serve": Command(
        "serve", "add_serve_command", "serve the search API and the CRM screen locally"
    ),
    "dashboards": Command(
        "dashboards",
        "add_dashboards_commands",
        "install the CRM dashboards into OpenSearch Dashboards",
    ),
    "dlq": Command("dead_letters", "add_dlq_commands", "inspect, replay or discard dead letters"),
    "rebuild": Command(
        "rebuild",
        "add_rebuild_command",
        "rebuild indices from the event store behind the aliases, no downtime",
    ),
    "migrate": Command(
        "migrate",
        "add_migrate_command",
        "bring the indices to the code's versions (in place or blue/green), no downtime",
    ),
    "resync": Command(
        "resync",
        "add_resync_command",
        "re-derive some documents from the event store and rewrite them",
    ),
    "bootstrap": Command(
        "bootstrap",
        "add_bootstrap_command",
        "import the current contents of the source tables (parallel scan)",
    ),
    "verify": Command(
        "verify",
        "add_verify_command",
        "compare the live index with the event store's fold, or with the tables",
    ),
    "bench": Command("bench", "add_bench_commands", "measure throughput and latency"),
    "poll": Command(
        "poll", "add_poll_command", "read DynamoDB streams directly (containers, local development)"
    ),
    "status": Command(
        "status",
        "add_status_command",
        "projection positions, lag, dead letters, aliases and shard checkpoints",
    ),
    "export": Command(
        "export",
        "add_export_command",
        "write events and documents as Parquet (a directory or s3://)",
    ),
    "sql": Command(
        "sql", "add_sql_command", "run SQL over the exported events, users and images (DuckDB)"
    ),
    "history": Command("history", "add_history_commands", "the changes of one document"),
    "show": Command("history", "add_history_commands", "one document, now or as of a date"),
    "import": Command(
        "analytics", "add_import_command", "import rows from sources other than DynamoDB"
    ),
}

# Transport libraries log each failed request (with its traceback) before streamfold
# reports the failure itself in one line.
_TRANSPORT_LOGGERS = ("opensearch", "urllib3", "botocore", "boto3", "s3transfer", "uvicorn.error")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser, with the full definition of the command ``argv`` names only."""
    parser = OneLineParser(
        prog="streamfold",
        description="DynamoDB change streams folded into versioned search documents.",
        epilog="exit codes: 0 done, 1 a problem was found, 2 a wrong command or setting, "
        "3 a service is unreachable (retry later), 70 a fault in streamfold. "
        "`streamfold COMMAND --help` shows a command's options.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )
    chosen = _command_named(argv)
    added: set[str] = set()
    for name, command in COMMANDS.items():
        if name in added:
            continue
        if chosen is not None and COMMANDS[chosen].adder == command.adder:
            module = importlib.import_module(f"infrastructure.entrypoints.cli.{command.module}")
            getattr(module, command.adder)(commands)
            added.update(commands.choices)
        else:
            commands.add_parser(name, help=command.summary)
            added.add(name)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return first if first in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (see `infrastructure.entrypoints.cli.exit_codes`).

    >>> main(["count", "users", "--json"])
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    _log_in_one_line()
    try:
        args = build_parser(arguments).parse_args(arguments)
        return _run(args)
    except KeyboardInterrupt:
        return exit_codes.INTERRUPTED
    except SystemExit:
        raise
    except BaseException as error:  # noqa: BLE001 - every failure becomes one line
        failure = explain(error)
        if failure.code == exit_codes.INTERNAL and debugging():
            traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.write(f"streamfold: {failure.message}\n")
        return failure.code


def _run(args: argparse.Namespace) -> int:
    from infrastructure.heap import frozen_while_running

    if not getattr(args, "needs_app", True):
        with frozen_while_running():
            return int(args.run(None, args))
    app = _open()
    try:
        with frozen_while_running():
            code = int(args.run(app, args))
        app.index.make_searchable()  # a command's records are searchable when it returns
        return code
    finally:
        app.close()


def _open() -> Streamfold:
    from infrastructure.composition import Streamfold, open_search_index
    from infrastructure.settings import Settings

    settings = Settings.from_environment()
    index = open_search_index(settings.search, settings.index_prefix, retry_budget=RETRY_SECONDS)
    return Streamfold.from_settings(settings, index=index)


def _log_in_one_line() -> None:
    root = logging.getLogger()
    if not root.handlers:  # else whoever runs this in-process has set logging up already
        handler = logging.StreamHandler()
        handler.setFormatter(_OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)
    if debugging():
        return
    for name in _TRANSPORT_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


class _OneLineFormatter(logging.Formatter):
    """A log record as one line: its traceback is left out (``STREAMFOLD_DEBUG=1`` shows it)."""

    def format(self, record: logging.LogRecord) -> str:
        if debugging():
            return super().format(record)
        plain = logging.makeLogRecord(record.__dict__)
        plain.exc_info, plain.exc_text, plain.stack_info = None, None, None
        return " ".join(super().format(plain).split("\n"))


if __name__ == "__main__":
    sys.exit(main())
