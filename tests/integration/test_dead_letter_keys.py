"""Dead letters of stream records: one per record, never one record's data over another's.

Runs on SQLite and PostgreSQL. Two different records that share an eventID (hand-made
events, replays, another table) are two letters, each with its own raw record and table;
the same record delivered again is the same letter, counted once more. Letters stored
under the eventID alone stay listable and replayable, and take their record's id when
it comes again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import SimulatedTables
from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter, record_letter_id
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings, SQLiteStore
from tests.conftest import event_store_url

USER = {"userId": "u-1", "email": "ada@example.com", "name": "Ada Lovelace", "plan": "gold",
        "country": "GB", "createdAt": "2024-01-01T00:00:00Z", "marketingOptIn": True}  # fmt: skip
IMAGE = {"imageId": "i-1", "userId": "u-1", "title": "Dawn", "imageUrl": "https://img/1",
         "createdAt": "2024-02-01T00:00:00Z", "status": "deleted", "sizeBytes": 10}  # fmt: skip


@pytest.fixture
def app(event_store_target: SQLiteStore | PostgresStore, tmp_path: Path) -> Iterator[Streamfold]:
    settings = Settings(event_store_target, EmbeddedSearch(tmp_path / "index"), {}, "streamfold")
    with Streamfold.from_settings(settings) as streamfold:
        yield streamfold


def bad_records(event_id: str, table_names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """A user with an unknown plan and an image with an unknown status, one eventID."""
    tables = SimulatedTables(table_names=table_names)
    tables.put("users", USER)
    tables.put("images", IMAGE)
    for record in tables.records:
        record["eventID"] = event_id
    return tables.records


def test_two_bad_records_with_one_event_id_are_two_letters_each_with_its_own_record(
    app: Streamfold,
) -> None:
    user, image = bad_records("hand-made-1")

    app.ingestion.handle({"Records": [user]})
    app.ingestion.handle({"Records": [image]})

    letters = {letter.table_name: letter for letter in app.dead_letters.list()}
    assert set(letters) == {"users", "images"}
    assert letters["users"].raw == user and "plan" in letters["users"].reason
    assert letters["images"].raw == image and "status" in letters["images"].reason
    assert [letter.attempts for letter in letters.values()] == [1, 1]


def test_the_same_record_delivered_again_is_the_same_letter_counted_again(
    app: Streamfold,
) -> None:
    user, image = bad_records("hand-made-1")

    app.ingestion.handle({"Records": [user, image]})
    app.ingestion.handle({"Records": [user, image]})
    app.ingestion.handle({"Records": [json.loads(json.dumps(user))]})  # as read back

    letters = {letter.table_name: letter for letter in app.dead_letters.list()}
    assert set(letters) == {"users", "images"}
    assert (letters["users"].attempts, letters["images"].attempts) == (3, 2)
    assert letters["users"].letter_id.startswith("dynamodb-streams:hand-made-1:")


def test_a_letter_stored_under_its_event_id_alone_takes_its_records_id_when_it_comes_again(
    app: Streamfold,
) -> None:
    user, image = bad_records("e-1")
    former = NewDeadLetter("dynamodb-streams", "users", "plan", user, "dynamodb-streams:e-1")
    app.dead_letters.put([former])

    app.ingestion.handle({"Records": [user, image]})

    letters = {letter.table_name: letter for letter in app.dead_letters.list()}
    assert letters["users"].letter_id == record_letter_id("dynamodb-streams", user)
    assert (letters["users"].raw, letters["users"].attempts) == (user, 2)
    assert (letters["images"].raw, letters["images"].attempts) == (image, 1)
    assert app.dead_letters.get("dynamodb-streams:e-1") is None


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else err


@pytest.fixture
def cli_home(
    event_store_target: SQLiteStore | PostgresStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", event_store_url(event_store_target))
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    monkeypatch.delenv("STREAMFOLD_TABLES", raising=False)
    return Settings.from_environment()


def test_letters_stored_under_the_event_id_alone_are_listed_shown_and_replayed(
    capsys: pytest.CaptureFixture[str], cli_home: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = SimulatedTables(table_names={"users": "crm-users"})
    tables.put("users", {**USER, "plan": "pro"})
    tables.put("users", {**USER, "userId": "u-2", "plan": "team"})
    first, second = tables.records
    with Streamfold.from_settings(cli_home) as app:
        app.dead_letters.put([
            NewDeadLetter("dynamodb-streams", "crm-users", "not mapped", record,
                          f"dynamodb-streams:{record['eventID']}")
            for record in (first, second)
        ])  # fmt: skip
    former_ids = [f"dynamodb-streams:{first['eventID']}", f"dynamodb-streams:{second['eventID']}"]

    _, listed = cli(capsys, "dlq", "list", "--json")
    assert sorted(letter["id"] for letter in listed) == sorted(former_ids)
    code, shown = cli(capsys, "dlq", "show", former_ids[0], "--json")
    assert code == 0 and shown["raw"] == first

    code, replay = cli(capsys, "dlq", "replay", former_ids[0], "--json")  # still unmapped
    current_id = record_letter_id("dynamodb-streams", first)
    assert code == 1 and replay["still_failing"] == [current_id]
    _, listed = cli(capsys, "dlq", "list", "--json")
    assert sorted(letter["id"] for letter in listed) == sorted([current_id, former_ids[1]])
    assert {letter["id"]: letter["attempts"] for letter in listed}[current_id] == 2

    monkeypatch.setenv("STREAMFOLD_TABLES", "users=crm-users")
    code, replay = cli(capsys, "dlq", "replay", former_ids[1], current_id, "--json")
    assert code == 0 and replay["replayed"] == [former_ids[1], current_id]
    _, listed = cli(capsys, "dlq", "list", "--json")
    _, counted = cli(capsys, "count", "users", "--json")
    assert (listed, counted) == ([], {"count": 2})


def test_a_letter_is_named_by_source_and_event_id_unless_that_names_several(
    capsys: pytest.CaptureFixture[str], cli_home: Settings
) -> None:
    user, image = bad_records("hand-made-1")
    lone, _ = bad_records("hand-made-2")
    with Streamfold.from_settings(cli_home) as app:
        app.ingestion.handle({"Records": [user, image, lone]})

    code, shown = cli(capsys, "dlq", "show", "dynamodb-streams:hand-made-2", "--json")
    assert code == 0 and shown["raw"] == lone

    code, message = cli(capsys, "dlq", "show", "dynamodb-streams:hand-made-1")
    assert code == 2
    assert message.startswith("streamfold: 'dynamodb-streams:hand-made-1' names 2 dead letters (")
    assert message.endswith("); give a whole id\n")
    code, message = cli(capsys, "dlq", "discard", "dynamodb-streams:hand-made")
    assert code == 2 and "no dead letter 'dynamodb-streams:hand-made'" in message
