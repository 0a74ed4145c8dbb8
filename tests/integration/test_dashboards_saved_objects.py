"""The shipped OpenSearch Dashboards objects hold together and use only mapped fields."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infrastructure.adapters.dashboards.saved_objects import SAVED_OBJECTS_FILE, saved_objects
from infrastructure.adapters.opensearch.mappings import index_body
from infrastructure.adapters.opensearch.names import IndexNames
from projections.documents import DocumentKind

SHIPPED = saved_objects()
NUMBERS = {"integer", "long", "short", "byte", "double", "float"}
AGGREGATABLE = {"keyword", "date", "boolean", *NUMBERS}
# What each aggregation needs of its field.
FIELD_TYPES = {
    "terms": AGGREGATABLE,
    "top_hits": AGGREGATABLE,
    "date_histogram": {"date"},
    "histogram": NUMBERS,
    "range": NUMBERS,
    "sum": NUMBERS,
    "avg": NUMBERS,
    "max": NUMBERS,
    "min": NUMBERS,
    "cardinality": AGGREGATABLE,
}


def of_type(kind: str, objects: list[dict[str, Any]] = SHIPPED) -> list[dict[str, Any]]:
    return [o for o in objects if o["type"] == kind]


def mapped_type(kind: DocumentKind, path: str) -> str | None:
    """The mapping type of ``path`` (``title.keyword`` is a sub-field), or None if unmapped."""
    node: dict[str, Any] = {"properties": index_body(kind)["mappings"]["properties"]}
    for key in path.split("."):
        children = {**node.get("properties", {}), **node.get("fields", {})}
        if key not in children:
            return None
        node = children[key]
    found: str = node.get("type", "object")
    return found


def kind_of_pattern(objects: list[dict[str, Any]], pattern_id: str, prefix: str) -> DocumentKind:
    (pattern,) = [o for o in of_type("index-pattern", objects) if o["id"] == pattern_id]
    names = IndexNames(prefix)
    return next(k for k in DocumentKind if names.alias(k) == pattern["attributes"]["title"])


def fields_used(visualisation: dict[str, Any]) -> list[tuple[str, str]]:
    """(aggregation type, field) for every field a visualisation reads, sort fields included."""
    state = json.loads(visualisation["attributes"]["visState"])
    used = []
    for agg in state["aggs"]:
        params = agg.get("params", {})
        if "field" in params:
            used.append((agg["type"], params["field"]))
        if "sortField" in params:
            used.append(("sort", params["sortField"]))
    return used


def test_the_file_is_one_json_object_per_line_with_unique_ids() -> None:
    lines = [line for line in SAVED_OBJECTS_FILE.read_text().splitlines() if line.strip()]

    objects = [json.loads(line) for line in lines]

    assert len({(o["type"], o["id"]) for o in objects}) == len(objects)
    assert {o["type"] for o in objects} == {"index-pattern", "visualization", "dashboard"}
    assert len(of_type("dashboard")) == 1 and len(of_type("visualization")) >= 6


@pytest.mark.parametrize("prefix", ["streamfold", "crm-eu"])
def test_every_reference_names_an_object_of_the_file(prefix: str) -> None:
    objects = saved_objects(prefix)
    present = {(o["type"], o["id"]) for o in objects}

    for saved in objects:
        names = set()
        for reference in saved["references"]:
            assert (reference["type"], reference["id"]) in present, (saved["id"], reference)
            names.add(reference["name"])
        meta = json.loads(
            saved["attributes"].get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}")
        )
        if "indexRefName" in meta:
            assert meta["indexRefName"] in names
        for panel in json.loads(saved["attributes"].get("panelsJSON", "[]")):
            assert panel["panelRefName"] in names


def test_the_dashboard_shows_every_visualisation() -> None:
    (dashboard,) = of_type("dashboard")

    shown = {r["id"] for r in dashboard["references"] if r["type"] == "visualization"}

    assert shown == {v["id"] for v in of_type("visualization")}


@pytest.mark.parametrize("prefix", ["streamfold", "crm-eu"])
def test_the_index_patterns_name_the_aliases_and_a_mapped_date_field(prefix: str) -> None:
    patterns = of_type("index-pattern", saved_objects(prefix))

    names = IndexNames(prefix)
    assert sorted(p["attributes"]["title"] for p in patterns) == sorted(
        names.alias(kind) for kind in DocumentKind
    )
    for pattern in patterns:
        kind = kind_of_pattern(patterns, pattern["id"], prefix)
        assert mapped_type(kind, pattern["attributes"]["timeFieldName"]) == "date"


@pytest.mark.parametrize(
    "visualisation", of_type("visualization"), ids=lambda v: v["id"].removeprefix("streamfold-")
)
def test_every_field_a_visualisation_uses_is_mapped_with_a_type_its_aggregation_takes(
    visualisation: dict[str, Any],
) -> None:
    (pattern,) = [r["id"] for r in visualisation["references"] if r["type"] == "index-pattern"]
    kind = kind_of_pattern(SHIPPED, pattern, "streamfold")

    used = fields_used(visualisation)

    for aggregation, field in used:
        found = mapped_type(kind, field)
        assert found is not None, f"{field} is not in the {kind.value} mappings"
        allowed = AGGREGATABLE if aggregation == "sort" else FIELD_TYPES[aggregation]
        assert found in allowed, f"{aggregation} on {field}, a {found} field"


def test_the_field_check_catches_an_unmapped_field() -> None:
    assert mapped_type(DocumentKind.IMAGES, "title.keyword") == "keyword"
    assert mapped_type(DocumentKind.IMAGES, "owner.name.keyword") == "keyword"
    assert mapped_type(DocumentKind.IMAGES, "colour") is None
    assert mapped_type(DocumentKind.USERS, "name.raw") is None
