"""``streamfold dlq list|show|replay|discard``."""

from __future__ import annotations

import argparse
from typing import Any

from infrastructure.cli.output import console, print_json, print_table
from infrastructure.cli.parser import UsageError
from infrastructure.composition import Streamfold
from infrastructure.eventstore.dead_letters import DeadLetter, LetterStatus


def add_dlq_commands(commands: Any) -> None:
    dlq = commands.add_parser("dlq", help="inspect, replay or discard dead letters")
    actions = dlq.add_subparsers(dest="action", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="list dead letters")
    listing.add_argument("--table", help="only letters of this table")
    listing.add_argument("--reason", help="only letters whose reason contains this text")
    listing.add_argument(
        "--status", choices=[s.value for s in LetterStatus] + ["any"], default="open"
    )
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_list)

    show = actions.add_parser("show", help="show one dead letter with its raw record")
    show.add_argument("letter_id", metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run_show)


def _as_dict(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.letter_id,
        "source": letter.source,
        "table": letter.table_name,
        "reason": letter.reason,
        "status": letter.status.value,
        "attempts": letter.attempts,
        "first_seen": letter.first_seen,
        "last_seen": letter.last_seen,
        "raw": letter.raw,
    }


def run_list(app: Streamfold, args: argparse.Namespace) -> int:
    status = None if args.status == "any" else LetterStatus(args.status)
    letters = app.dead_letters.list(status, args.table, args.reason, args.limit)
    if args.json:
        print_json([_as_dict(letter) for letter in letters])
        return 0
    rows = [
        [lt.letter_id, lt.table_name, lt.status.value, lt.attempts, lt.reason] for lt in letters
    ]
    print_table(
        f"{len(letters)} dead letters", ["id", "table", "status", "attempts", "reason"], rows
    )
    return 0


def run_show(app: Streamfold, args: argparse.Namespace) -> int:
    letter = app.dead_letters.get(args.letter_id)
    if letter is None:
        raise UsageError(f"no dead letter {args.letter_id!r}; `streamfold dlq list` shows them")
    if args.json:
        print_json(_as_dict(letter))
    else:
        console.print_json(data=_as_dict(letter))
    return 0
