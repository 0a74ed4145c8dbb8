"""``streamfold sql``: DuckDB over the export, readable or scriptable, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import CrmWorkload
from infrastructure.adapters.export.destination import LocalDirectory
from infrastructure.adapters.export.exporter import ParquetExport
from infrastructure.adapters.sqlquery.workspace import SqlError, SqlWorkspace
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from tests.support.exported import ingest, stored_documents


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Settings]]:
    """A small workload ingested and exported once for every test of this module."""
    directory = tmp_path_factory.mktemp("sql")
    settings = Settings(
        SQLiteStore(directory / "events.db"), EmbeddedSearch(directory / "index"), {}, "sql"
    )
    with Streamfold.from_settings(settings) as app:
        ingest(app, CrmWorkload(seed=12, users=30).records)
        ParquetExport(app.event_store, LocalDirectory(directory / "export")).run()
    yield directory, settings


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def streamfold(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> object:
    """Run the command line in this process with the store and export of ``directory``."""

    def run(directory: Path, *arguments: str) -> Run:
        monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"sqlite:///{directory / 'events.db'}")
        monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{directory / 'index'}")
        monkeypatch.setenv("STREAMFOLD_EXPORT", str(directory / "export"))
        capsys.readouterr()
        code = main(list(arguments))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def documents(settings: Settings) -> dict[str, dict[str, dict[str, Any]]]:
    with Streamfold.from_settings(settings) as app:
        return stored_documents(app)


def test_the_tables_are_events_users_and_images(exported: tuple[Path, Settings]) -> None:
    directory, settings = exported
    expected = documents(settings)

    with SqlWorkspace(directory / "export") as sql:
        counts = sql.run(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM users),"
            " (SELECT count(*) FROM images)"
        )
        head = sql.run("SELECT max(position), count(DISTINCT event_date) FROM events")

    with Streamfold.from_settings(settings) as app:
        events = app.event_store.head()
    assert counts.rows == [(events, len(expected["users"]), len(expected["images"]))]
    assert head.rows[0][0] == events


def test_the_default_output_is_an_aligned_table_with_a_row_count(
    exported: tuple[Path, Settings], streamfold: Any
) -> None:
    directory, settings = exported
    plans: dict[str, int] = {}
    for document in documents(settings)["users"].values():
        plans[str(document["plan"])] = plans.get(str(document["plan"]), 0) + 1

    result = streamfold(
        directory, "sql", "SELECT plan, count(*) AS users FROM users GROUP BY plan ORDER BY plan"
    )

    assert result.returncode == 0, result.stderr
    width = max(len("users"), *(len(str(n)) for n in plans.values()))
    expected = [f"plan  {'users'.rjust(width)}", f"----  {'-' * width}"]
    expected += [f"{plan.ljust(4)}  {str(n).rjust(width)}" for plan, n in sorted(plans.items())]
    expected += [f"({len(plans)} rows)"]
    assert result.stdout.splitlines() == expected


def test_json_and_csv_give_the_same_rows_for_scripts(
    exported: tuple[Path, Settings], streamfold: Any
) -> None:
    directory, settings = exported
    query = (
        "SELECT user_id, created_at, tags, lifetime_value_cents FROM users ORDER BY user_id LIMIT 5"
    )

    as_json = streamfold(directory, "sql", query, "--json")
    as_csv = streamfold(directory, "sql", query, "--csv")

    assert as_json.returncode == as_csv.returncode == 0, as_json.stderr + as_csv.stderr
    rows = json.loads(as_json.stdout)
    users = documents(settings)["users"]
    first = sorted(users)[:5]
    assert [row["user_id"] for row in rows] == first
    for row in rows:
        user = users[row["user_id"]]
        assert row["lifetime_value_cents"] == user["lifetime_value_cents"]
        assert row["tags"] == user["tags"]
        assert row["created_at"] == user["created_at"].isoformat().replace("+00:00", "Z")
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["user_id"] for r in parsed] == first
    assert [int(r["lifetime_value_cents"]) for r in parsed] == [
        row["lifetime_value_cents"] for row in rows
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELEC plan FROM users", 'syntax error at or near "SELEC"'),
        ("SELECT nickname FROM users", 'column "nickname" not found'),
        ("SELECT * FROM customers", "Table with name customers does not exist"),
    ],
)
def test_a_mistake_in_the_sql_is_the_database_message_on_one_line(
    exported: tuple[Path, Settings], streamfold: Any, query: str, message: str
) -> None:
    directory, _ = exported

    result = streamfold(directory, "sql", query)

    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("streamfold: ") and message in line
    assert "Traceback" not in result.stderr


def test_the_workspace_raises_sql_errors_not_database_exceptions(
    exported: tuple[Path, Settings],
) -> None:
    directory, _ = exported

    with SqlWorkspace(directory / "export") as sql, pytest.raises(SqlError) as raised:
        sql.run("SELECT plan + 1 FROM users")

    assert "\n" not in str(raised.value) and "Binder Error" in str(raised.value)


def test_an_empty_export_has_empty_tables_with_every_column(tmp_path: Path) -> None:
    with SqlWorkspace(tmp_path / "nothing-yet") as sql:
        events = sql.run("SELECT count(*), count(event_type), count(event_date) FROM events")
        users = sql.run("SELECT * FROM users")

    assert events.rows == [(0, 0, 0)]
    assert users.rows == [] and "analytics" in users.columns and "bucket" not in users.columns


def test_fresh_exports_what_is_new_before_answering(tmp_path: Path, streamfold: Any) -> None:
    settings = Settings(
        SQLiteStore(tmp_path / "events.db"), EmbeddedSearch(tmp_path / "index"), {}, "sql"
    )
    with Streamfold.from_settings(settings) as app:
        ingest(app, CrmWorkload(seed=13, users=8).records)
        head = app.event_store.head()

    stale = streamfold(tmp_path, "sql", "SELECT count(*) AS events FROM events")
    fresh = streamfold(tmp_path, "sql", "SELECT count(*) AS events FROM events", "--fresh")

    assert stale.returncode == 2 and "no export in" in stale.stderr and "--fresh" in stale.stderr
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.splitlines()[2].strip() == str(head)


def test_an_s3_export_is_left_to_athena_with_a_clear_message(
    tmp_path: Path, streamfold: Any
) -> None:
    result = streamfold(tmp_path, "sql", "SELECT 1", "--from", "s3://bucket/prefix")

    assert result.returncode == 2
    assert "Athena" in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("given", [False, True], ids=["default", "--from"])
def test_a_missing_export_is_named_with_what_to_run_instead_of_zero_rows(
    tmp_path: Path, streamfold: Any, given: bool
) -> None:
    where = ["--from", str(tmp_path / "nowhere")] if given else []

    result = streamfold(tmp_path, "sql", "SELECT plan, count(*) FROM users GROUP BY plan", *where)

    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "no export in" in line and "streamfold export" in line and "0 rows" not in line
    assert str(tmp_path / ("nowhere" if given else "export")) in line


@pytest.mark.parametrize(
    "statement",
    [
        "COPY users TO '{dir}/users.csv'",
        "COPY (SELECT 1) TO '{dir}/one.parquet' (FORMAT parquet)",
        "ATTACH '{dir}/other.db' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "EXPORT DATABASE '{dir}/dump'",
        "SELECT 1; ATTACH '{dir}/other.db'",
        "PRAGMA enable_profiling",
        "SET profile_output = '{dir}/profile.json'",
    ],
)
def test_statements_that_write_or_attach_are_refused_without_the_flag(
    exported: tuple[Path, Settings], streamfold: Any, tmp_path: Path, statement: str
) -> None:
    directory, _ = exported

    result = streamfold(directory, "sql", statement.format(dir=tmp_path))

    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "--allow-writes" in line
    assert list(tmp_path.iterdir()) == []


def test_allow_writes_runs_a_copy_to_a_file(
    exported: tuple[Path, Settings], streamfold: Any, tmp_path: Path
) -> None:
    directory, _ = exported
    target = tmp_path / "plans.csv"

    result = streamfold(
        directory, "sql", f"COPY (SELECT DISTINCT plan FROM users ORDER BY plan) TO '{target}'",
        "--allow-writes",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert target.read_text().split() == ["plan", "free", "pro", "team"]


@pytest.mark.parametrize(
    ("query", "suggested"),
    [("SELECT * FROM pg_sequencs", None), ("SELECT * FROM userz", "users")],
)
def test_an_unknown_table_suggests_the_exports_tables(
    exported: tuple[Path, Settings], streamfold: Any, query: str, suggested: str | None
) -> None:
    directory, _ = exported

    result = streamfold(directory, "sql", query)

    assert result.returncode == 2
    assert "pg_sequence" not in result.stderr.replace("pg_sequencs", "")
    assert "The tables are events, users, images" in result.stderr
    assert (f'Did you mean "{suggested}"' in result.stderr) == (suggested is not None)
