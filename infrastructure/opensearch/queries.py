"""The CRM's `SearchRequest` as OpenSearch query bodies.

Without search text every live document matches, in id order, without a score. With text,
a ``multi_match`` over the kind's text fields (names and titles weigh most) tolerates typos
like the embedded backend (``fuzziness: AUTO``), ranks by relevance (ties by id), and
returns ``<em>``-tagged highlights per field. Tombstones are filtered out of every query.

>>> body = page_body(kind_mapping(DocumentKind.USERS), SearchRequest(text="ada", size=5))
>>> body["query"]["bool"]["filter"]
[{'bool': {'must_not': [{'term': {'tombstone': True}}]}}]
>>> body["size"], body["from"]
(5, 0)
"""

from __future__ import annotations

from typing import Any

from infrastructure.opensearch.mappings import KindMapping, live_documents
from projections.query import SearchRequest

PRE_TAG, POST_TAG = "<em>", "</em>"
# A match in a second field adds a little to the best field's score.
TIE_BREAKER = 0.3


def is_ranked(text: str) -> bool:
    """Whether the request is a full-text search (ranked) rather than a listing by id."""
    return bool(text.strip())


def match(mapping: KindMapping, text: str) -> dict[str, Any]:
    """The live documents matching the text (every live document for blank text)."""
    if not is_ranked(text):
        matching: dict[str, Any] = {"match_all": {}}
    else:
        matching = {
            "multi_match": {
                "query": text,
                "fields": [field.weighted for field in mapping.searched],
                "type": "best_fields",
                "tie_breaker": TIE_BREAKER,
                "fuzziness": "AUTO",
            }
        }
    return {"bool": {"must": [matching], "filter": [live_documents()]}}


def order(mapping: KindMapping, text: str) -> list[dict[str, Any]]:
    """Relevance then id for a search, id alone for a listing: a total, repeatable order."""
    by_id = {mapping.id_field: {"order": "asc"}}
    return [{"_score": {"order": "desc"}}, by_id] if is_ranked(text) else [by_id]


def highlight(mapping: KindMapping) -> dict[str, Any]:
    return {
        "pre_tags": [PRE_TAG],
        "post_tags": [POST_TAG],
        "encoder": "html",
        "require_field_match": True,
        "fields": {field.indexed: {} for field in mapping.searched},
    }


def page_body(mapping: KindMapping, request: SearchRequest) -> dict[str, Any]:
    """One page of hits with the exact total."""
    body: dict[str, Any] = {
        "query": match(mapping, request.text),
        "sort": order(mapping, request.text),
        "from": request.offset,
        "size": request.size,
        "track_total_hits": True,
    }
    if is_ranked(request.text):
        body["highlight"] = highlight(mapping)
    return body


def export_body(
    mapping: KindMapping, text: str, chunk: int, after: list[Any] | None
) -> dict[str, Any]:
    """The next chunk of an export, in id order, following the previous chunk's last id.

    Chunks follow each other by id alone, a unique key that never changes between chunks;
    for a search the scores are still computed (``track_scores``) and the caller orders
    the complete result by relevance.
    """
    body: dict[str, Any] = {
        "query": match(mapping, text),
        "sort": [{mapping.id_field: {"order": "asc"}}],
        "track_scores": is_ranked(text),
        "size": chunk,
        "track_total_hits": False,
    }
    if after is not None:
        body["search_after"] = after
    return body


def count_body(mapping: KindMapping, text: str) -> dict[str, Any]:
    return {"query": match(mapping, text)}
