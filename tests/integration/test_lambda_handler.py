"""The Lambda entry point: partial batch responses, dead letters, a warm composition root."""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import SimulatedTables
from infrastructure import lambda_handlers
from infrastructure.adapters.streams import parse_lambda_event
from infrastructure.composition import Streamfold
from infrastructure.settings import Settings
from projections.documents import DocumentKind

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events"
USER = {
    "userId": "u-1",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "plan": "pro",
    "country": "GB",
    "createdAt": "2024-01-01T00:00:00Z",
    "marketingOptIn": True,
}


class LambdaContext:
    def __init__(self, remaining_ms: int) -> None:
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    monkeypatch.delenv("STREAMFOLD_TABLES", raising=False)
    lambda_handlers.reset()
    yield tmp_path
    lambda_handlers.reset()


def event_of(*items: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    tables = SimulatedTables()
    for table, item in items:
        tables.put(table, item)
    return {"Records": tables.records}


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_bad_record_is_dead_lettered_and_the_rest_of_the_batch_goes_on(embedded: Path) -> None:
    event = event_of(("users", {**USER, "userId": "u-2", "plan": "gold"}), ("users", USER))
    assert lambda_handlers.stream_handler(event, None) == {"batchItemFailures": []}
    app = Streamfold.from_settings(Settings.from_environment())
    try:
        assert app.index.get(DocumentKind.USERS, "u-1") is not None
        [letter] = app.dead_letters.list()
        assert "plan" in letter.reason and letter.raw == event["Records"][0]
    finally:
        app.close()


def test_an_unreachable_event_store_asks_lambda_to_retry_every_record(
    embedded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"postgresql://x@127.0.0.1:{closed_port()}/x")
    event = event_of(("users", USER), ("users", {**USER, "userId": "u-2"}))
    answer = lambda_handlers.stream_handler(event, LambdaContext(30_000))
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == sequence_numbers(event)


@pytest.mark.parametrize("fixture", ["dynamodb_streams_event.json", "kinesis_event.json"])
def test_a_failed_start_asks_again_for_exactly_the_records_the_parsers_identify(
    embedded: Path, monkeypatch: pytest.MonkeyPatch, fixture: str
) -> None:
    event = json.loads((FIXTURES / fixture).read_text())
    records = event["Records"]
    # A record without a sequence number is named by its event id, one without either by
    # a digest; a record that is not an object at all, too.
    unnumbered = copy.deepcopy(records[0])
    unnumbered.get("dynamodb", {}).pop("SequenceNumber", None)
    unnumbered.get("kinesis", {}).pop("sequenceNumber", None)
    anonymous = {key: value for key, value in unnumbered.items() if key != "eventID"}
    event = {"Records": [*records, unnumbered, anonymous, "not a record"]}
    expected = [r.item_identifier for r in parse_lambda_event(event, lambda table: None)]
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"postgresql://x@127.0.0.1:{closed_port()}/x")

    answer = lambda_handlers.stream_handler(event, LambdaContext(30_000))

    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == expected
    assert len(set(expected)) == len(event["Records"])
    assert unnumbered["eventID"] in expected


def test_an_unreachable_search_backend_is_retried_then_converges_once_it_is_back(
    embedded: Path, monkeypatch: pytest.MonkeyPatch, osmem_clone: Any
) -> None:
    event = event_of(("users", USER))
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"http://127.0.0.1:{closed_port()}")
    answer = lambda_handlers.stream_handler(event, LambdaContext(6_000))
    assert [f["itemIdentifier"] for f in answer["batchItemFailures"]] == sequence_numbers(event)

    monkeypatch.setenv("STREAMFOLD_SEARCH", osmem_clone.url)
    lambda_handlers.reset()  # a new container, now pointed at a live backend
    assert lambda_handlers.stream_handler(event, LambdaContext(60_000)) == {"batchItemFailures": []}
    app = Streamfold.from_settings(Settings.from_environment())
    try:
        document = app.index.get(DocumentKind.USERS, "u-1")
        assert document is not None and document.body is not None
        assert document.body["name"] == "Ada Lovelace"
    finally:
        app.close()


def test_a_warm_container_builds_its_composition_root_once(embedded: Path) -> None:
    lambda_handlers.stream_handler(event_of(("users", USER)), None)
    first = lambda_handlers._streamfold
    lambda_handlers.stream_handler(event_of(("users", {**USER, "plan": "team"})), None)
    assert first is not None and lambda_handlers._streamfold is first
