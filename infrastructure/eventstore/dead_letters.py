"""The dead-letter store: records that cannot be processed, kept with their reason."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from infrastructure.eventstore.dialects import Cursor, Dialect, dialect_for
from infrastructure.eventstore.schema import DEAD_LETTER_TABLES
from infrastructure.eventstore.store import EventStore
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
        if self.letter_id:
            return self.letter_id
        digest = hashlib.sha256(json.dumps(self.raw, sort_keys=True, default=str).encode())
        return f"{self.source}:{digest.hexdigest()[:32]}"


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
            _insert(self._dialect, cursor, letters)

    def put_documents(self, failures: Sequence[DocumentFailure]) -> None:
        self.put([NewDeadLetter.for_document(failure) for failure in failures])

    def within(self, cursor: Cursor) -> DeadLetters:
        """The store writing in a transaction the caller holds (e.g. the live lock's).

        SQLite has one writer at a time: a letter written in a second transaction would
        wait for the caller's to end. It also commits with what the caller marks synced.
        """
        return _LettersWithin(self._dialect, cursor)

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
