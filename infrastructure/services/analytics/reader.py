"""Rows of a web-analytics export file (CSV or JSON lines, optionally gzipped).

Each row becomes the item an analytics source change carries (``userId``, ``date``,
``sessions``, ``pageviews``, ``source``, ``medium``) or, when it cannot, an error naming
its line, so that one bad row is dead-lettered while the others are imported. Values are
normalized the way exports spell them: ``20240105`` (BigQuery's ``event_date``) is the
date ``2024-01-05``; ``"12"`` and ``12.0`` are the whole number 12; an empty medium is no
medium. Whatever else is wrong (a negative count, a date that does not exist) is for the
domain's validation to say.

A file that cannot be read at all (no header, a required column missing, not UTF-8)
raises ``AnalyticsFileError``.

>>> data = b"userId,date,sessions,pageviews,source\\nu1,20240105,2,5,google\\n"
>>> rows = list(read_rows(io.BytesIO(data), "traffic.csv", ColumnMapping()))
>>> rows[0].line, rows[0].item["date"], rows[0].item["sessions"]
(2, '2024-01-05', 2)
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from infrastructure.services.analytics.columns import FIELDS, REQUIRED, ColumnMapping

_GZIP_MAGIC = b"\x1f\x8b"
_COMPACT_DATE = re.compile(r"^\d{8}$")
CSV = "csv"
JSON_LINES = "jsonl"
FORMATS = (CSV, JSON_LINES)


class AnalyticsFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and how to fix it."""


@dataclass(frozen=True)
class AnalyticsRow:
    line: int  # where the row starts in the file, counting from 1
    raw: Any  # the row as read, for the dead-letter store
    item: dict[str, Any] | None = None
    error: str | None = None


def read_rows(
    stream: IO[bytes], name: str, columns: ColumnMapping, file_format: str | None = None
) -> Iterator[AnalyticsRow]:
    """The rows of one file, in order; ``file_format`` defaults to the name's extension."""
    binary = _decompressed(stream)
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    chosen = file_format or _format_of(name)
    try:
        if chosen == CSV:
            yield from _csv_rows(text, name, columns)
        else:
            yield from _json_rows(text, columns)
    except UnicodeDecodeError:
        raise AnalyticsFileError(f"{name} is not UTF-8 text") from None


def _decompressed(stream: IO[bytes]) -> IO[bytes]:
    head = stream.read(len(_GZIP_MAGIC))
    buffered = io.BufferedReader(_Prefixed(head, stream))
    if head == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered)  # type: ignore[return-value]
    return buffered


class _Prefixed(io.RawIOBase):
    """A byte stream with its first bytes already taken back in front (any ``read(n)``)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = len(buffer)
        data = self._head[:wanted]
        self._head = self._head[len(data) :]
        if len(data) < wanted:
            data += self._rest.read(wanted - len(data)) or b""
        buffer[: len(data)] = data
        return len(data)


def _format_of(name: str) -> str:
    base = name.lower().removesuffix(".gz")
    if base.endswith((".jsonl", ".ndjson", ".json")):
        return JSON_LINES
    return CSV


def _csv_rows(text: IO[str], name: str, columns: ColumnMapping) -> Iterator[AnalyticsRow]:
    reader = csv.DictReader(text)
    header = set(reader.fieldnames or [])
    if not header:
        raise AnalyticsFileError(f"{name} is empty: a CSV export needs a header line")
    missing = columns.missing(header)
    if missing:
        raise AnalyticsFileError(
            f"{name} has no column for {', '.join(missing)}; name the columns with "
            "--columns (or STREAMFOLD_ANALYTICS_COLUMNS), e.g. userId=user_id,date=event_date"
        )
    line = reader.line_num + 1
    for record in reader:
        yield _row(line, dict(record), columns)
        line = reader.line_num + 1


def _json_rows(text: IO[str], columns: ColumnMapping) -> Iterator[AnalyticsRow]:
    for line, content in enumerate(text, start=1):
        if not content.strip():
            continue
        try:
            record = json.loads(content)
        except json.JSONDecodeError as error:
            yield AnalyticsRow(line, content.rstrip("\r\n"), error=f"not JSON: {error.msg}")
            continue
        if not isinstance(record, dict):
            yield AnalyticsRow(line, record, error="not a JSON object")
            continue
        yield _row(line, record, columns)


def _row(line: int, record: Mapping[str, Any], columns: ColumnMapping) -> AnalyticsRow:
    values = {name: record.get(columns.column(name)) for name in FIELDS}
    problems = [f"{name} is missing" for name in REQUIRED if _blank(values[name])]
    item: dict[str, Any] = {}
    if not problems:
        item = {
            "userId": str(values["userId"]).strip(),
            "date": _date(values["date"]),
            "source": str(values["source"]).strip(),
            "medium": None if _blank(values["medium"]) else str(values["medium"]).strip(),
        }
        for name in ("sessions", "pageviews"):
            number = _whole(values[name])
            if number is None:
                problems.append(f"{name} must be a whole number, got {values[name]!r}")
            item[name] = number
    if problems:
        return AnalyticsRow(line, dict(record), error="; ".join(problems))
    return AnalyticsRow(line, dict(record), item=item)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _date(value: Any) -> str:
    text = str(value).strip()
    if _COMPACT_DATE.match(text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                return None
            return int(number) if number.is_integer() else None
    return None
