"""A command loads what it uses: ``--help`` and one command never import the others' engines.

Counted in a fresh interpreter (``sys.modules`` after the command), not timed: the
figures in docs/performance.md say what the count is worth on a quiet machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("opensearchpy", "tantivy", "pyarrow", "duckdb", "fastapi", "uvicorn", "boto3",
         "botocore", "eventsourcing", "sqlalchemy", "psycopg", "pydantic", "rich")  # fmt: skip

PROBE = """
import contextlib, io, json, sys
from infrastructure.entrypoints.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
    main(sys.argv[1:])
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded_by(*argv: str, cwd: Path | None = None) -> set[str]:
    # The embedded defaults (a store under ``cwd``), whatever the test run's environment.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFOLD_")}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True, text=True, timeout=60, check=True, cwd=cwd, env=environment,
    )  # fmt: skip
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_overview_imports_no_engine_library_and_no_command() -> None:
    loaded = loaded_by("--help")
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)


@pytest.mark.parametrize(
    ("argv", "unused"),
    [
        (["sql", "--help"], {"duckdb", "pyarrow", "opensearchpy", "tantivy", "boto3", "fastapi"}),
        (["search", "--help"], {"duckdb", "pyarrow", "opensearchpy", "tantivy", "boto3"}),
        (["serve", "--help"], {"fastapi", "uvicorn", "duckdb", "boto3", "tantivy"}),
        (["poll", "--help"], {"duckdb", "pyarrow", "fastapi", "tantivy", "opensearchpy"}),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_a_command_loads_no_library_only_other_commands_use(
    argv: list[str], unused: set[str]
) -> None:
    loaded = loaded_by(*argv)
    assert loaded.isdisjoint(unused), loaded & unused


def test_a_query_of_the_embedded_store_loads_no_aws_or_postgresql_library(tmp_path: Path) -> None:
    # The composition root wires the stream parser and the source-table reader, which
    # load boto3's DynamoDB types and botocore when first used, not when wired; the event
    # store loads its PostgreSQL recorder and dialect (and psycopg) on PostgreSQL only.
    loaded = loaded_by("count", "users", cwd=tmp_path)
    assert "tantivy" in loaded  # the command did run against the embedded index
    unused = {"boto3", "botocore", "psycopg", "psycopg_pool"}
    assert loaded.isdisjoint(unused), loaded & unused
