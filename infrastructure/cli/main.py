"""``streamfold``: the command line entry point."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from domain.errors import TransientFailure
from infrastructure.cli.analytics import add_import_command
from infrastructure.cli.bench import add_bench_commands
from infrastructure.cli.bootstrap import add_bootstrap_command
from infrastructure.cli.dashboards import add_dashboards_commands
from infrastructure.cli.dead_letters import add_dlq_commands
from infrastructure.cli.demo import add_demo_command
from infrastructure.cli.export import add_export_command
from infrastructure.cli.ingest import add_ingest_command
from infrastructure.cli.migrate import add_migrate_command
from infrastructure.cli.output import errors
from infrastructure.cli.parser import OneLineParser, UsageError
from infrastructure.cli.poll import add_poll_command
from infrastructure.cli.queries import add_query_commands
from infrastructure.cli.rebuild import add_rebuild_command
from infrastructure.cli.resync import add_resync_command
from infrastructure.cli.serve import add_serve_command
from infrastructure.cli.sql import add_sql_command
from infrastructure.cli.status import add_status_command
from infrastructure.cli.verify import add_verify_command
from infrastructure.composition import Streamfold
from infrastructure.heap import frozen_while_running
from infrastructure.settings import ConfigError, Settings


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="streamfold",
        description="DynamoDB change streams folded into versioned search documents.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )
    add_demo_command(commands)
    add_ingest_command(commands)
    add_query_commands(commands)
    add_serve_command(commands)
    add_dashboards_commands(commands)
    add_dlq_commands(commands)
    add_rebuild_command(commands)
    add_migrate_command(commands)
    add_resync_command(commands)
    add_bootstrap_command(commands)
    add_verify_command(commands)
    add_bench_commands(commands)
    add_poll_command(commands)
    add_status_command(commands)
    add_export_command(commands)
    add_sql_command(commands)
    add_import_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; user mistakes print one line and exit 2.

    >>> main(["count", "users", "--json"])
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "needs_app", True):
            with frozen_while_running():
                return int(args.run(None, args))
        app = Streamfold.from_settings(Settings.from_environment())
        try:
            with frozen_while_running():
                return int(args.run(app, args))
        finally:
            app.close()
    except (UsageError, ConfigError) as mistake:
        errors.print(f"streamfold: {mistake}", markup=False, soft_wrap=True)
        return 2
    except TransientFailure as failure:
        errors.print(f"streamfold: {failure}", markup=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
