"""Document changes to tantivy's JSON documents, and stored documents back to the port's types.

A change with a body becomes a live document: the bookkeeping fields, the body as JSON,
every indexed body value and the paths that have one. A delete becomes a tombstone: id,
version and ``deleted`` only, so that the version guard still sees it. Documents are
handed to tantivy as one JSON line each, which costs a fraction of building them field by
field from Python.

>>> change = DocumentChange(DocumentKind.USERS, "u-1", 7, {"user_id": "u-1", "name": "Ada"})
>>> orjson.loads(encode(change))["present"]
['name', 'user_id']
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

import orjson
import tantivy

from infrastructure.adapters.embedded.schema import (
    ABSENT,
    BODY,
    DELETED,
    ID,
    ID_ORDER,
    ORDER_PART_BYTES,
    ORDER_PARTS,
    PRESENT,
    VERSION,
    FieldRole,
    IndexedField,
    kind_schema,
)
from projections.documents import MAX_DOCUMENT_ID_BYTES, DocumentChange, DocumentKind
from projections.ports import IndexedDocument
from projections.query.analysis import index_text

_U64 = range(2**64)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_I64 = range(-(2**63), 2**63)
_ORDERED_BYTES = ORDER_PARTS * ORDER_PART_BYTES
_ORDER_LAYOUT = struct.Struct(f">{ORDER_PARTS}Q")


class UnindexableDocument(ValueError):
    """The change can never be indexed as it is (a permanent failure, not an outage)."""


def encode(change: DocumentChange) -> str:
    """The change as a tantivy JSON document; raises `UnindexableDocument` when impossible."""
    if change.version not in _U64:
        raise UnindexableDocument(f"version {change.version} is outside 0..2^64-1")
    if not change.doc_id or len(change.doc_id.encode()) > MAX_DOCUMENT_ID_BYTES:
        raise UnindexableDocument(f"document id must have 1 to {MAX_DOCUMENT_ID_BYTES} bytes")
    document: dict[str, Any] = {
        ID: change.doc_id,
        VERSION: change.version,
        DELETED: change.body is None,
        **dict(zip(ID_ORDER, order_parts(change.doc_id), strict=True)),
    }
    body = change.body
    if body is not None:
        try:
            document[BODY] = base64.b64encode(orjson.dumps(body)).decode("ascii")
        except orjson.JSONEncodeError as error:
            raise UnindexableDocument(f"body is not JSON-serializable: {error}") from None
        present, absent = [], []
        for source in _plan(change.kind):
            value = body.get(source.keys[0])
            for key in source.keys[1:]:
                value = value.get(key) if isinstance(value, dict) else None
            if value is None or value == []:
                absent.append(source.path)
            else:
                present.append(source.path)
                source.fill(document, value)
        document[PRESENT] = present
        document[ABSENT] = absent
    return orjson.dumps(document).decode()


@lru_cache(maxsize=1 << 12)
def order_parts(value: str) -> tuple[int, ...]:
    """The first 32 UTF-8 bytes as four big-endian integers (zero-padded): byte order kept.

    Cached: the same names, plans, countries and ids come back in document after document.
    4,096 entries (about 1.5 MB) hold those; 65,536 filled up with the unique ids of a large
    rebuild and kept some 20 MB for nothing.
    """
    return _ORDER_LAYOUT.unpack(value.encode()[:_ORDERED_BYTES].ljust(_ORDERED_BYTES, b"\0"))


def instant_millis(value: Any) -> int | None:
    """An ISO-8601 timestamp as epoch milliseconds (naive means UTC), or None if it is not one."""
    if not isinstance(value, str):
        return None
    return _millis(value)


@lru_cache(maxsize=1 << 14)
def _millis(value: str) -> int | None:
    try:
        moment = datetime.fromisoformat(value)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        since = moment - _EPOCH
    except (ValueError, OverflowError):
        return None
    return since.days * 86_400_000 + since.seconds * 1000 + since.microseconds // 1000


def indexed_value(field: IndexedField, body: dict[str, Any]) -> Any:
    """The value the index holds for the field of this body (None when it holds none)."""
    return _converter(field)(field.value_in(body))


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


Filler = Callable[[dict[str, Any], Any], None]


@dataclass(frozen=True, slots=True)
class _Source:
    """One allowlisted body value and how it fills the tantivy fields derived from it."""

    path: str
    keys: tuple[str, ...]
    fill: Filler  # writes the fields of a present value into the tantivy document


@cache
def _plan(kind: DocumentKind) -> tuple[_Source, ...]:
    schema = kind_schema(kind)
    plan = []
    for queryable in schema.queryable:
        fields = [f for f in schema.fields if f.source == queryable.path]
        roles = tuple((f.name, f.role) for f in fields if f.role in _CONVERTERS)
        order = tuple(f.name for f in fields if f.role is FieldRole.ORDER)
        keys = tuple(queryable.path.split("."))
        plan.append(_Source(queryable.path, keys, _filler(roles, order)))
    return tuple(plan)


def _filler(roles: tuple[tuple[str, FieldRole], ...], order: tuple[str, ...]) -> Filler:
    """The fields of one body value, with a fast path per plain scalar type.

    Values of the plain types take the path that their converters would take anyway;
    anything else (lists, subclasses, odd types) goes through the converters one by one.
    """
    writers = tuple((name, _CONVERTERS[role]) for name, role in roles)
    as_text = tuple(name for name, role in roles if role is FieldRole.TEXT)
    as_keyword = tuple(name for name, role in roles if role is FieldRole.KEYWORD)
    as_date = tuple(name for name, role in roles if role is FieldRole.DATE)
    as_integer = tuple(name for name, role in roles if role is FieldRole.INTEGER)
    as_boolean = tuple(name for name, role in roles if role is FieldRole.BOOLEAN)

    def fill(document: dict[str, Any], value: Any) -> None:
        kind = type(value)
        if kind is str:
            for name in as_keyword:
                document[name] = value
            if as_text:
                analyzed = index_text(value)
                for name in as_text:
                    document[name] = analyzed
            for name in as_date:
                millis = _millis(value)
                if millis is not None:
                    document[name] = millis
            if order:
                document.update(zip(order, order_parts(value), strict=True))
        elif kind is int:
            if as_integer and value in _I64:
                for name in as_integer:
                    document[name] = value
        elif kind is bool:
            for name in as_boolean:
                document[name] = value
        else:
            for name, convert in writers:
                converted = convert(value)
                if converted is not None:
                    document[name] = converted
            if order and isinstance(value, str):
                document.update(zip(order, order_parts(value), strict=True))

    return fill


def _converter(field: IndexedField) -> Converter:
    if field.role is FieldRole.ORDER:
        part = field.part
        return lambda value: order_parts(value)[part] if isinstance(value, str) else None
    return _CONVERTERS[field.role]


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


def _analyzed(value: Any) -> str | None:
    return index_text(value) if isinstance(value, str) else None


def _integer(value: Any) -> int | None:
    return value if type(value) is int and value in _I64 else None


def _boolean(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


_CONVERTERS: dict[FieldRole, Converter] = {
    FieldRole.TEXT: _many(_analyzed),
    FieldRole.KEYWORD: _many(_text),
    FieldRole.INTEGER: _many(_integer),
    FieldRole.BOOLEAN: _many(_boolean),
    FieldRole.DATE: _many(instant_millis),
}
