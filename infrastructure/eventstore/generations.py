"""Projection generations: each has its own state, documents and tracking tables.

Generation 1 is the one every installation starts with. A rebuild folds the whole event
store into a new generation beside the live one, then makes it live in one step; the old
generation stays, frozen, so that a rollback can catch it up and make it live again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infrastructure.eventstore.dialects import Cursor, Dialect

_GENERATION_TABLES = re.compile(
    r"\bstreamfold_(user_state|image_state|like_state|payment_state|documents|tracking)"
)

REGISTRY_TABLE = (
    "CREATE TABLE IF NOT EXISTS streamfold_generations ("
    " generation BIGINT PRIMARY KEY, state TEXT NOT NULL, kinds TEXT NOT NULL,"
    " indices TEXT NOT NULL, previous_generation BIGINT, previous_indices TEXT,"
    " created_at TEXT NOT NULL, activated_at TEXT)"
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
        with dialect.transaction() as cursor:
            dialect.create_tables(cursor, [REGISTRY_TABLE])

    def _select(self, cursor: Cursor, where: str, params: tuple[Any, ...]) -> list[Generation]:
        cursor.execute(
            self._dialect.sql(
                f"SELECT * FROM streamfold_generations WHERE {where} ORDER BY generation"
            ),
            params,
        )
        return [_generation(record) for record in cursor.fetchall()]

    def live_number(self, cursor: Cursor) -> int:
        live = self._select(cursor, "state = ?", ("live",))
        return live[-1].number if live else 1

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
