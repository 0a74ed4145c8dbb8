"""The command line: what users type, what they read back."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from devtools.demo import SimulatedTables
from tests.e2e.cli_support import run, use_embedded_home

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"


@pytest.fixture(autouse=True)
def embedded_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_embedded_home(monkeypatch, tmp_path)


def write_event(path: Path) -> Path:
    tables = SimulatedTables()
    tables.put("users", {"userId": "u-1", "email": "ada@example.com", "name": "Ada Lovelace",
                         "plan": "pro", "country": "GB", "createdAt": "2024-01-01T00:00:00Z",
                         "marketingOptIn": True})  # fmt: skip
    tables.put("images", {"imageId": "i-1", "userId": "u-1", "title": "Mountains at dawn",
                          "imageUrl": "https://img/1", "createdAt": "2024-02-01T00:00:00Z",
                          "status": "active", "sizeBytes": 10})  # fmt: skip
    tables.put("users", {"userId": "u-2", "email": "bad", "name": "Bad Plan", "plan": "gold",
                         "country": "DE", "createdAt": "2024-01-01T00:00:00Z",
                         "marketingOptIn": False})  # fmt: skip
    path.write_text(json.dumps({"Records": tables.records}))
    return path


def test_ingest_then_search_and_count_print_the_documented_json(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    event_file = write_event(embedded_home / "event.json")
    code, out, _ = run(capsys, "ingest", str(event_file), "--json")
    summary = json.loads(out)
    assert code == 0 and summary["records"] == 3 and summary["dead_lettered"] == 1

    code, out, _ = run(capsys, "search", "images", "montains", "--json")
    page = json.loads(out)
    assert code == 0 and page["total"] == 1
    [hit] = page["hits"]
    assert set(hit) == {"id", "score", "source", "highlight"}
    assert hit["source"]["owner"]["name"] == "Ada Lovelace"

    _, out, _ = run(capsys, "search", "users", "", "--all", "--json")
    assert [h["id"] for h in json.loads(out)["hits"]] == ["u-1"]
    _, out, _ = run(capsys, "count", "users", "--json")
    assert json.loads(out) == {"count": 1}


def test_a_bad_record_is_listed_in_the_dead_letter_store_with_its_reason(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    run(capsys, "ingest", str(write_event(embedded_home / "event.json")))
    _, out, _ = run(capsys, "dlq", "list", "--json")
    [letter] = json.loads(out)
    assert letter["table"] == "users" and "plan" in letter["reason"]
    code, out, _ = run(capsys, "dlq", "show", letter["id"], "--json")
    assert code == 0 and json.loads(out)["raw"]["eventName"] == "INSERT"


def test_ingesting_the_same_file_twice_changes_nothing(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    event_file = write_event(embedded_home / "event.json")
    run(capsys, "ingest", str(event_file))
    code, out, _ = run(capsys, "ingest", str(event_file), "--json")
    summary = json.loads(out)
    assert code == 0 and (summary["events_recorded"], summary["documents_written"]) == (0, 0)
    assert summary["duplicates"] == 2


def test_both_event_shapes_from_files_are_accepted(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tables = ",".join(f"{kind}=prod-{kind}" for kind in ("users", "images", "likes", "payments"))
    monkeypatch.setenv("STREAMFOLD_TABLES", tables)
    for name in ("dynamodb_streams_event.json", "kinesis_event.json"):
        # The two files carry the same changes in the same second: in one store, the order
        # across transports is unknown and only a read of the tables could settle it.
        monkeypatch.setenv("STREAMFOLD_DATA_DIR", str(tmp_path / name))
        code, out, err = run(capsys, "ingest", str(FIXTURES / name), "--json")
        assert code == 0, err
        summary = json.loads(out)
        assert (summary["batch_item_failures"], summary["dead_lettered"]) == ([], 0), summary


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["search", "users", "--bogus"], "unrecognized arguments: --bogus"),
        (["search", "pets", "x"], "invalid choice: 'pets'"),
        (["search", "users", "x", "--size", "500"], "--size"),
        (["ingest", "/no/such/file.json"], "/no/such/file.json: no such file"),
        (["dlq", "show", "nope"], "no dead letter 'nope'"),
    ],
)
def test_user_mistakes_get_one_line_that_says_what_to_do(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert expected in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_a_wrong_event_store_url_is_one_line_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", "mysql://root:secret@db/crm")
    code, _, err = run(capsys, "count", "users")
    assert code == 2 and "STREAMFOLD_EVENT_STORE" in err and "secret" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_unreachable_database_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", "postgresql://crm:hunter2@127.0.0.1:1/crm")
    code, _, err = run(capsys, "count", "users")
    assert code == 3 and "cannot reach the event store" in err and "hunter2" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_letter_for_an_unmapped_table_replays_once_the_table_is_mapped(
    capsys: pytest.CaptureFixture[str], embedded_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = SimulatedTables(table_names={"users": "crm-users-v2"})
    tables.put("users", {"userId": "u-9", "email": "grace@example.com", "name": "Grace Hopper",
                         "plan": "team", "country": "US", "createdAt": "2024-01-01T00:00:00Z",
                         "marketingOptIn": False})  # fmt: skip
    event_file = embedded_home / "unmapped.json"
    event_file.write_text(json.dumps({"Records": tables.records}))
    run(capsys, "ingest", str(event_file))
    _, out, _ = run(capsys, "dlq", "list", "--json")
    [letter] = json.loads(out)
    assert "not mapped" in letter["reason"]

    code, out, _ = run(capsys, "dlq", "replay", "--all", "--json")
    assert code == 1 and json.loads(out)["still_failing"] == [letter["id"]]

    monkeypatch.setenv("STREAMFOLD_TABLES", "users=crm-users-v2")
    code, out, _ = run(capsys, "dlq", "replay", "--all", "--json")
    assert code == 0 and json.loads(out)["replayed"] == [letter["id"]]
    _, out, _ = run(capsys, "count", "users", "--json")
    assert json.loads(out) == {"count": 1}
    code, out, _ = run(capsys, "dlq", "replay", letter["id"], "--json")  # twice: no harm
    assert code == 0
    _, out, _ = run(capsys, "count", "users", "--json")
    assert json.loads(out) == {"count": 1}
    _, out, _ = run(capsys, "dlq", "list", "--json")
    assert json.loads(out) == []


def test_discarded_letters_leave_the_open_list(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    run(capsys, "ingest", str(write_event(embedded_home / "event.json")))
    code, out, _ = run(capsys, "dlq", "discard", "--all", "--table", "users", "--json")
    assert code == 0 and len(json.loads(out)["discarded"]) == 1
    _, out, _ = run(capsys, "dlq", "list", "--json")
    assert json.loads(out) == []


def test_resync_of_an_unknown_id_says_so_and_fails(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    run(capsys, "ingest", str(write_event(embedded_home / "event.json")))

    code, out, err = run(capsys, "resync", "users", "nosuch")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "no user nosuch in the event store" in err

    code, out, _ = run(capsys, "resync", "users", "u-1", "nosuch")
    assert code == 1
    assert "rewrote 1 user document" in out and "no user nosuch" in out


def test_verify_prints_a_readable_summary_and_json_on_request(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    run(capsys, "ingest", str(write_event(embedded_home / "event.json")))

    code, out, _ = run(capsys, "verify")
    assert code == 0 and "{" not in out
    assert out.startswith("checked 1 user and 1 image against the event store: 0 missing")

    _, out, _ = run(capsys, "verify", "--json")
    assert json.loads(out)["checked"] == {"users": 1, "images": 1}


def test_every_status_column_has_a_heading(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    run(capsys, "ingest", str(write_event(embedded_home / "event.json")))

    code, out, _ = run(capsys, "status")
    headers = [
        line
        for i, line in enumerate(out.splitlines())
        if i and out.splitlines()[i - 1].startswith("# ")
    ]
    assert code == 0 and headers
    assert all(all(name.strip() for name in header.split("\t")) for header in headers)


def test_serve_on_a_busy_port_is_one_line_and_no_banner(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        code, out, err = run(capsys, "serve", "--port", str(port))

    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and f"cannot listen on 127.0.0.1:{port}" in err
