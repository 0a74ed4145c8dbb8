"""How the CLI prints: JSON for scripts, tables for people, plain rows for pipes.

On a terminal a table is drawn to fit its width and long work shows a progress bar. When
standard output is a pipe or a file, a table is tab-separated rows after a header row
(its title, if any, on a line of its own starting with ``#``), text is never wrapped, and
there is no progress bar: what ``cut``, ``sort`` and ``grep`` read is whole values.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.progress import Progress, ProgressColumn
from rich.table import Table
from rich.text import Text


class _Console(Console):
    """A console that never wraps what goes to a pipe or a file."""

    def print(self, *objects: Any, soft_wrap: bool | None = None, **options: Any) -> None:
        if soft_wrap is None and not self.is_terminal:
            soft_wrap = True
        super().print(*objects, soft_wrap=soft_wrap, **options)


console = _Console(highlight=False)
errors = _Console(stderr=True, highlight=False)


def to_a_terminal() -> bool:
    return console.is_terminal


def live_progress(
    *columns: str | ProgressColumn, disable: bool = False, transient: bool = False
) -> Progress:
    """A progress display on the terminal; nothing at all in a pipe, a file or a log."""
    return Progress(
        *columns,
        console=console,
        disable=disable or not console.is_terminal,
        transient=transient,
    )


# A dead letter keeps its record as received, which may hold text that is not valid
# Unicode (a lone surrogate); no pipe or terminal takes that, so it is printed escaped.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``1 record``, ``2 records``, ``1,000 dead letters``.

    >>> plural(1, "dead letter"), plural(3, "match", "matches")
    ('1 dead letter', '3 matches')
    """
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"


def utc_instant(value: Any) -> Any:
    """An ISO-8601 instant as ``2026-03-01T12:00:00Z`` (UTC); anything else unchanged.

    Documents keep timestamps as the source tables stored them, offsets included; what
    the command line shows is one format, whatever the source wrote.
    """
    if not isinstance(value, str) or len(value) < 19 or value[10:11] != "T":
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return moment.strftime(pattern)


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
    if not console.is_terminal:
        _print_rows(title, columns, rows)
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_literal(cell) for cell in row))
    console.print(table)


def _literal(cell: Any) -> Text:
    """A cell as it is: a title such as ``[draft] Dunes`` is text, not rich markup."""
    if isinstance(cell, Text):
        return cell
    return Text("" if cell is None else str(cell))


def _print_rows(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    lines = [f"# {title}"] if title else []
    lines.append("\t".join(columns))
    lines.extend("\t".join(_cell(value) for value in row) for row in rows)
    sys.stdout.write(_LONE_SURROGATE.sub(_escaped, "\n".join(lines)) + "\n")


def _cell(value: Any) -> str:
    """A value on one line without tabs, so that each row stays one record."""
    text = "" if value is None else str(value)
    return text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ")
