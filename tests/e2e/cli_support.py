"""What the command-line tests share: a fresh embedded home and one way to run a command."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from infrastructure.entrypoints.cli.main import main

CONFIGURATION = ("STREAMFOLD_EVENT_STORE", "STREAMFOLD_SEARCH", "STREAMFOLD_TABLES")


def use_embedded_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, unset: Sequence[str] = CONFIGURATION
) -> Path:
    """The embedded default under ``tmp_path/data``, whatever the environment configures."""
    for variable in unset:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("STREAMFOLD_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command's exit code, standard output and standard error."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
