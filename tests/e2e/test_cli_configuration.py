"""A wrong STREAMFOLD_TABLES stops every command at once: one line on stderr, exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_table_mapping import REFUSED


@pytest.mark.parametrize(("spec", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_the_command_line_refuses_a_wrong_mapping_in_one_line(
    tmp_path: Path, spec: str, message: str
) -> None:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("STREAMFOLD_")
    }
    environment.update(STREAMFOLD_DATA_DIR=str(tmp_path / "data"), STREAMFOLD_TABLES=spec)

    finished = subprocess.run(
        [sys.executable, "-m", "infrastructure.entrypoints.cli.main", "dlq", "list"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert finished.returncode == 2
    assert finished.stderr == f"streamfold: {message}\n"
    assert finished.stdout == ""
    assert not (tmp_path / "data").exists()  # refused before anything was opened


def run_with_mapping(tmp_path: Path, spec: str, *arguments: str) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("STREAMFOLD_")
    }
    environment.update(
        STREAMFOLD_DATA_DIR=str(tmp_path / "data"),
        STREAMFOLD_TABLES=spec,
        AWS_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    return subprocess.run(
        [sys.executable, "-m", "infrastructure.entrypoints.cli.main", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("arguments", "missing"),
    [
        (("bootstrap", "--kind", "likes"), "likes: add likes=TABLE"),
        (("verify", "--source", "dynamodb"), "likes, payments: add likes=TABLE,payments=TABLE"),
    ],
    ids=["bootstrap", "verify"],
)
def test_a_kind_the_mapping_leaves_out_is_never_read_from_a_table_named_after_it(
    tmp_path: Path, arguments: tuple[str, ...], missing: str
) -> None:
    finished = run_with_mapping(tmp_path, "users=prod-users,images=prod-images", *arguments)

    assert finished.returncode == 2, finished.stderr
    assert finished.stderr == f"streamfold: STREAMFOLD_TABLES names no table for {missing} to it\n"
