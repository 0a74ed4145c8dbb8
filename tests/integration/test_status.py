"""`streamfold status`: positions against the head, lag, dead letters, aliases, checkpoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from freezegun import freeze_time

from devtools.demo import SimulatedTables
from infrastructure.adapters.streams import parse_lambda_event
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.services.poller import ShardCheckpoints
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings, SQLiteStore
from projections.documents import DocumentKind
from tests.conftest import event_store_url

USER = {
    "userId": "u-1",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "plan": "pro",
    "country": "GB",
    "createdAt": "2024-01-01T00:00:00Z",
    "marketingOptIn": True,
}
IMAGE = {
    "imageId": "i-1",
    "userId": "u-1",
    "title": "Dawn",
    "imageUrl": "https://img.example.com/i-1.jpg",
    "createdAt": "2024-01-02T00:00:00Z",
    "status": "active",
    "sizeBytes": 2048,
}
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2024-01-01T00:00:00"


@pytest.fixture
def app(event_store_target: SQLiteStore | PostgresStore, tmp_path: Path) -> Iterator[Streamfold]:
    settings = Settings(event_store_target, EmbeddedSearch(tmp_path / "index"), {}, "streamfold")
    streamfold = Streamfold.from_settings(settings)
    yield streamfold
    streamfold.close()


def event_of(*items: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    tables = SimulatedTables()
    for table, item in items:
        tables.put(table, item)
    return {"Records": tables.records}


def record_without_projecting(app: Streamfold, event: dict[str, Any]) -> None:
    records = parse_lambda_event(event, app.settings.kind_of_table)
    app.intake.record([record.change for record in records if record.change is not None])


def test_a_caught_up_projection_is_at_the_head_with_no_lag(app: Streamfold) -> None:
    app.ingestion.handle(event_of(("users", USER), ("images", IMAGE)))

    [documents] = app.status().projections

    assert (documents.name, documents.state) == ("documents", "live")
    assert documents.position == documents.head > 0
    assert (documents.behind, documents.pending_documents, documents.lag_seconds) == (0, 0, 0.0)
    assert documents.indices == {kind.value: app.index.alias_target(kind) for kind in DocumentKind}


def test_each_alias_names_the_physical_index_it_points_to(app: Streamfold) -> None:
    app.ingestion.handle(event_of(("users", USER)))

    aliases = app.status().aliases

    assert [(a.kind, a.alias) for a in aliases] == [
        ("users", "streamfold-users"),
        ("images", "streamfold-images"),
    ]
    users, images = aliases
    assert users.index is not None and users.index.startswith("streamfold-users-v")
    assert images.index is None or images.index.startswith("streamfold-images-v")


def recorded_at(app: Streamfold, position: int) -> datetime:
    [notification] = app.event_store.recorder.select_notifications(start=position, limit=1)
    event: Any = app.event_store.event_log.mapper.to_domain_event(notification)
    return cast(datetime, event.timestamp)


def test_lag_is_the_age_of_the_oldest_event_not_folded_yet(app: Streamfold) -> None:
    app.ingestion.handle(event_of(("users", USER)))
    folded = app.event_store.head()
    record_without_projecting(app, event_of(("images", IMAGE)))

    with freeze_time(recorded_at(app, folded + 1) + timedelta(seconds=90)):
        [documents] = app.status().projections

    assert documents.position == folded
    assert documents.behind == app.event_store.head() - folded > 0
    assert documents.lag_seconds == 90.0


def test_documents_the_backend_has_not_confirmed_count_as_lag(app: Streamfold) -> None:
    record_without_projecting(app, event_of(("users", USER)))
    app.projector.catch_up()  # folded and rendered, not yet sent to the index

    with freeze_time(recorded_at(app, 1) + timedelta(seconds=30)):
        [documents] = app.status().projections

    assert documents.behind == 0
    assert documents.pending_documents == 1
    assert documents.lag_seconds == 30.0


def test_documents_left_to_render_count_and_their_first_event_dates_the_lag(
    app: Streamfold,
) -> None:
    record_without_projecting(app, event_of(("users", USER), ("images", IMAGE)))
    app.projector.catch_up(render=False)  # as a command's second process folds a group

    with freeze_time(recorded_at(app, 1) + timedelta(seconds=45)):
        [documents] = app.status().projections

    assert (documents.behind, documents.pending_documents) == (0, 0)
    assert documents.unrendered_documents == 2
    assert documents.lag_seconds == 45.0
    app.projector.catch_up()  # the next settle renders them
    [documents] = app.status().projections
    assert (documents.unrendered_documents, documents.pending_documents) == (0, 2)


def test_dead_letters_are_counted(app: Streamfold) -> None:
    app.ingestion.handle(event_of(("users", {**USER, "plan": "gold"})))

    [documents] = app.status().projections

    assert documents.dead_letters == 1


def test_shard_checkpoints_show_how_long_ago_the_poller_saved_progress(app: Streamfold) -> None:
    checkpoints = ShardCheckpoints(app.event_store)
    with freeze_time("2024-05-01T12:00:00Z") as clock:
        checkpoints.save(STREAM_ARN, "shardId-open", "000100")
        checkpoints.save(STREAM_ARN, "shardId-done", "000050", finished=True)
        clock.tick(42)

        shown = app.status().checkpoints

    assert [(c.shard_id, c.sequence_number, c.age_seconds) for c in shown] == [
        ("shardId-open", "000100", 42.0)
    ]


@pytest.fixture
def configured(
    monkeypatch: pytest.MonkeyPatch, sqlite_store: SQLiteStore, tmp_path: Path
) -> Streamfold:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", event_store_url(sqlite_store))
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    monkeypatch.delenv("STREAMFOLD_TABLES", raising=False)
    app = Streamfold.from_settings(Settings.from_environment())
    app.ingestion.handle(event_of(("users", USER), ("users", {**USER, "userId": "u-2"})))
    ShardCheckpoints(app.event_store).save(STREAM_ARN, "shardId-open", "000100")
    app.close()
    return app


def test_status_json_names_each_projection_with_its_position_lag_letters_and_aliases(
    configured: Streamfold, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["status", "--json"])

    status = json.loads(capsys.readouterr().out)
    assert code == 0
    [documents] = status["projections"]
    assert documents["position"] == documents["head"] == status["head"] > 0
    assert documents["behind"] == 0 and documents["lag_seconds"] == 0.0
    assert documents["dead_letters"] == 0
    users = next(a for a in status["aliases"] if a["alias"] == "streamfold-users")
    assert users["index"] == documents["indices"]["users"]
    assert users["index"].startswith("streamfold-users-v")
    assert [c["shard_id"] for c in status["checkpoints"]] == ["shardId-open"]


def test_status_prints_readable_tables(
    configured: Streamfold, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["status"])

    out = capsys.readouterr().out
    assert code == 0
    for expected in ("documents", "live", "streamfold-users-v", "shardId-open"):
        assert expected in out
