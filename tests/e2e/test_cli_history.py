"""``streamfold history`` and ``streamfold show``: a user's rename, told and replayed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.demo import SimulatedTables
from tests.e2e.cli_support import run, use_embedded_home

ADA = {"userId": "u-1", "email": "ada@example.com", "name": "Ada Lovelace", "plan": "pro",
       "country": "GB", "createdAt": "2024-01-01T00:00:00Z", "marketingOptIn": True}  # fmt: skip
IMAGE = {"imageId": "i-1", "userId": "u-1", "title": "Mountains at dawn",
         "imageUrl": "https://img/1", "createdAt": "2024-02-01T00:00:00Z",
         "status": "active", "sizeBytes": 10}  # fmt: skip


@pytest.fixture(autouse=True)
def embedded_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_embedded_home(monkeypatch, tmp_path)


def ingest(capsys: pytest.CaptureFixture[str], path: Path, tables: SimulatedTables) -> None:
    path.write_text(json.dumps({"Records": tables.records}))
    assert run(capsys, "ingest", str(path))[0] == 0
    tables.records.clear()


def test_a_rename_shows_on_the_image_and_show_as_of_gives_the_old_owner(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    tables = SimulatedTables()
    tables.put("users", ADA)
    tables.put("images", IMAGE)
    ingest(capsys, embedded_home / "first.json", tables)
    _, before_rename, _ = run(capsys, "history", "images", "i-1", "--json")
    moment = json.loads(before_rename)["entries"][0]["recorded_at"]
    tables.put("users", {**ADA, "name": "Ada King"})
    ingest(capsys, embedded_home / "second.json", tables)

    code, out, _ = run(capsys, "history", "images", "i-1", "--json")
    newest = json.loads(out)["entries"][0]
    assert code == 0 and newest["summary"] == "owner renamed"
    assert newest["changes"] == [{"field": "owner.name", "old": "Ada Lovelace", "new": "Ada King"}]
    code, out, _ = run(capsys, "show", "images", "i-1", "--as-of", moment, "--json")
    assert code == 0 and json.loads(out)["owner"]["name"] == "Ada Lovelace"
    code, out, _ = run(capsys, "show", "users", "u-1", "--explain", "image_count", "--json")
    assert json.loads(out)["items"] == [
        {"table": "images", "item_key": {"imageId": "i-1"}, "counts": 1}
    ]


def test_show_before_the_document_existed_says_so_in_one_line(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    tables = SimulatedTables()
    tables.put("users", ADA)
    ingest(capsys, embedded_home / "first.json", tables)
    code, _, err = run(capsys, "show", "users", "u-1", "--as-of", "2001-01-01")
    assert code == 1 and err == "streamfold: no users document 'u-1' at 2001-01-01T00:00:00+00:00\n"
    code, _, err = run(capsys, "show", "users", "u-1", "--as-of", "last march")
    assert code == 2 and err.count("\n") == 1 and "ISO date" in err
