"""``streamfold verify [users|images|all] [--repair]``."""

from __future__ import annotations

import argparse
from typing import Any

from infrastructure.cli.output import console, print_json, print_table
from infrastructure.composition import Streamfold
from infrastructure.verify import verify
from projections.documents import DocumentKind


def add_verify_command(commands: Any) -> None:
    command = commands.add_parser(
        "verify", help="compare the live index with the fold of the event store"
    )
    command.add_argument("kind", nargs="?", choices=["users", "images", "all"], default="all")
    command.add_argument("--repair", action="store_true", help="rewrite the drifted documents")
    command.add_argument("--examples", type=int, default=10, help="drifted documents to show")
    command.add_argument("--json", action="store_true")
    command.set_defaults(run=run_verify)


def run_verify(app: Streamfold, args: argparse.Namespace) -> int:
    kinds = list(DocumentKind) if args.kind == "all" else [DocumentKind(args.kind)]
    report = verify(app, kinds, repair=args.repair)
    summary = {
        "checked": report.checked,
        "missing": report.count("missing"),
        "extra": report.count("extra"),
        "differing": report.count("differs"),
        "repaired": report.repaired,
        "unrepairable": report.unrepairable,
        "examples": [
            {"kind": d.kind, "id": d.doc_id, "problem": d.problem, "fields": d.fields}
            for d in report.drift[: args.examples]
        ],
    }
    if args.json:
        print_json(summary)
    else:
        console.print(
            f"checked {summary['checked']}: {summary['missing']} missing, "
            f"{summary['extra']} extra, {summary['differing']} differing"
            + (f"; {report.repaired} repaired" if args.repair else "")
        )
        if report.drift:
            rows = [[d.kind, d.doc_id, d.problem, ", ".join(d.fields)] for d in report.drift]
            print_table("examples", ["kind", "id", "problem", "fields"], rows[: args.examples])
    return 0 if report.clean or (args.repair and not report.unrepairable) else 1
