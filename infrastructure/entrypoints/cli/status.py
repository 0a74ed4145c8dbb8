"""``streamfold status``: how far each projection is behind, and where the aliases point."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from infrastructure.entrypoints.cli.output import console, print_json, print_table
from infrastructure.services.observability.status import PipelineStatus

if TYPE_CHECKING:
    from infrastructure.composition import Streamfold


def add_status_command(commands: Any) -> None:
    status = commands.add_parser(
        "status", help="projection positions, lag, dead letters, aliases and shard checkpoints"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(run=run_status)


def run_status(app: Streamfold, args: argparse.Namespace) -> int:
    status = app.status()
    if args.json:
        print_json(status.as_json())
    else:
        _print(status)
    return 0


def _print(status: PipelineStatus) -> None:
    print_table(
        f"Projections (event store head: {status.head})",
        ["projection", "state", "position", "behind", "to render", "pending docs", "lag",
         "dead letters"],
        [
            [p.name, p.state, p.position, p.behind, p.unrendered_documents, p.pending_documents,
             _duration(p.lag_seconds), p.dead_letters]
            for p in status.projections
        ],
    )  # fmt: skip
    print_table(
        "Aliases",
        ["kind", "alias", "physical index"],
        [[a.kind, a.alias, a.index or "(not created yet)"] for a in status.aliases],
    )
    if status.versions:
        print_table(
            "Versions of the documents and mappings",
            ["kind", "live", "wanted", "state"],
            [
                [v.kind, v.live or "(no index yet)", v.wanted,
                 "current" if v.current else "run `streamfold migrate --plan`"]
                for v in status.versions
            ],
        )  # fmt: skip
    if len(status.projections) > 1:  # a rebuild is under way or was made: say what writes where
        print_table(
            "Physical indices of each projection",
            ["projection", "kind", "physical index"],
            [
                [p.name, kind, index]
                for p in status.projections
                for kind, index in p.indices.items()
            ],
        )
    if not status.checkpoints:
        console.print("No shard checkpoints: `streamfold poll` has not run against this store.")
        return
    print_table(
        "Shard checkpoints of `streamfold poll`",
        ["stream", "shard", "sequence number", "saved"],
        [
            [c.stream_arn.split(":")[-1], c.shard_id, c.sequence_number,
             f"{_duration(c.age_seconds)} ago"]
            for c in status.checkpoints
        ],
    )  # fmt: skip


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
