"""Projection generations: each has its own state, documents and tracking tables.

Generation 1 is the one every installation starts with. A rebuild folds the whole event
store into a new generation beside the live one, then makes it live in one step; the old
generation stays, frozen, so that a rollback can catch it up and make it live again.

A generation being built is cut into slices of aggregate ids (one, unless the rebuild is
partitioned); ``streamfold_rebuild_slices`` records how far each slice has come, so that
each one resumes on its own and the workers know when every slice is done.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infrastructure.adapters.eventstore.dialects import Cursor, Dialect

_GENERATION_TABLES = re.compile(
    r"\bstreamfold_(user_state|image_state|like_state|payment_state|analytics_state|documents"
    r"|tracking|unrendered)"
)

REGISTRY_TABLE = (
    "CREATE TABLE IF NOT EXISTS streamfold_generations ("
    " generation BIGINT PRIMARY KEY, state TEXT NOT NULL, kinds TEXT NOT NULL,"
    " indices TEXT NOT NULL, previous_generation BIGINT, previous_indices TEXT,"
    " created_at TEXT NOT NULL, activated_at TEXT)"
)


SLICES_TABLE = (
    "CREATE TABLE IF NOT EXISTS streamfold_rebuild_slices ("
    " generation BIGINT NOT NULL, slice BIGINT NOT NULL, slices BIGINT NOT NULL,"
    " target BIGINT NOT NULL, buckets BIGINT NOT NULL,"
    " buckets_folded BIGINT NOT NULL DEFAULT 0, events_folded BIGINT NOT NULL DEFAULT 0,"
    " rendered BIGINT NOT NULL DEFAULT 0, documents_written BIGINT NOT NULL DEFAULT 0,"
    " PRIMARY KEY (generation, slice))"
)


def for_generation(statement: str, generation: int) -> str:
    """The statement with the projection's tables of that generation."""
    if generation == 1:
        return statement
    return _GENERATION_TABLES.sub(rf"streamfold_g{generation}_\1", statement)


@dataclass(frozen=True)
class Generation:
    number: int
    state: str  # building | live | retired
    kinds: list[str]
    indices: dict[str, str]  # kind -> physical index this generation writes
    previous_generation: int | None = None
    previous_indices: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SliceProgress:
    """How far one slice of a generation being built has come."""

    generation: int
    slice: int
    slices: int
    target: int  # the position every slice folds to
    buckets: int  # commits the slice's fold is cut into
    buckets_folded: int = 0
    events_folded: int = 0
    rendered: bool = False
    documents_written: int = 0

    @property
    def folded(self) -> bool:
        return self.buckets_folded >= self.buckets

    @property
    def started(self) -> bool:
        return self.buckets_folded > 0 or self.rendered


def _slice(record: Any) -> SliceProgress:
    return SliceProgress(
        generation=int(record["generation"]),
        slice=int(record["slice"]),
        slices=int(record["slices"]),
        target=int(record["target"]),
        buckets=int(record["buckets"]),
        buckets_folded=int(record["buckets_folded"]),
        events_folded=int(record["events_folded"]),
        rendered=bool(record["rendered"]),
        documents_written=int(record["documents_written"]),
    )


def _generation(record: Any) -> Generation:
    return Generation(
        number=int(record["generation"]),
        state=record["state"],
        kinds=json.loads(record["kinds"]),
        indices=json.loads(record["indices"]),
        previous_generation=record["previous_generation"],
        previous_indices=json.loads(record["previous_indices"] or "{}"),
    )


class GenerationRegistry:
    """Which generation is live, which one is being built, and what came before."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        # One table per transaction: on SQLite, a transaction that read the schema cannot
        # then write if another process has created a table meanwhile.
        for table in (REGISTRY_TABLE, SLICES_TABLE):
            with dialect.transaction() as cursor:
                dialect.create_tables(cursor, [table])

    def _select(self, cursor: Cursor, where: str, params: tuple[Any, ...]) -> list[Generation]:
        cursor.execute(
            self._dialect.sql(
                f"SELECT * FROM streamfold_generations WHERE {where} ORDER BY generation"
            ),
            params,
        )
        return [_generation(record) for record in cursor.fetchall()]

    def every(self) -> list[Generation]:
        """Every generation ever started, oldest first."""
        with self._dialect.transaction() as cursor:
            return self._select(cursor, "1 = 1", ())

    def live_number(self, cursor: Cursor) -> int:
        statement, params = self.live_statement()
        cursor.execute(statement, params)
        return self.live_of(cursor.fetchall())

    def live_statement(self) -> tuple[str, tuple[Any, ...]]:
        """The read `live_of` finds the live generation's number in, to send with others."""
        statement = (
            "SELECT generation FROM streamfold_generations WHERE state = ? ORDER BY generation"
        )
        return self._dialect.sql(statement), ("live",)

    @staticmethod
    def live_of(records: list[Any]) -> int:
        return int(records[-1]["generation"]) if records else 1

    def live(self) -> Generation | None:
        with self._dialect.transaction() as cursor:
            live = self._select(cursor, "state = ?", ("live",))
        return live[-1] if live else None

    def get(self, number: int) -> Generation | None:
        with self._dialect.transaction() as cursor:
            found = self._select(cursor, "generation = ?", (number,))
        return found[0] if found else None

    def building(self) -> Generation | None:
        with self._dialect.transaction() as cursor:
            found = self._select(cursor, "state = ?", ("building",))
        return found[-1] if found else None

    def start(self, kinds: list[str], indices: dict[str, str]) -> Generation:
        """Register a new generation to build (numbered after every existing one)."""
        with self._dialect.transaction() as cursor:
            cursor.execute("SELECT COALESCE(MAX(generation), 1) AS n FROM streamfold_generations")
            number = int(cursor.fetchone()["n"]) + 1
            cursor.execute(
                self._dialect.sql(
                    "INSERT INTO streamfold_generations (generation, state, kinds, indices,"
                    " created_at) VALUES (?, 'building', ?, ?, ?)"
                ),
                (number, json.dumps(kinds), json.dumps(indices), _now()),
            )
        return Generation(number, "building", kinds, indices)

    def start_or_join(
        self,
        kinds: list[str],
        slices: int,
        target: int,
        buckets: int,
        index_names: Callable[[int], dict[str, str]],
    ) -> tuple[Generation, bool]:
        """The generation being built, or a new one cut into ``slices``; True if it existed.

        Workers of a partitioned rebuild start at the same time: the lock makes exactly one
        of them register the generation (and its slices, each to fold up to ``target`` in
        ``buckets`` commits), and the others join it.
        """
        with self._dialect.transaction() as cursor:
            self._dialect.lock_projection(cursor, "rebuild")
            building = self._select(cursor, "state = ?", ("building",))
            if building:
                return building[-1], True
            cursor.execute("SELECT COALESCE(MAX(generation), 1) AS n FROM streamfold_generations")
            number = int(cursor.fetchone()["n"]) + 1
            indices = index_names(number)
            cursor.execute(
                self._dialect.sql(
                    "INSERT INTO streamfold_generations (generation, state, kinds, indices,"
                    " created_at) VALUES (?, 'building', ?, ?, ?)"
                ),
                (number, json.dumps(kinds), json.dumps(indices), _now()),
            )
            cursor.executemany(
                self._dialect.sql(
                    "INSERT INTO streamfold_rebuild_slices (generation, slice, slices, target,"
                    " buckets) VALUES (?, ?, ?, ?, ?)"
                ),
                [(number, index, slices, target, buckets) for index in range(slices)],
            )
        return Generation(number, "building", kinds, indices), False

    def slices(self, generation: int) -> list[SliceProgress]:
        """The slices of a generation being built (none for one built all at once before)."""
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT * FROM streamfold_rebuild_slices WHERE generation = ? ORDER BY slice"
                ),
                (generation,),
            )
            return [_slice(record) for record in cursor.fetchall()]

    def record_fold(
        self, cursor: Cursor, generation: int, index: int, buckets_folded: int, events: int
    ) -> None:
        """In the transaction that saved a bucket's state: the slice's fold moved on."""
        cursor.execute(
            self._dialect.sql(
                "UPDATE streamfold_rebuild_slices SET buckets_folded = ?,"
                " events_folded = events_folded + ? WHERE generation = ? AND slice = ?"
            ),
            (buckets_folded, events, generation, index),
        )

    def record_render(self, generation: int, index: int, documents_written: int) -> bool:
        """Every document of the slice is in the generation's outbox and its indices.

        True for the one worker whose slice was the last to be rendered: under the lock,
        two workers finishing together cannot both see themselves last.
        """
        with self._dialect.transaction() as cursor:
            self._dialect.lock_projection(cursor, "rebuild")
            cursor.execute(
                self._dialect.sql(
                    "UPDATE streamfold_rebuild_slices SET rendered = 1, documents_written = ?"
                    " WHERE generation = ? AND slice = ?"
                ),
                (documents_written, generation, index),
            )
            cursor.execute(
                self._dialect.sql(
                    "SELECT COUNT(*) AS n FROM streamfold_rebuild_slices"
                    " WHERE generation = ? AND rendered = 0"
                ),
                (generation,),
            )
            return int(cursor.fetchone()["n"]) == 0

    def state_on(self, cursor: Cursor, number: int) -> str | None:
        """A generation's state, read in the caller's transaction (None if unknown)."""
        found = self._select(cursor, "generation = ?", (number,))
        return found[0].state if found else None

    def make_live(
        self,
        cursor: Cursor,
        target: Generation,
        previous: int,
        previous_indices: dict[str, str],
    ) -> None:
        """In the caller's transaction: ``target`` becomes live, every other one retires."""
        for number, indices in ((target.number, target.indices), (previous, previous_indices)):
            cursor.execute(
                self._dialect.sql(
                    "INSERT INTO streamfold_generations (generation, state, kinds, indices,"
                    " created_at) VALUES (?, 'retired', ?, ?, ?)"
                    " ON CONFLICT (generation) DO NOTHING"
                ),
                (number, json.dumps(target.kinds), json.dumps(indices), _now()),
            )
        cursor.execute(
            self._dialect.sql(
                "UPDATE streamfold_generations SET state = 'retired' WHERE state = 'live'"
            )
        )
        cursor.execute(
            self._dialect.sql(
                "UPDATE streamfold_generations SET state = 'live', previous_generation = ?,"
                " previous_indices = ?, activated_at = ? WHERE generation = ?"
            ),
            (previous, json.dumps(previous_indices), _now(), target.number),
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
