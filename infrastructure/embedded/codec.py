"""Document changes to tantivy's JSON documents, and stored documents back to the port's types.

A change with a body becomes a live document: the bookkeeping fields, the body as JSON and
every indexed body value. A delete becomes a tombstone: id, version and ``deleted`` only, so
that the version guard still sees it. Documents are handed to tantivy as one JSON line
each, which costs a fraction of building them field by field from Python.

>>> change = DocumentChange(DocumentKind.USERS, "u-1", 7, {"user_id": "u-1", "name": "Ada"})
>>> encode(change)
'{"id":"u-1","version":7,"deleted":false,"body":"eyJ1c2VyX2lkIjoidS0xIiwibmFtZSI6IkFkYSJ9","name":"Ada"}'
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

import orjson
import tantivy

from infrastructure.embedded.schema import (
    BODY,
    DELETED,
    ID,
    VERSION,
    FieldRole,
    IndexedField,
    kind_schema,
)
from projections.documents import DocumentChange, DocumentKind
from projections.ports import IndexedDocument

_U64 = range(2**64)
_I64 = range(-(2**63), 2**63)


class UnindexableDocument(ValueError):
    """The change can never be indexed as it is (a permanent failure, not an outage)."""


def encode(change: DocumentChange) -> str:
    """The change as a tantivy JSON document; raises `UnindexableDocument` when impossible."""
    if change.version not in _U64:
        raise UnindexableDocument(f"version {change.version} is outside 0..2^64-1")
    document: dict[str, Any] = {
        ID: change.doc_id,
        VERSION: change.version,
        DELETED: change.body is None,
    }
    body = change.body
    if body is not None:
        try:
            document[BODY] = base64.b64encode(orjson.dumps(body)).decode("ascii")
        except orjson.JSONEncodeError as error:
            raise UnindexableDocument(f"body is not JSON-serializable: {error}") from None
        for name, field, convert in _plan(change.kind):
            value = convert(field.value_in(body))
            if value is not None:
                document[name] = value
    return orjson.dumps(document).decode()


def decode(kind: DocumentKind, document: tantivy.Document) -> IndexedDocument:
    """The port's view of a stored document (``body`` None for a tombstone)."""
    return IndexedDocument(
        kind=kind,
        doc_id=stored_id(document),
        version=stored_version(document),
        body=None if document.get_first(DELETED) else stored_body(document),
    )


def stored_id(document: tantivy.Document) -> str:
    return str(document.get_first(ID))


def stored_version(document: tantivy.Document) -> int:
    return int(document.get_first(VERSION) or 0)


def stored_body(document: tantivy.Document) -> dict[str, Any]:
    """The body of a stored live document."""
    raw = document.get_first(BODY)
    if not isinstance(raw, bytes):
        raise ValueError(f"document {stored_id(document)!r} has no stored body")
    body: dict[str, Any] = orjson.loads(raw)
    return body


Converter = Callable[[Any], Any]


@cache
def _plan(kind: DocumentKind) -> tuple[tuple[str, IndexedField, Converter], ...]:
    return tuple((field.name, field, _CONVERTERS[field.role]) for field in kind_schema(kind).fields)


# Each converter returns what tantivy accepts for its field type, or None to leave the value
# out. Values of an unexpected type are left out, not rejected: the body is stored whole
# either way, and one odd attribute must not hide a document.


def _many(keep: Callable[[Any], Any]) -> Converter:
    def convert(value: Any) -> Any:
        if isinstance(value, list):
            kept = [item for item in map(keep, value) if item is not None]
            return kept or None
        return keep(value)

    return convert


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _integer(value: Any) -> int | None:
    return value if type(value) is int and value in _I64 else None


def _boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _instant(value: Any) -> str | None:
    """An ISO-8601 timestamp as RFC 3339 in UTC (naive means UTC), or None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment.isoformat()


_CONVERTERS: dict[FieldRole, Converter] = {
    FieldRole.TEXT: _many(_text),
    FieldRole.KEYWORD: _many(_text),
    FieldRole.INTEGER: _many(_integer),
    FieldRole.BOOLEAN: _many(_boolean),
    FieldRole.DATE: _many(_instant),
}
