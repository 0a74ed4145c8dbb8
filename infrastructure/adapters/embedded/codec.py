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

import struct
from binascii import b2a_base64
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
    version, doc_id, body = change.version, change.doc_id, change.body
    if version not in _U64:
        raise UnindexableDocument(f"version {version} is outside 0..2^64-1")
    if not doc_id or len(doc_id.encode()) > MAX_DOCUMENT_ID_BYTES:
        raise UnindexableDocument(f"document id must have 1 to {MAX_DOCUMENT_ID_BYTES} bytes")
    document: dict[str, Any] = {ID: doc_id, VERSION: version, DELETED: body is None}
    document.update(zip(ID_ORDER, order_parts(doc_id), strict=True))
    if body is not None:
        try:
            document[BODY] = b2a_base64(orjson.dumps(body), newline=False).decode("ascii")
        except orjson.JSONEncodeError as error:
            raise UnindexableDocument(f"body is not JSON-serializable: {error}") from None
        _body_filler(change.kind)(document, body)
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
    """One allowlisted body value and the tantivy fields derived from it, by role."""

    path: str
    keys: tuple[str, ...]
    roles: tuple[tuple[str, FieldRole], ...]  # the fields that take a converted value
    order: tuple[str, ...]  # the byte-order fields of a string value

    def names(self, role: FieldRole) -> tuple[str, ...]:
        return tuple(name for name, each in self.roles if each is role)


@cache
def _plan(kind: DocumentKind) -> tuple[_Source, ...]:
    schema = kind_schema(kind)
    plan = []
    for queryable in schema.queryable:
        fields = [f for f in schema.fields if f.source == queryable.path]
        roles = tuple((f.name, f.role) for f in fields if f.role in _CONVERTERS)
        order = tuple(f.name for f in fields if f.role is FieldRole.ORDER)
        keys = tuple(queryable.path.split("."))
        plan.append(_Source(queryable.path, keys, roles, order))
    return tuple(plan)


BodyFiller = Callable[[dict[str, Any], dict[str, Any]], None]


@cache
def _body_filler(kind: DocumentKind) -> BodyFiller:
    """The function that adds the indexed fields and ``present``/``absent`` of a kind's body.

    Every document of a kind goes through the same dozens of allowlisted values, so this
    is a function written for the kind (see `_body_filler_source`): one statement per
    value and field, where a loop over the plan would interpret it again for every value
    of every document. Strings, integers and booleans are handled inline, exactly as
    their converters would; any other value (a list, a float, a subclass) goes through
    the converters one by one.
    """
    plan = _plan(kind)
    namespace: dict[str, Any] = {
        "index_text": index_text,
        "order_parts": order_parts,
        "_millis": _millis,
        "_I64": _I64,
        **{f"convert_{number}": _converted(source) for number, source in enumerate(plan)},
    }
    exec(_body_filler_source(plan), namespace)  # noqa: S102 - source built from the schema
    filler: BodyFiller = namespace["fill_body"]
    return filler


def _body_filler_source(plan: tuple[_Source, ...]) -> str:
    """Python source of ``fill_body(document, body)`` for the plan (names and paths as repr)."""
    lines = [
        "def fill_body(document, body):",
        "    present = []",
        "    absent = []",
    ]
    for number, source in enumerate(plan):
        path = repr(source.path)
        lines.append(f"    value = body.get({source.keys[0]!r})")
        lines += [
            f"    value = value.get({key!r}) if isinstance(value, dict) else None"
            for key in source.keys[1:]
        ]
        lines += [
            "    if value is None:",
            f"        absent.append({path})",
            "    elif type(value) is str:",
            f"        present.append({path})",
            *(f"        {line}" for line in _string_statements(source)),
            "    elif type(value) is int:",
            f"        present.append({path})",
            *(f"        {line}" for line in _integer_statements(source)),
            "    elif type(value) is bool:",
            f"        present.append({path})",
            *(f"        document[{name!r}] = value" for name in source.names(FieldRole.BOOLEAN)),
            "    elif value == []:",
            f"        absent.append({path})",
            "    else:",
            f"        present.append({path})",
            f"        convert_{number}(document, value)",
        ]
    lines += [f"    document[{PRESENT!r}] = present", f"    document[{ABSENT!r}] = absent", ""]
    return "\n".join(lines)


def _string_statements(source: _Source) -> list[str]:
    # In the order of the converters: the keyword as it is, the analyzed text, the date,
    # then the byte-order parts.
    statements = [f"document[{name!r}] = value" for name in source.names(FieldRole.KEYWORD)]
    if as_text := source.names(FieldRole.TEXT):
        statements.append("analyzed = index_text(value)")
        statements += [f"document[{name!r}] = analyzed" for name in as_text]
    if as_date := source.names(FieldRole.DATE):
        statements += ["millis = _millis(value)", "if millis is not None:"]
        statements += [f"    document[{name!r}] = millis" for name in as_date]
    if source.order:
        targets = ", ".join(f"document[{name!r}]" for name in source.order)
        if len(source.order) == ORDER_PARTS:
            statements.append(f"{targets} = order_parts(value)")
        else:
            statements.append(
                f"document.update(zip({source.order!r}, order_parts(value), strict=True))"
            )
    return statements


def _integer_statements(source: _Source) -> list[str]:
    if not (as_integer := source.names(FieldRole.INTEGER)):
        return []
    return ["if value in _I64:", *(f"    document[{name!r}] = value" for name in as_integer)]


def _converted(source: _Source) -> Filler:
    """The fields of a value of any type, through the converters of its fields one by one."""
    writers = tuple((name, _CONVERTERS[role]) for name, role in source.roles)
    order = source.order

    def fill(document: dict[str, Any], value: Any) -> None:
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
