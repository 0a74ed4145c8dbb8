"""Athena reads what the export writes: the Glue tables, the DDL in the docs, the layout."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from cfnlint.decode import cfn_yaml

from devtools.demo import CrmWorkload
from infrastructure.adapters.export.athena import (
    columns,
    create_table,
    partition_column,
    projection,
)
from infrastructure.adapters.export.destination import LocalDirectory
from infrastructure.adapters.export.exporter import ParquetExport
from infrastructure.adapters.export.schema import TABLES, TableLayout
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from tests.support.exported import ingest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "template.yaml"
GLUE = {"events": "EventsTable", "users": "UsersTable", "images": "ImagesTable"}
DOCS_LOCATION = "s3://EXPORT-BUCKET/streamfold"


@pytest.fixture(scope="module")
def template() -> Any:
    return cfn_yaml.load(str(TEMPLATE))


def glue_table(template: Any, table: TableLayout) -> Any:
    return template["Resources"][GLUE[table.name]]["Properties"]["TableInput"]


# The columns the brief's contract names: a table definition must declare each of them.
CONTRACT = {
    "events": {"position", "recorded_at", "kind", "event_type", "aggregate_id",
               "aggregate_version", "user_id", "image_id", "payment_id", "plan",
               "previous_plan", "amount_cents", "sessions", "pageviews"},
    "users": {"user_id", "email", "name", "plan", "country", "created_at",
              "marketing_opt_in", "tags", "bio", "image_count", "likes_received",
              "likes_given", "last_upload_at", "lifetime_value_cents", "payment_count",
              "analytics", "version"},
    "images": {"image_id", "title", "description", "tags", "image_url", "created_at",
               "status", "size_bytes", "like_count", "owner", "version"},
}  # fmt: skip


def assert_reads_the_files(declared: list[tuple[str, str]], table: TableLayout) -> None:
    """Every declared column is in the files with that type, in the files' order.

    A field added to the documents later is in the files before it is in a table
    definition (Athena skips columns it is not told about); a declared column the files
    lack, or of another type, would be a table that misreads the export.
    """
    exported = columns(table)
    assert [c for c in exported if c in declared] == declared, set(declared) - set(exported)
    assert CONTRACT[table.name] <= {name for name, _ in declared}


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_each_glue_table_declares_the_exported_columns_and_partition(
    template: Any, table: TableLayout
) -> None:
    glue = glue_table(template, table)
    storage = glue["StorageDescriptor"]

    assert_reads_the_files([(c["Name"], c["Type"]) for c in storage["Columns"]], table)
    assert [(k["Name"], k["Type"]) for k in glue["PartitionKeys"]] == [partition_column(table)]
    assert storage["Location"] == {
        "Fn::Sub": f"s3://${{ExportBucket}}/${{ExportPrefix}}/{table.name}/"
    }
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")


@pytest.mark.parametrize("table", TABLES, ids=[t.name for t in TABLES])
def test_partition_projection_needs_no_crawler(template: Any, table: TableLayout) -> None:
    parameters = glue_table(template, table)["Parameters"]
    expected = projection(table, "s3://${ExportBucket}/${ExportPrefix}")
    partition = table.partition

    location = expected.pop("storage.location.template").replace(
        f"${{{partition}}}", f"${{!{partition}}}"
    )
    assert parameters["storage.location.template"] == {"Fn::Sub": location}
    assert {k: v for k, v in parameters.items() if k != "storage.location.template"} == expected
    assert parameters["projection.enabled"] == "true"


def test_the_export_writes_exactly_the_paths_the_projection_reads(tmp_path: Path) -> None:
    settings = Settings(
        SQLiteStore(tmp_path / "events.db"), EmbeddedSearch(tmp_path / "index"), {}, "athena"
    )
    with Streamfold.from_settings(settings) as app:
        ingest(app, CrmWorkload(seed=5, users=15).records)
        ParquetExport(app.event_store, LocalDirectory(tmp_path / "export")).run()
    patterns = {
        "events": r"events/event_date=\d{4}-\d{2}-\d{2}/part-\d{20}-\d{20}\.parquet",
        "users": r"users/bucket=(0\d|1[0-5])/data\.parquet",
        "images": r"images/bucket=(0\d|1[0-5])/data\.parquet",
    }

    files = [p.relative_to(tmp_path / "export") for p in (tmp_path / "export").rglob("*.parquet")]

    assert files and all(str(p).split("/")[0] in patterns for p in files)
    for path in files:
        assert re.fullmatch(patterns[str(path).split("/")[0]], str(path)), path
        table = next(t for t in TABLES if t.name == str(path).split("/")[0])
        assert pq.read_schema(tmp_path / "export" / path).names == table.schema.names


def test_the_ddl_in_the_docs_reads_the_export() -> None:
    text = (ROOT / "docs" / "sql.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(CREATE EXTERNAL TABLE.*?)```", text, flags=re.DOTALL)

    assert len(blocks) == len(TABLES)
    for block, table in zip(blocks, TABLES, strict=True):
        generated = create_table(table, DOCS_LOCATION)
        head, _, rest = block.strip().partition("\n")
        assert head == generated.partition("\n")[0]
        declared = re.findall(r"^  `(\w+)` (.+?),?$", rest.partition("\n)\n")[0], re.MULTILINE)
        assert_reads_the_files(declared, table)
        assert block.strip().partition("\n)\n")[2] == generated.partition("\n)\n")[2]


LAMBDA_IMPORT = """
import importlib.abc, sys
class LeftOut(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tantivy", "rich", "pyarrow", "duckdb"):
            raise ImportError(f"{name} is not in the Lambda package")
        return None
sys.meta_path.insert(0, LeftOut())
import infrastructure.entrypoints.lambda_analytics
assert infrastructure.entrypoints.lambda_analytics.__file__.startswith(sys.argv[1])
print("imported")
"""


def test_the_analytics_lambda_runs_without_arrow_or_duckdb(tmp_path: Path) -> None:
    package = tmp_path / "lambda"
    subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "build_lambda.py"), "--output", str(package),
         "--no-dependencies", "--no-compile"],
        check=True, capture_output=True,
    )  # fmt: skip

    imported = subprocess.run(
        [sys.executable, "-c", LAMBDA_IMPORT, str(package)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(package), "PATH": "/usr/bin:/bin"},
    )

    assert imported.stdout.strip() == "imported", imported.stderr
    assert not (package / "infrastructure" / "export").exists()
    assert not (package / "infrastructure" / "sqlquery").exists()
    sys.path.insert(0, str(ROOT / "deploy"))
    try:
        import build_lambda
    finally:
        sys.path.remove(str(ROOT / "deploy"))
    requirements = " ".join(build_lambda.lambda_requirements())
    assert "duckdb" not in requirements and "pyarrow" not in requirements


def test_the_analytics_function_is_triggered_by_new_objects_with_least_privilege(
    template: Any,
) -> None:
    function = template["Resources"]["AnalyticsImportFunction"]["Properties"]
    role = template["Resources"]["AnalyticsImportRole"]["Properties"]
    statements = [
        statement
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]

    assert function["Handler"] == "infrastructure.entrypoints.lambda_analytics.s3_import_handler"
    trigger = function["Events"]["FileDropped"]
    assert trigger["Type"] == "S3" and trigger["Properties"]["Events"] == "s3:ObjectCreated:*"
    assert trigger["Properties"]["Bucket"] == {"Ref": "AnalyticsBucket"}
    s3 = [s for s in statements if any(str(a).startswith("s3:") for a in _list(s["Action"]))]
    assert [_list(s["Action"]) for s in s3] == [["s3:GetObject"]]
    assert "*" not in str(s3[0]["Resource"]).replace("/*", "")


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]
