"""Ranges over strings in byte order, which tantivy's range queries do not offer.

A keyword (or id) is also indexed as four unsigned integers holding its first 32 UTF-8
bytes, big-endian (see `schema`). A string comes after another when, for some part, the
parts before it are equal and that part is greater; strings that share their first 32
bytes are told apart by a regular expression on the whole keyword, anchored on that
prefix so that it only walks the few terms that share it.

>>> later = strings_beyond(images, "title_keyword", title_parts, "Mountain lake", False)
"""

from __future__ import annotations

import tantivy

from infrastructure.adapters.embedded.codec import order_parts
from infrastructure.adapters.embedded.schema import ORDER_PART_BYTES, ORDER_PARTS, KindSchema

_UNICODE_MAX = 0x10FFFF
_ANY = r"[\x{0}-\x{10FFFF}]"
_SURROGATES = range(0xD800, 0xE000)
_ORDERED_BYTES = ORDER_PARTS * ORDER_PART_BYTES


def strings_beyond(
    schema: KindSchema,
    field: str,
    order_fields: tuple[str, ...],
    value: str,
    descending: bool,
) -> tantivy.Query:
    """Documents whose string in ``field`` comes after ``value`` in byte order (or before)."""
    # x > v in byte order: for some part i, x's parts before i equal v's and part i is
    # greater (smaller, descending). Parts past v's last byte are zero padding, and no
    # string holds a zero byte, so only a longer string can differ there, by being above.
    parts = order_parts(value)
    length = len(value.encode())
    used = min(ORDER_PARTS, -(-length // ORDER_PART_BYTES) or 1)
    if not descending and length % ORDER_PART_BYTES == 0 and used < ORDER_PARTS:
        used += 1
    branches = []
    for part in range(used):
        same = [_part(schema, order_fields[j], parts[j], parts[j]) for j in range(part)]
        if descending:
            if parts[part] == 0:
                continue
            beyond = _part(schema, order_fields[part], None, parts[part] - 1)
        else:
            if parts[part] == 2**64 - 1:
                continue
            beyond = _part(schema, order_fields[part], parts[part] + 1, None)
        branches.append(_both(*same, beyond) if same else beyond)
    pattern = _beyond_pattern(value, descending) if length >= _ORDERED_BYTES else ""
    if pattern:
        same = [_part(schema, name, p, p) for name, p in zip(order_fields, parts, strict=True)]
        tail = tantivy.Query.regex_query(schema.tantivy_schema, field, pattern)
        branches.append(_both(*same, tail))
    return _either(*branches) if branches else tantivy.Query.empty_query()


def _part(schema: KindSchema, name: str, low: int | None, high: int | None) -> tantivy.Query:
    return tantivy.Query.range_query(
        schema.tantivy_schema, name, tantivy.FieldType.Unsigned, lower_bound=low, upper_bound=high
    )


def _beyond_pattern(value: str, descending: bool) -> str:
    """A regular expression for the strings after ``value`` that share its first 32 bytes."""
    shared = 0
    while len(value[: shared + 1].encode()) <= _ORDERED_BYTES and shared < len(value):
        shared += 1
    alternatives = []
    for i in range(shared, len(value)):
        head, code = _literal(value[:i]), ord(value[i])
        if descending:
            alternatives.append(head)  # a shorter string sharing the beginning comes first
            if code > 0:
                alternatives.append(head + _class(0, code - 1) + _ANY + "*")
        elif code < _UNICODE_MAX:
            alternatives.append(head + _class(code + 1, _UNICODE_MAX) + _ANY + "*")
    if not descending:
        alternatives.append(_literal(value) + _ANY + "+")
    return "|".join(f"({alternative})" for alternative in alternatives)


def _literal(text: str) -> str:
    return "".join(f"\\x{{{ord(char):X}}}" for char in text)


def _class(low: int, high: int) -> str:
    # Surrogates are not characters; a class may not name them.
    low = _SURROGATES.stop if low in _SURROGATES else low
    high = _SURROGATES.start - 1 if high in _SURROGATES else high
    return f"[\\x{{{low:X}}}-\\x{{{high:X}}}]"


def _both(*queries: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query) for query in queries])


def _either(*queries: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, query) for query in queries])
