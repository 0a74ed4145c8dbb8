"""The tantivy documents of the embedded backend hold each field as its converter makes it."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrastructure.adapters.embedded.codec import (
    UnindexableDocument,
    encode,
    indexed_value,
    order_parts,
)
from infrastructure.adapters.embedded.schema import ID_ORDER, kind_schema
from projections.documents import DocumentChange, DocumentKind


class Label(str):
    """A string of a subclass: indexed through the converters, not the plain-string path."""


_SCALARS = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.sampled_from(["Café Fuß", "東京の夜景", "서울의", "2024-05-01T10:00:00Z", "2024-05-01", ""]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.floats(allow_nan=False),
    st.builds(Label, st.text(max_size=10)),
)
_STRINGS = st.one_of(
    st.text(max_size=20), st.sampled_from(["2024-05-01T10:00:00Z", "Zoë", "東京", "", "-"])
)
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=4),
    st.lists(_STRINGS, min_size=1, max_size=4),
    st.dictionaries(st.sampled_from(["name", "x"]), _SCALARS, max_size=2),
)


def expected_document(change: DocumentChange) -> dict[str, Any]:
    """The document built field by field from the schema and each field's converter."""
    assert change.body is not None
    schema = kind_schema(change.kind)
    expected: dict[str, Any] = {
        "id": change.doc_id,
        "version": change.version,
        "deleted": False,
        **dict(zip(ID_ORDER, order_parts(change.doc_id), strict=True)),
        "body": base64.b64encode(orjson.dumps(change.body)).decode("ascii"),
    }
    present: list[str] = []
    absent: list[str] = []
    for queryable in schema.queryable:
        value: Any = change.body
        for key in queryable.path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        (absent if value is None or value == [] else present).append(queryable.path)
        for field in schema.fields:
            if field.source == queryable.path:
                converted = indexed_value(field, change.body)
                if converted is not None:
                    expected[field.name] = converted
    return expected | {"present": present, "absent": absent}


@st.composite
def bodies(draw: st.DrawFn, kind: DocumentKind) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for queryable in kind_schema(kind).queryable:
        *parents, last = queryable.path.split(".")
        target = body
        for parent in parents:
            if not isinstance(target.get(parent), dict):
                # Now and then the parent is no object at all: its children are absent.
                target[parent] = draw(st.one_of(st.just({}), _SCALARS))
            target = target[parent] if isinstance(target[parent], dict) else {}
        if last not in target or draw(st.booleans()):
            target[last] = draw(_VALUES)
    return body


@pytest.mark.parametrize("kind", list(DocumentKind))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_indexed_field_is_what_its_converter_makes(
    kind: DocumentKind, data: st.DataObject
) -> None:
    change = DocumentChange(kind, "doc-1", 7, data.draw(bodies(kind)))
    try:
        encoded = encode(change)
    except UnindexableDocument:
        with pytest.raises(orjson.JSONEncodeError):
            orjson.dumps(change.body)
        return
    assert orjson.loads(encoded) == expected_document(change)


def test_a_typical_user_keeps_its_fields_in_the_documents_order() -> None:
    body = {
        "user_id": "u-1",
        "name": "Zoë Ærø",
        "email": "zoe@example.com",
        "tags": ["vip", "beta"],
        "created_at": "2024-01-22T06:25:33Z",
        "marketing_opt_in": True,
        "image_count": 3,
        "analytics": {"sessions": 4, "first_source": "search"},
    }
    document = orjson.loads(encode(DocumentChange(DocumentKind.USERS, "u-1", 3, body)))
    assert document == expected_document(DocumentChange(DocumentKind.USERS, "u-1", 3, body))
    assert document["name"] == "zoe aero"
    assert document["name_keyword"] == "Zoë Ærø"
    assert document["tags"] == ["vip", "beta"]
    assert document["created_at"] == 1705904733000
    assert document["analytics_sessions"] == 4
    assert "bio" in document["absent"]
    assert document["present"][:3] == ["name", "email", "tags"]


def test_a_tombstone_holds_the_bookkeeping_fields_only() -> None:
    document = orjson.loads(encode(DocumentChange(DocumentKind.IMAGES, "i-1", 9, None)))
    assert document == {"id": "i-1", "version": 9, "deleted": True} | dict(
        zip(ID_ORDER, order_parts("i-1"), strict=True)
    )


@pytest.mark.parametrize(
    ("doc_id", "version", "problem"),
    [
        ("", 1, "document id must have 1 to"),
        ("x" * 600, 1, "document id must have 1 to"),
        ("u-1", -1, "version -1 is outside 0..2^64-1"),
        ("u-1", 2**64, "is outside 0..2^64-1"),
    ],
)
def test_ids_and_versions_the_index_cannot_hold_are_refused(
    doc_id: str, version: int, problem: str
) -> None:
    with pytest.raises(UnindexableDocument, match=problem.replace("^", r"\^")):
        encode(DocumentChange(DocumentKind.USERS, doc_id, version, {"name": "Ada"}))
