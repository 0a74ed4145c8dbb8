"""The history routes over a generated CRM workload: changes, past states, explanations."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.http import create_app
from infrastructure.entrypoints.http.auth import NoAuthentication
from infrastructure.entrypoints.http.limits import Limits
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from tests.support.reference import expected_documents

WORKLOAD = CrmWorkload(seed=3, users=60, changes_per_creation=0.6)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Streamfold]:
    root: Path = tmp_path_factory.mktemp("history")
    settings = Settings(
        SQLiteStore(root / "events.db"), EmbeddedSearch(root / "index"), {}, "streamfold"
    )
    with Streamfold.from_settings(settings) as streamfold:
        for event in lambda_events(WORKLOAD.records, batch_size=50):
            assert not streamfold.ingestion.handle(event).failed
        yield streamfold


@pytest.fixture(scope="module")
def client(app: Streamfold) -> TestClient:
    unlimited = Limits(per_second=0)
    api = create_app(lambda: app.search, NoAuthentication(), unlimited, history=lambda: app.history)
    return TestClient(api)


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, dict[str, Any]]]:
    return expected_documents(WORKLOAD.final_items())


def history(client: TestClient, kind: str, doc_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 5}
    while True:
        page = client.get(f"/v1/{kind}/documents/{doc_id}/history", params=params).json()
        entries += page["entries"]
        if page["next_cursor"] is None:
            return entries
        params["before"] = page["next_cursor"]


def test_a_document_as_of_now_is_the_document_the_tables_make(
    client: TestClient, expected: dict[str, dict[str, dict[str, Any]]]
) -> None:
    now = datetime.now(UTC).isoformat()
    for kind in ("users", "images"):
        for doc_id, document in list(expected[kind].items())[:15]:
            response = client.get(f"/v1/{kind}/documents/{doc_id}", params={"as_of": now})
            assert response.status_code == 200
            assert response.json()["source"] == document


def test_a_document_before_it_existed_is_a_404_with_a_sentence(
    client: TestClient, expected: dict[str, dict[str, dict[str, Any]]]
) -> None:
    user_id = next(iter(expected["users"]))
    response = client.get(f"/v1/users/documents/{user_id}", params={"as_of": "2001-01-01"})
    assert response.status_code == 404
    assert "existed at 2001-01-01" in response.json()["error"]["message"]


def test_history_pages_newest_first_and_ends_with_the_registration(
    client: TestClient, expected: dict[str, dict[str, dict[str, Any]]]
) -> None:
    user_id = max(expected["users"], key=lambda u: expected["users"][u]["likes_received"])
    entries = history(client, "users", user_id)
    positions = [e["position"] for e in entries]
    assert positions == sorted(positions, reverse=True) and len(set(positions)) == len(positions)
    assert entries[-1]["event_type"] == "User.Registered"
    received = [e for e in entries if any(c["field"] == "likes_received" for c in e["changes"])]
    assert any(e["table"] == "likes" and e["summary"] == "like liked" for e in received)


def test_an_owner_rename_shows_on_the_owners_images(
    client: TestClient, expected: dict[str, dict[str, dict[str, Any]]]
) -> None:
    renamed = [
        e
        for image_id in expected["images"]
        for e in history(client, "images", image_id)
        if e["summary"] == "owner renamed"
    ]
    assert renamed
    assert all([c["field"] for c in e["changes"]] == ["owner.name"] for e in renamed)


def test_an_explanation_adds_up_to_the_value(
    client: TestClient, expected: dict[str, dict[str, dict[str, Any]]]
) -> None:
    for user_id, document in list(expected["users"].items())[:20]:
        for field in ("likes_received", "likes_given", "lifetime_value_cents", "payment_count"):
            answer = client.get(
                f"/v1/users/documents/{user_id}/explain", params={"field": field}
            ).json()
            assert answer["value"] == document[field]
            assert sum(item["counts"] for item in answer["items"]) == document[field]


def test_an_unknown_field_to_explain_is_a_400_saying_which_are_known(client: TestClient) -> None:
    response = client.get("/v1/users/documents/x/explain", params={"field": "email"})
    assert response.status_code == 400
    assert "likes_received" in response.json()["error"]["message"]


def test_an_as_of_that_is_no_date_is_a_400_naming_the_parameter(client: TestClient) -> None:
    response = client.get("/v1/users/documents/x", params={"as_of": "last march"})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("as_of: 'last march'")
