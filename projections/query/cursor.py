"""``search_after`` cursors: where the previous page ended, bound to the query it came from.

A cursor is opaque to callers. It carries a digest of the query (text, fields, options,
filter and sort) and the sort values of the last hit, in whatever form the backend that
produced it needs; a cursor used with another query is refused rather than silently
giving a wrong page.

>>> token = encode_cursor(request, ["2024-05-01T10:00:00Z", "i-42"])
>>> decode_cursor(request, token)
['2024-05-01T10:00:00Z', 'i-42']
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import TYPE_CHECKING, Any

import orjson

from projections.query.errors import QueryError

if TYPE_CHECKING:
    from projections.query.request import SearchRequest

SortValue = str | int | float | bool | None
_FIELD = "search_after"


def query_digest(request: SearchRequest) -> str:
    """A short digest of everything that decides which documents match and in which order."""
    decisive = request.model_dump(
        mode="json",
        include={"text", "fields", "boosts", "fuzzy", "prefix", "filter", "sort"},
    )
    encoded = orjson.dumps(decisive, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(encoded, digest_size=8).hexdigest()


def encode_cursor(request: SearchRequest, after: list[SortValue]) -> str:
    """The cursor that continues the request after a hit with these sort values."""
    payload = orjson.dumps({"q": query_digest(request), "a": after})
    return base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def decode_cursor(request: SearchRequest, token: str) -> list[SortValue]:
    """The sort values in the cursor; a `QueryError` if it is damaged or another query's."""
    try:
        payload: Any = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise QueryError.single(_FIELD, "not a cursor returned as next_cursor") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), list):
        raise QueryError.single(_FIELD, "not a cursor returned as next_cursor")
    if payload.get("q") != query_digest(request):
        raise QueryError.single(
            _FIELD,
            "the cursor belongs to another query (its text, filter or sort differ); "
            "start again without search_after",
        )
    after: list[SortValue] = payload["a"]
    return after


def relevance_cursor(
    request: SearchRequest, score: float | None, doc_id: str, position: int
) -> str:
    """The cursor after a relevance-ordered page: the position reached, with the last hit.

    Pages by relevance continue by position (like ``offset``): scores are not exact enough
    across a round trip to search after them.
    """
    return encode_cursor(request, [score, doc_id, position])


def relevance_position(request: SearchRequest, token: str) -> int:
    """The position a relevance cursor continues from."""
    values = decode_cursor(request, token)
    position = values[-1] if len(values) == 3 else None
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise QueryError.single(_FIELD, "the cursor does not fit this sort")
    return position
