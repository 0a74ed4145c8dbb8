"""Adding a field takes its declarations alone: the worked example of docs/fields.md.

A copy of the code gets the two edits the docs show (``location`` on the images table,
``location`` on the image document) and nothing else; run from that copy, both backends'
mappings, the allowlist, the state table, the export's columns, the events and the
documents have the field. The same probe run on the unchanged code finds none of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "projections", "infrastructure")

# The edits of docs/fields.md, as (file, the line after which, the lines added).
EDITS = (
    (
        "domain/items.py",
        "    size_bytes: WholeNumber\n",
        "    location: Annotated[StrictStr | None, OPTIONAL]\n",
    ),
    (
        "projections/documents.py",
        'ENGAGEMENT = Revision(3, "engagement: likes given + likes received + uploads")\n',
        'LOCATION = Revision(2, "location: where the picture was taken", refold=True)\n',
    ),
    (
        "projections/documents.py",
        "    owner: Annotated[OwnerSummary | None, Indexed(Shape.OBJECT)]\n",
        "    location: Annotated[\n"
        "        str | None, Indexed(Shape.TERMS, boost=1.0, sortable=True, since=LOCATION)\n"
        "    ]\n",
    ),
)

PROBE = """
import json
from infrastructure.adapters.embedded.schema import schema_fields
from infrastructure.adapters.eventstore.state_tables import STATE_TABLES
from infrastructure.adapters.export.athena import columns
from infrastructure.adapters.export.schema import DOCUMENTS, EVENTS
from infrastructure.adapters.opensearch.mappings import index_body, kind_mapping
from infrastructure.services.table_documents import TABLE_FIELDS
from domain.images import Image
from projections.documents import DocumentKind
from projections.query import query_fields
from projections.state import StateTable
from projections.versions import REVISIONS, projection_version

IMAGES = DocumentKind.IMAGES
field = query_fields(IMAGES).get("location")
print(json.dumps({
    "opensearch": index_body(IMAGES)["mappings"]["properties"].get("location"),
    "opensearch_searched": [f.indexed for f in kind_mapping(IMAGES).searched],
    "tantivy": [f["name"] for f in schema_fields(IMAGES) if "location" in f["name"]],
    "allowlist": None if field is None else [field.type.value, field.boost, field.sortable],
    "state": STATE_TABLES[StateTable.IMAGES].create,
    "parquet_images": [f.name for f in DOCUMENTS[IMAGES].schema],
    "parquet_events": [f.name for f in EVENTS.schema],
    "athena_images": [list(c) for c in columns(DOCUMENTS[IMAGES])],
    "table_fields": list(TABLE_FIELDS[IMAGES]),
    "projection_version": projection_version(IMAGES),
    "refold": [r.refold for r in REVISIONS[IMAGES]],
    "change_events": sorted(e.__qualname__ for e in Image.CHANGE_EVENTS.values()),
}))
"""


def _copy_of_the_code(target: Path, edits: tuple[tuple[str, str, str], ...]) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    for path, after, added in edits:
        text = (target / path).read_text()
        assert text.count(after) == 1, f"{path} no longer has {after!r} once"
        (target / path).write_text(text.replace(after, after + added))
    return target


def _run(code: Path, data: Path, *argv: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFOLD_")}
    env["PYTHONPATH"] = str(code)
    result = subprocess.run(
        [sys.executable, *argv], cwd=data, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _probe(code: Path, data: Path) -> dict[str, Any]:
    outputs: dict[str, Any] = json.loads(_run(code, data, "-c", PROBE))
    return outputs


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    code = _copy_of_the_code(tmp_path_factory.mktemp("code"), EDITS)
    return code, tmp_path_factory.mktemp("data")


def test_the_unchanged_code_has_no_location(tmp_path: Path) -> None:
    found = _probe(_copy_of_the_code(tmp_path / "code", ()), tmp_path)
    assert found["opensearch"] is None and found["tantivy"] == [] and found["allowlist"] is None
    assert "location" not in found["parquet_images"] + found["parquet_events"]
    assert "location" not in found["state"] and found["projection_version"] == 1


def test_a_declared_location_is_in_both_backends_mappings(declared: tuple[Path, Path]) -> None:
    found = _probe(*declared)
    assert found["opensearch"] == {
        "type": "keyword",
        "fields": {"text": {"type": "text", "analyzer": "words"}},
    }
    assert "location.text" in found["opensearch_searched"]
    assert found["tantivy"] == [
        "location",
        "location_keyword",
        *(f"location_order{part}" for part in range(4)),
    ]
    assert found["allowlist"] == ["keyword", 1.0, True]


def test_a_declared_location_is_in_the_state_the_export_and_the_versions(
    declared: tuple[Path, Path],
) -> None:
    found = _probe(*declared)
    assert "location TEXT," in found["state"] or found["state"].endswith("location TEXT)")
    assert found["parquet_images"][-2:] == ["location", "version"]
    assert "location" in found["parquet_events"]
    assert ["location", "string"] in found["athena_images"]
    assert "location" in found["table_fields"]
    assert (found["projection_version"], found["refold"]) == (2, [False, True])
    assert "Image.LocationChanged" in found["change_events"]


def _image_event(name: str, location: str | None, sequence: int) -> dict[str, Any]:
    image = {
        "imageId": {"S": "img-1"},
        "userId": {"S": "usr-1"},
        "title": {"S": "Tram at dusk"},
        "imageUrl": {"S": "https://example.com/img-1.jpg"},
        "createdAt": {"S": "2024-05-01T10:00:00Z"},
        "status": {"S": "active"},
        "sizeBytes": {"N": "1024"},
    }
    if location is not None:
        image["location"] = {"S": location}
    return {
        "eventID": f"image-{sequence}",
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"imageId": {"S": "img-1"}},
            "NewImage": image,
            "SequenceNumber": str(sequence),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:1:table/images/stream/2024",
    }


CLI = ("-m", "infrastructure.entrypoints.cli.main")


def _ingest(
    code: Path, data: Path, name: str, location: str | None, sequence: int
) -> dict[str, Any]:
    batch = data / f"batch{sequence}.json"
    batch.write_text(json.dumps({"Records": [_image_event(name, location, sequence)]}))
    report: dict[str, Any] = json.loads(_run(code, data, *CLI, "ingest", "--json", str(batch)))
    return report


def test_a_declared_location_reaches_the_documents_searches_and_facets(
    declared: tuple[Path, Path],
) -> None:
    code, data = declared
    _ingest(code, data, "INSERT", "Porto", 1)
    _ingest(code, data, "MODIFY", "Lisbon", 2)

    found = _search(code, data, "lisbon")

    assert [hit["source"]["location"] for hit in found["hits"]] == ["Lisbon"]
    assert found["facets"]["location"]["buckets"] == [{"key": "Lisbon", "count": 1}]


def _search(code: Path, data: Path, text: str) -> dict[str, Any]:
    output = _run(code, data, *CLI, "search", "images", text, "--facet", "location", "--json")
    found: dict[str, Any] = json.loads(output)
    return found


def test_an_installation_takes_the_new_field_before_and_after_migrating(tmp_path: Path) -> None:
    before = _copy_of_the_code(tmp_path / "before", ())
    after = _copy_of_the_code(tmp_path / "after", EDITS)
    data = tmp_path / "data"
    data.mkdir()
    _ingest(before, data, "INSERT", None, 1)

    # Deployed, not migrated yet: the state table takes the new column, nothing waits.
    ingested = _ingest(after, data, "MODIFY", "Porto", 2)
    assert (ingested["documents_written"], ingested["batch_item_failures"]) == (1, [])
    plan = _run(after, data, *CLI, "migrate", "--plan", "--json")
    _run(after, data, *CLI, "migrate")

    [images] = [k for k in json.loads(plan)["kinds"] if k["kind"] == "images"]
    assert (images["verdict"], images["projection"]["wanted"]) == ("new index", 2)
    found = _search(after, data, "porto")
    assert [hit["source"]["location"] for hit in found["hits"]] == ["Porto"]
    assert found["facets"]["location"]["buckets"] == [{"key": "Porto", "count": 1}]
