"""Every command, when something it needs is missing or mistyped: one line, a documented code.

Unreachable services are real refused connections (port 1 on the loopback), and the
search backend's case runs in a subprocess, where the transport libraries' own logging
would reach the terminal as it does for a user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infrastructure.entrypoints.cli import exit_codes
from tests.e2e.cli_support import run, use_embedded_home

DOCUMENTED = {
    exit_codes.OK,
    exit_codes.PROBLEM_FOUND,
    exit_codes.USAGE,
    exit_codes.UNAVAILABLE,
}
REFUSED = "127.0.0.1:1"


@pytest.fixture(autouse=True)
def embedded_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    use_embedded_home(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def assert_one_line(code: int, err: str, expected_code: int) -> None:
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("streamfold: ")
    assert code == expected_code, err


def event_file(home: Path) -> Path:
    path = home / "event.json"
    path.write_text('{"Records": []}')
    return path


SEARCH_COMMANDS = [
    ["count", "users"],
    ["status"],
    ["search", "images", "mountain"],
    ["search", "users", "", "--all", "--json"],
    ["verify"],
    ["resync", "users", "u-1"],
    ["rebuild", "users"],
    ["migrate"],
    ["demo", "--users", "3"],
]


@pytest.mark.parametrize("argv", SEARCH_COMMANDS, ids=" ".join)
def test_an_unreachable_search_backend_is_one_line_within_seconds(
    argv: list[str], embedded_home: Path
) -> None:
    env = {**os.environ, "STREAMFOLD_SEARCH": f"http://{REFUSED}"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "infrastructure.entrypoints.cli.main", *argv],
        env=env, cwd=embedded_home, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert time.monotonic() - started < 15  # three seconds of retries, and a loaded machine
    assert_one_line(done.returncode, done.stderr, exit_codes.UNAVAILABLE)
    assert "OpenSearch at http://127.0.0.1:1" in done.stderr


DATABASE_COMMANDS = [
    ["count", "users"],
    ["search", "images", "mountain"],
    ["status"],
    ["verify"],
    ["resync", "users", "u-1"],
    ["rebuild", "users"],
    ["migrate", "--plan"],
    ["dlq", "list"],
    ["dlq", "replay", "--all"],
    ["export", "lake"],
    ["demo", "--users", "3"],
]


@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=" ".join)
def test_an_unreachable_database_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"postgresql://crm:hunter2@{REFUSED}/crm")
    code, _, err = run(capsys, *argv)
    assert_one_line(code, err, exit_codes.UNAVAILABLE)
    assert "cannot reach the event store" in err and "hunter2" not in err


AWS_COMMANDS = [
    ["bootstrap"],
    ["verify", "--source", "dynamodb"],
    ["poll", "--until-idle"],
    ["resync", "users", "u-1", "--source", "dynamodb"],
]


AWS_IDENTITY = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
)  # fmt: skip


@pytest.fixture
def no_aws_identity(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in AWS_IDENTITY:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_aws_identity")
@pytest.mark.parametrize("argv", AWS_COMMANDS, ids=" ".join)
def test_no_aws_region_is_one_line_naming_both_variables(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, _, err = run(capsys, *argv)
    assert_one_line(code, err, exit_codes.USAGE)
    assert "AWS_REGION" in err and "AWS_DEFAULT_REGION" in err


@pytest.mark.usefixtures("no_aws_identity")
@pytest.mark.parametrize("argv", AWS_COMMANDS, ids=" ".join)
def test_aws_region_is_honoured_and_missing_credentials_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    code, _, err = run(capsys, *argv)
    assert_one_line(code, err, exit_codes.USAGE)
    assert "no AWS credentials" in err and "region" not in err


def test_an_unreachable_aws_endpoint_is_one_line_worth_retrying(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{REFUSED}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code, _, err = run(capsys, "bootstrap", "--json")
    assert_one_line(code, err, exit_codes.UNAVAILABLE)
    assert "cannot reach AWS" in err


MALFORMED = [
    (["search", "images", "x", "--sort", "like_count:up"], "--sort 'like_count:up'"),
    (["search", "images", "x", "--facet", "like_count:abc"], "--facet 'like_count:abc': use"),
    (["search", "images", "x", "--facet", "created_at:hour"], "--facet 'created_at:hour'"),
    (["search", "images", "x", "--facet", "status:0"], "--facet 'status:0'"),
    (["search", "images", "x", "--filter", "tags==x"], "one operator only, e.g. tags=x"),
    (["search", "images", "x", "--filter", "like_count>=>3"], "e.g. like_count>=3"),
    (["count", "images", "--where", '{"type":"term","field":"status"}'], "--where (value)"),
    (["count", "images", "--where", "{"], "--where: not JSON"),
    (["search", "images", "x", "--bogus"], "see `streamfold search --help`"),
    (["dlq", "list", "--bogus"], "see `streamfold dlq list --help`"),
    (["count", "pets"], "invalid choice: 'pets'"),
    (["search", "images", "x", "--size", "many"], "--size: invalid int value"),
    (["nosuch"], "invalid choice: 'nosuch'"),
    (["verify", "--segments", "0"], "--segments"),
    (["poll", "--batch-size", "0"], "--batch-size"),
    (["resync"], "name a kind and ids"),
    (["sql", ""], "the query is empty"),
    (["bootstrap", "--kind", "pets"], "invalid choice: 'pets'"),
]


@pytest.mark.parametrize(("argv", "expected"), MALFORMED, ids=lambda v: " ".join(v))
def test_a_malformed_flag_is_one_line_that_says_what_to_do(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert_one_line(code, err, exit_codes.USAGE)
    assert expected in err and out == ""
    assert "--term" not in err and "For further information" not in err


def test_an_unexpected_fault_is_one_line_with_a_way_to_see_more(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, embedded_home: Path
) -> None:
    # A data directory that is a file: no command expects that, so nothing explains it.
    (embedded_home / "data").write_text("not a directory")
    code, _, err = run(capsys, "count", "users")
    assert code in DOCUMENTED | {exit_codes.INTERNAL}
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
