"""Migration plans: definitions compared, verdicts judged, versions declared with the code."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infrastructure.adapters.index_definitions.definitions import (
    FieldSpec,
    IndexDefinition,
    compare,
)
from infrastructure.adapters.index_definitions.embedded import (
    definition_of_fields,
    wanted_definition,
)
from infrastructure.adapters.index_definitions.opensearch import additions, definition_of
from infrastructure.adapters.opensearch.mappings import index_body
from infrastructure.services.migrations.plan import Verdict, judge
from projections.documents import DocumentKind
from projections.render import render_image_document, render_user_document
from projections.state import ImageRow, UserRow, UserStats
from projections.versions import (
    REVISIONS,
    Revision,
    document_fields,
    projection_version,
    revisions_after,
)

USERS, IMAGES = DocumentKind.USERS, DocumentKind.IMAGES
BASE = IndexDefinition(
    {
        "name": FieldSpec("text", {"analyzer": "words"}),
        "likes": FieldSpec("integer"),
        "owner": FieldSpec("object"),
        "owner.plan": FieldSpec("keyword"),
    },
    {"max_result_window": "10100"},
)


def changed(**edits: Any) -> IndexDefinition:
    fields = dict(BASE.fields)
    settings = dict(BASE.settings)
    for path, spec in edits.pop("fields", {}).items():
        if spec is None:
            del fields[path]
        else:
            fields[path] = spec
    settings.update(edits.pop("settings", {}))
    return IndexDefinition(fields, settings)


ADDED = changed(fields={"score": FieldSpec("long")})
REMOVED = changed(fields={"likes": None})
RETYPED = changed(fields={"likes": FieldSpec("keyword")})
ANALYZER = changed(fields={"name": FieldSpec("text", {"analyzer": "standard"})})
SETTINGS = changed(settings={"max_result_window": "20000"})


def test_compare_names_each_kind_of_change() -> None:
    assert compare(BASE, BASE).none and BASE.fingerprint == changed().fingerprint
    assert list(compare(BASE, ADDED).added) == ["score"]
    assert list(compare(BASE, REMOVED).removed) == ["likes"]
    assert [c.describe() for c in compare(BASE, RETYPED).retyped] == ["likes: integer -> keyword"]
    assert [c.describe() for c in compare(BASE, ANALYZER).reconfigured] == [
        "name: analyzer words -> standard"
    ]
    assert [c.describe() for c in compare(BASE, SETTINGS).settings] == [
        "max_result_window: 10100 -> 20000"
    ]
    fingerprints = {d.fingerprint for d in (BASE, ADDED, REMOVED, RETYPED, ANALYZER, SETTINGS)}
    assert len(fingerprints) == 6


@pytest.mark.parametrize(
    ("wanted", "opensearch", "embedded"),
    [
        (ADDED, Verdict.IN_PLACE, Verdict.NEW_INDEX),
        (REMOVED, Verdict.NEW_INDEX, Verdict.NEW_INDEX),
        (RETYPED, Verdict.NEW_INDEX, Verdict.NEW_INDEX),
        (ANALYZER, Verdict.NEW_INDEX, Verdict.NEW_INDEX),
        (SETTINGS, Verdict.NEW_INDEX, Verdict.NEW_INDEX),
        (BASE, Verdict.UP_TO_DATE, Verdict.UP_TO_DATE),
    ],
    ids=["added", "removed", "retyped", "analyzer", "settings", "same"],
)
def test_only_additions_fit_in_place_and_only_where_the_backend_adds_fields(
    wanted: IndexDefinition, opensearch: Verdict, embedded: Verdict
) -> None:
    change = compare(BASE, wanted)
    found = {
        name: judge(change, 3, 3, (), backend=name, adds_fields_in_place=adds)
        for name, adds in (("opensearch", True), ("embedded", False))
    }
    assert (found["opensearch"][0], found["embedded"][0]) == (opensearch, embedded)
    if embedded is Verdict.NEW_INDEX:
        assert found["embedded"][1]  # says why


def test_the_projection_version_decides_when_the_fields_do_not() -> None:
    rerender = (Revision(3, "a field computed otherwise"),)
    refold = (Revision(3, "a field from state not kept before", refold=True),)
    same = compare(BASE, BASE)
    verdict, reasons = judge(same, 2, 3, rerender, backend="embedded", adds_fields_in_place=False)
    assert verdict is Verdict.IN_PLACE and "re-rendered at 3" in reasons[0]
    assert judge(same, 2, 3, refold, backend="opensearch", adds_fields_in_place=True)[0] is (
        Verdict.NEW_INDEX
    )
    newer, reasons = judge(same, 4, 3, (), backend="opensearch", adds_fields_in_place=True)
    assert newer is Verdict.NEW_INDEX and "newer than the code's 3" in reasons[0]


def echoed(body: dict[str, Any]) -> dict[str, Any]:
    """The body as a cluster reports it back: settings as text under ``index``, objects
    without ``"type": "object"``, default parameters left out."""

    def strip(properties: dict[str, Any]) -> None:
        for node in properties.values():
            if node.get("type") == "object":
                del node["type"]
            if node.get("format") == "strict_date_optional_time||epoch_millis":
                del node["format"]
            strip(node.get("properties", {}))
            strip(node.get("fields", {}))

    mappings = copy.deepcopy(body["mappings"])
    strip(mappings["properties"])
    settings = body["settings"]
    index = {
        "max_result_window": str(settings["index"]["max_result_window"]),
        "analysis": settings["analysis"],
        "number_of_shards": "1",
        "uuid": "zNrjcHhEQUe",
        "creation_date": "1710000000000",
    }
    return {"mappings": mappings, "settings": {"index": index}}


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_an_opensearch_index_echoed_back_has_the_fingerprint_it_was_created_with(
    kind: DocumentKind,
) -> None:
    body = index_body(kind)
    assert definition_of(echoed(body)).fingerprint == definition_of(body).fingerprint
    fields = definition_of(body).fields
    assert fields["name" if kind is USERS else "owner.name"].options["analyzer"] == "words"
    assert "name.keyword" in fields or "owner.name.keyword" in fields


def test_additions_add_new_fields_with_just_enough_of_their_parents() -> None:
    wanted = copy.deepcopy(index_body(USERS)["mappings"]["properties"])
    wanted["reach"] = {"type": "integer"}
    wanted["name"]["fields"]["raw"] = {"type": "keyword"}
    wanted["analytics"]["properties"]["bounces"] = {"type": "long"}
    live_properties = index_body(USERS)["mappings"]["properties"]
    live = definition_of({"mappings": {"properties": live_properties}})
    change = compare(live, definition_of({"mappings": {"properties": wanted}}))

    update = additions(wanted, change)

    assert update["reach"] == {"type": "integer"}
    assert update["name"] == {"type": "text", "analyzer": "words",
                              "fields": {"raw": {"type": "keyword"}}}  # fmt: skip
    assert update["analytics"]["properties"] == {"bounces": {"type": "long"}}
    assert update["analytics"]["dynamic"] == "strict"


def test_additions_leave_out_new_fields_under_a_parent_that_changes() -> None:
    live_properties = {"owner": {"type": "keyword"}}
    wanted = {"owner": {"properties": {"plan": {"type": "keyword"}}}, "score": {"type": "long"}}
    live = definition_of({"mappings": {"properties": live_properties}})
    change = compare(live, definition_of({"mappings": {"properties": wanted}}))
    assert [c.path for c in change.retyped] == ["owner"]
    assert additions(wanted, change) == {"score": {"type": "long"}}


def test_embedded_definitions_come_from_the_tantivy_schema() -> None:
    wanted = wanted_definition(USERS)
    assert wanted.fields["name"].options["indexing.tokenizer"] == "whitespace"
    assert wanted.fields["likes_given"].type == "i64"
    stemmed = definition_of_fields(
        [{"name": "name", "type": "text",
          "options": {"indexing": {"record": "position", "fieldnorms": True,
                                   "tokenizer": "en_stem"}, "stored": False, "fast": False}}]
    )  # fmt: skip
    (change,) = compare(stemmed, IndexDefinition({"name": wanted.fields["name"]})).reconfigured
    assert change.describe() == "name: indexing.tokenizer en_stem -> whitespace"


def test_each_kind_declares_its_revisions_in_order() -> None:
    for kind, revisions in REVISIONS.items():
        assert [r.version for r in revisions] == list(range(1, len(revisions) + 1))
        assert projection_version(kind) == len(revisions)
        assert revisions_after(kind, projection_version(kind)) == ()


def test_the_rendered_documents_have_exactly_the_fields_their_version_declares() -> None:
    # Changing what a document holds without declaring a revision fails here.
    user = UserRow("u-1", "a@b.example", "Ada", "pro", "GB", "2024-01-01T00:00:00Z",
                   True, None, None)  # fmt: skip
    image = ImageRow("i-1", "u-1", "Sunset", None, None, "https://x.example/1.jpg",
                     "2024-01-02T00:00:00Z", "active", 100)  # fmt: skip
    user_document = render_user_document(user, UserStats())
    image_document = render_image_document(image, 0, user)
    assert user_document is not None and image_document is not None
    assert set(user_document) == document_fields(USERS)
    assert set(image_document) == document_fields(IMAGES)
