"""The dead-letter store: records that cannot be processed, kept with their reason."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from infrastructure.adapters.eventstore.dialects import Cursor, Dialect, dialect_for
from infrastructure.adapters.eventstore.schema import DEAD_LETTER_TABLES
from infrastructure.adapters.eventstore.store import EventStore
from projections.ports import DeadLetters

if TYPE_CHECKING:
    from projections.ports import DocumentFailure


class LetterStatus(StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    """A record that failed for good: what it was, where it came from, and why."""

    source: str  # dynamodb-streams | kinesis | document | ...
    table_name: str | None
    reason: str
    raw: Mapping[str, Any]
    letter_id: str = ""

    @classmethod
    def for_document(cls, failure: DocumentFailure) -> NewDeadLetter:
        """A document the search backend refused for good, kept with the version it had."""
        change = failure.change
        return cls(
            source="document",
            table_name=change.kind.value,
            reason=failure.reason,
            raw={"kind": change.kind.value, "id": change.doc_id, "version": change.version,
                 "body": change.body},
            letter_id=f"document:{change.kind.value}:{change.doc_id}:{change.version}",
        )  # fmt: skip

    def identity(self) -> str:
        """The letter's id: given, or derived from the record (see ``record_letter_id``)."""
        return self.letter_id or record_letter_id(self.source, self.raw)

    def former_identity(self) -> str | None:
        """The id a stream record's letter had when letters were keyed by eventID alone."""
        event_id = None if self.letter_id else self.raw.get("eventID")
        if isinstance(event_id, str) and event_id.isascii() and event_id.isprintable():
            return f"{self.source}:{event_id}"
        return None


def record_letter_id(source: str, raw: Mapping[str, Any]) -> str:
    """``source:eventID:digest``, the digest over the record's canonical JSON.

    The same record delivered again gets the same id, so a retry counts an attempt
    instead of adding a copy; two different records that share an eventID (hand-made
    events, replays, another source) get two letters, so neither's raw record is lost.
    A record without a usable eventID is named by its source and digest alone.

    >>> record_letter_id("dynamodb-streams", {"eventID": "c81e728d", "dynamodb": {}})
    'dynamodb-streams:c81e728d:...'
    """
    digest = _digest(raw)
    event_id = _printable_event_id(raw)
    if event_id is None:
        return f"{source}:{digest}"
    return f"{source}:{event_id}:{digest[:16]}"


# Real event ids are 32 hex digits (DynamoDB Streams) or a shard id and a sequence number
# (Kinesis). Any other, unprintable or very long, could not be stored, printed or typed as
# part of an id; the digest alone names such a record, as it named records before.
_MAX_EVENT_ID = 128


def _printable_event_id(raw: Mapping[str, Any]) -> str | None:
    event_id = raw.get("eventID")
    if not isinstance(event_id, str) or not event_id or len(event_id) > _MAX_EVENT_ID:
        return None
    return event_id if event_id.isascii() and event_id.isprintable() else None


def _digest(raw: Mapping[str, Any]) -> str:
    # Stored letters are JSON, so the digest of a record read back for a replay must equal
    # the digest of the record as it first came: canonical JSON of what JSON can hold.
    try:
        text = json.dumps(raw, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(raw)  # keys of mixed types cannot be sorted; only hand-made records
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    letter_id: str
    source: str
    table_name: str | None
    reason: str
    raw: dict[str, Any]
    status: LetterStatus
    attempts: int
    first_seen: str
    last_seen: str


class DeadLetterStore(DeadLetters):
    """Dead letters in the event-store database; a letter seen again is counted, not copied.

    >>> store.put([NewDeadLetter("dynamodb-streams", "users", "plan is missing", record)])
    >>> [letter.reason for letter in store.list()]
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._dialect = dialect_for(store)
        with self._dialect.transaction() as cursor:
            self._dialect.create_tables(cursor, DEAD_LETTER_TABLES)

    def put(self, letters: Sequence[NewDeadLetter]) -> None:
        if not letters:
            return
        with self._dialect.transaction() as cursor:
            self._rename_former_letters(cursor, letters)
            _insert(self._dialect, cursor, letters)

    def put_documents(self, failures: Sequence[DocumentFailure]) -> None:
        self.put([NewDeadLetter.for_document(failure) for failure in failures])

    def within(self, cursor: Cursor) -> DeadLetters:
        """The store writing in a transaction the caller holds (e.g. the live lock's).

        SQLite has one writer at a time: a letter written in a second transaction would
        wait for the caller's to end. It also commits with what the caller marks synced.
        """
        return _LettersWithin(self._dialect, cursor)

    def _rename_former_letters(self, cursor: Any, letters: Sequence[NewDeadLetter]) -> None:
        # A letter stored under its eventID alone takes its record's id when that very
        # record comes again (a replay, a retry), so it is counted instead of copied.
        renames = [
            (letter.identity(), former, json.dumps(letter.raw, default=str), letter.identity())
            for letter in letters
            if (former := letter.former_identity()) is not None
        ]
        if renames:
            cursor.executemany(
                self._dialect.sql(
                    "UPDATE streamfold_dead_letters SET letter_id = ? WHERE letter_id = ?"
                    " AND raw = ? AND NOT EXISTS (SELECT 1 FROM streamfold_dead_letters AS d"
                    " WHERE d.letter_id = ?)"
                ),
                renames,
            )

    def list(
        self,
        status: LetterStatus | None = LetterStatus.OPEN,
        table_name: str | None = None,
        reason_contains: str | None = None,
        limit: int = 100,
    ) -> list[DeadLetter]:
        clauses, params = ["1 = 1"], []
        if status is not None:
            clauses.append("status = ?")
            params.append(status.value)
        if table_name is not None:
            clauses.append("table_name = ?")
            params.append(table_name)
        if reason_contains:
            clauses.append("LOWER(reason) LIKE ?")
            params.append(f"%{reason_contains.lower()}%")
        statement = (
            "SELECT * FROM streamfold_dead_letters WHERE "
            + " AND ".join(clauses)
            + " ORDER BY first_seen, letter_id LIMIT ?"
        )
        with self._dialect.transaction() as cursor:
            cursor.execute(self._dialect.sql(statement), (*params, limit))
            return [_letter(record) for record in cursor.fetchall()]

    def get(self, letter_id: str) -> DeadLetter | None:
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql("SELECT * FROM streamfold_dead_letters WHERE letter_id = ?"),
                (letter_id,),
            )
            record = cursor.fetchone()
        return None if record is None else _letter(record)

    def named(self, given: str) -> Sequence[DeadLetter]:
        """The letter with this id, else every letter whose id goes on from it.

        ``dynamodb-streams:EVENT-ID``, as a person reads it off a log line, names the
        letters of that record (``dynamodb-streams:EVENT-ID:digest``).
        """
        letter = self.get(given)
        if letter is not None:
            return [letter]
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT * FROM streamfold_dead_letters WHERE SUBSTR(letter_id, 1, ?) = ?"
                    " ORDER BY first_seen, letter_id"
                ),
                (len(given) + 1, f"{given}:"),
            )
            return [_letter(record) for record in cursor.fetchall()]

    def mark(self, letter_ids: Sequence[str], status: LetterStatus) -> int:
        with self._dialect.transaction() as cursor:
            cursor.executemany(
                self._dialect.sql(
                    "UPDATE streamfold_dead_letters SET status = ? WHERE letter_id = ?"
                ),
                [(status.value, letter_id) for letter_id in letter_ids],
            )
        return len(letter_ids)

    def count(self, status: LetterStatus = LetterStatus.OPEN) -> int:
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT COUNT(*) AS n FROM streamfold_dead_letters WHERE status = ?"
                ),
                (status.value,),
            )
            return int(cursor.fetchone()["n"])


class _LettersWithin(DeadLetters):
    def __init__(self, dialect: Dialect, cursor: Cursor) -> None:
        self._dialect = dialect
        self._cursor = cursor

    def put_documents(self, failures: Sequence[DocumentFailure]) -> None:
        letters = [NewDeadLetter.for_document(failure) for failure in failures]
        if letters:
            _insert(self._dialect, self._cursor, letters)


def _insert(dialect: Dialect, cursor: Cursor, letters: Sequence[NewDeadLetter]) -> None:
    now = datetime.now(UTC).isoformat()
    cursor.executemany(
        dialect.sql(
            "INSERT INTO streamfold_dead_letters (letter_id, source, table_name, reason,"
            " raw, status, attempts, first_seen, last_seen)"
            " VALUES (?, ?, ?, ?, ?, 'open', 1, ?, ?)"
            " ON CONFLICT (letter_id) DO UPDATE SET reason = excluded.reason,"
            " raw = excluded.raw, status = 'open', last_seen = excluded.last_seen,"
            " attempts = streamfold_dead_letters.attempts + 1"
        ),
        [
            (
                letter.identity(),
                letter.source,
                letter.table_name,
                letter.reason,
                json.dumps(letter.raw, default=str),
                now,
                now,
            )
            for letter in letters
        ],
    )


def _letter(record: Any) -> DeadLetter:
    return DeadLetter(
        letter_id=record["letter_id"],
        source=record["source"],
        table_name=record["table_name"],
        reason=record["reason"],
        raw=json.loads(record["raw"]),
        status=LetterStatus(record["status"]),
        attempts=int(record["attempts"]),
        first_seen=record["first_seen"],
        last_seen=record["last_seen"],
    )
