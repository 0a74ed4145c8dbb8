"""How the CLI prints: JSON for scripts, tables for people."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


# A dead letter keeps its record as received, which may hold text that is not valid
# Unicode (a lone surrogate); no pipe or terminal takes that, so it is printed escaped.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def print_json(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False, default=str)
    sys.stdout.write(_LONE_SURROGATE.sub(_escaped, text) + "\n")


def print_json_for_people(value: Any) -> None:
    """Indented JSON; ``\\u`` escapes only when some text is not valid Unicode."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    console.print_json(data=value, default=str, ensure_ascii=bool(_LONE_SURROGATE.search(text)))


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)
