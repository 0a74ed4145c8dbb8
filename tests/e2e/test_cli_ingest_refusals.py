"""``streamfold ingest`` says so, and fails, when a file's records were all refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import SimulatedTables
from tests.e2e.cli_support import run, use_embedded_home

FIXTURES = Path(__file__).parent.parent / "fixtures" / "events"
USER = {"userId": "u-1", "email": "ada@example.com", "name": "Ada Lovelace", "plan": "pro",
        "country": "GB", "createdAt": "2024-01-01T00:00:00Z", "marketingOptIn": True}  # fmt: skip


@pytest.fixture(autouse=True)
def embedded_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    return use_embedded_home(monkeypatch, tmp_path)


def event_file(path: Path, *items: tuple[str, dict[str, Any]], names: Any = None) -> Path:
    tables = SimulatedTables(table_names=names) if names else SimulatedTables()
    for table, item in items:
        tables.put(table, item)
    path.write_text(json.dumps({"Records": tables.records}))
    return path


def open_letters(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    _, out, _ = run(capsys, "dlq", "list", "--json")
    letters: list[dict[str, Any]] = json.loads(out)
    return letters


def test_an_s3_event_is_refused_and_the_command_fails_saying_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = FIXTURES / "s3_event.json"

    code, _, err = run(capsys, "ingest", str(path))

    assert code == 1
    assert err == (
        f"streamfold: {path}: nothing applied, all 2 records were refused and dead-lettered: "
        "eventSource 'aws:s3' is neither aws:dynamodb nor aws:kinesis; "
        "`streamfold dlq list` shows them\n"
    )
    assert len(open_letters(capsys)) == 2


def test_an_sqs_event_is_refused_and_the_command_fails_saying_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = FIXTURES / "sqs_event.json"

    code, out, err = run(capsys, "ingest", str(path), "--json")

    assert code == 1
    assert err == (
        f"streamfold: {path}: nothing applied, its record was refused and dead-lettered: "
        "eventSource 'aws:sqs' is neither aws:dynamodb nor aws:kinesis; "
        "`streamfold dlq list` shows them\n"
    )
    assert json.loads(out)["dead_lettered"] == 1


def test_records_of_a_table_the_mapping_leaves_out_are_refused_naming_the_fix(
    capsys: pytest.CaptureFixture[str], embedded_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMFOLD_TABLES", "users=crm-users")
    path = event_file(embedded_home / "users.json", ("users", USER))

    code, _, err = run(capsys, "ingest", str(path))

    assert code == 1
    assert "table 'users' is not mapped to a kind; name it in STREAMFOLD_TABLES" in err


def test_a_file_refused_by_the_domain_rules_points_at_the_letters(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    path = event_file(embedded_home / "gold.json", ("users", {**USER, "plan": "gold"}))

    code, _, err = run(capsys, "ingest", str(path))

    assert code == 1
    assert err == (
        f"streamfold: {path}: nothing applied, its record was refused and dead-lettered; "
        "`streamfold dlq list` shows them\n"
    )
    [letter] = open_letters(capsys)
    assert "plan" in letter["reason"]


def test_a_file_with_some_records_applied_succeeds(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    path = event_file(
        embedded_home / "mixed.json",
        ("users", USER),
        ("users", {**USER, "userId": "u-2", "plan": "gold"}),
    )

    code, _, err = run(capsys, "ingest", str(path))

    assert (code, err) == (0, "")
    assert len(open_letters(capsys)) == 1


def test_a_good_file_beside_a_refused_one_is_applied_and_the_command_fails(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    good = event_file(embedded_home / "good.json", ("users", USER))

    code, _, err = run(capsys, "ingest", str(good), str(FIXTURES / "s3_event.json"))

    assert code == 1 and "s3_event.json: nothing applied" in err
    _, out, _ = run(capsys, "count", "users", "--json")
    assert json.loads(out) == {"count": 1}


def test_a_file_that_is_no_stream_event_is_a_usage_error_and_nothing_is_ingested(
    capsys: pytest.CaptureFixture[str], embedded_home: Path
) -> None:
    good = event_file(embedded_home / "good.json", ("users", USER))
    api_call = embedded_home / "api.json"
    api_call.write_text(json.dumps({"version": "2.0", "rawPath": "/v1/users/count"}))

    code, _, err = run(capsys, "ingest", str(good), str(api_call))

    assert code == 2
    assert err == (
        f'streamfold: {api_call}: not a Lambda stream event (no "Records" list); '
        "streamfold ingest takes DynamoDB Streams or Kinesis events\n"
    )
    _, out, _ = run(capsys, "count", "users", "--json")
    assert json.loads(out) == {"count": 0}


def test_the_refusal_is_one_line_on_stderr_without_a_traceback(embedded_home: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFOLD_")}
    environment["STREAMFOLD_DATA_DIR"] = str(embedded_home / "data")
    path = FIXTURES / "sqs_event.json"

    finished = subprocess.run(
        [sys.executable, "-m", "infrastructure.entrypoints.cli.main", "ingest", str(path)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 1
    [line] = finished.stderr.splitlines()
    assert line.startswith(f"streamfold: {path}: nothing applied") and "Traceback" not in line
