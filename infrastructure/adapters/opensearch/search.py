"""Answering the CRM's requests from a kind's alias: pages, exports and counts.

A page is one search with the exact total, its highlights and facets, after ``offset``
hits or after the sort values a ``search_after`` cursor carries (the last hit's ``sort``).
Pages by relevance continue by position instead, within ``max_result_window``: a score
does not survive the round trip through JSON exactly enough to search after it.
An export (``every_document``) never asks for a huge page: it reads chunks in the
request's order (by id for relevance, ordered here), each after the previous chunk's last
hit (``search_after``), inside a point in time when the cluster offers one so that every
chunk sees the same snapshot. Without a point in time (Elasticsearch, or a cluster that
refuses it) the chunks read the live index.

With text, a page, count or export first requires every word; when nothing has them all
it is asked again with the looser rule (`projections.query.matching`), and the page says
which rule answered.

Every request goes through ``run``, which retries transient failures within the index's
time budget.

>>> read_page(client, "crm-users", kind_mapping(USERS), SearchRequest(text="ada"), run).total
1
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from opensearchpy import OpenSearch, TransportError

from infrastructure.adapters.opensearch.errors import describe_error
from infrastructure.adapters.opensearch.facets import facet_results
from infrastructure.adapters.opensearch.mappings import MAX_RESULT_WINDOW, KindMapping
from infrastructure.adapters.opensearch.queries import (
    count_body,
    export_body,
    page_body,
    searched_fields,
)
from projections.ports import SearchUnavailable
from projections.query import (
    QueryError,
    SearchHit,
    SearchPage,
    SearchRequest,
    SortValue,
    WordRule,
    answer,
    decode_cursor,
    encode_cursor,
    relevance_cursor,
    relevance_position,
)
from projections.query.highlighting import HighlightedField, Tags, TermMarker, highlight
from projections.query.text import query_terms

log = logging.getLogger(__name__)

T = TypeVar("T")
Response = dict[str, Any]

EXPORT_CHUNK = 1_000
PIT_KEEP_ALIVE = "2m"  # between two chunks, not for the whole export
# How a cluster without point-in-time search answers the request to open one.
_NO_PIT_STATUSES = (400, 404, 405)


class Run(Protocol):
    """Runs one request (given its timeout), retrying transient failures."""

    def __call__(self, request: Callable[[float], T]) -> T: ...


def read_page(
    client: OpenSearch, alias: str, mapping: KindMapping, request: SearchRequest, run: Run
) -> SearchPage:
    position, after = _continuation(request)

    def attempt(rule: WordRule) -> Response:
        body = page_body(mapping, request, after, position, rule)
        response: Response = run(_search(client, body, alias))
        return response

    response, rule = answer(request, attempt, _total)
    found = response["hits"]["hits"]
    total = _total(response)
    hits = [_hit(raw, request.ranked) for raw in found]
    if request.highlight is not None and request.has_text:
        _add_highlights(mapping, request, hits)
    return SearchPage(
        matched=rule,
        total=total,
        hits=hits,
        facets=facet_results(request.facets, response.get("aggregations") or {}),
        next_cursor=_next_cursor(request, found, total, position, after),
    )


def _continuation(request: SearchRequest) -> tuple[int, list[SortValue] | None]:
    """Where the page starts: a position, or the sort values to search after."""
    if request.search_after is None:
        return request.offset, None
    if not request.ranked:
        return 0, decode_cursor(request, request.search_after)
    position = relevance_position(request, request.search_after)
    if position + request.size > MAX_RESULT_WINDOW:
        raise QueryError.single(
            "search_after",
            f"pages by relevance reach at most {MAX_RESULT_WINDOW:,} hits deep; "
            "narrow the query, or sort by a field to page deeper",
        )
    return position, None


def _next_cursor(
    request: SearchRequest,
    found: list[Response],
    total: int,
    position: int,
    after: list[SortValue] | None,
) -> str | None:
    if not found or len(found) < request.size:
        return None
    reached = position + len(found)
    if request.ranked:
        if reached >= total:
            return None
        last = found[-1]
        return relevance_cursor(request, last.get("_score"), last["_id"], reached)
    if after is None and reached >= total:
        return None
    return encode_cursor(request, found[-1]["sort"])


def read_count(
    client: OpenSearch, alias: str, mapping: KindMapping, request: SearchRequest, run: Run
) -> int:
    total, _ = _counted(client, alias, mapping, request, run)
    return total


def _counted(
    client: OpenSearch, alias: str, mapping: KindMapping, request: SearchRequest, run: Run
) -> tuple[int, WordRule | None]:
    """How many documents match, by the first rule that finds any."""

    def attempt(rule: WordRule) -> int:
        body = count_body(mapping, request, rule)
        response: Response = run(
            lambda timeout: client.count(index=alias, body=body, request_timeout=timeout)
        )
        return int(response["count"])

    return answer(request, attempt, lambda total: total)


def read_export(
    client: OpenSearch,
    alias: str,
    mapping: KindMapping,
    request: SearchRequest | str,
    run: Run,
) -> SearchPage:
    """Every live document matching the request, in its order, as one unpaged result.

    A bare text stands for a request with that text and nothing else.
    """
    if isinstance(request, str):
        request = SearchRequest(text=request, every_document=True)
    rule = _counted(client, alias, mapping, request, run)[1] if request.has_text else None
    chunk = EXPORT_CHUNK
    pit = _open_point_in_time(client, alias, run)
    hits: list[SearchHit] = []
    after: list[Any] | None = None
    try:
        while True:
            body = export_body(mapping, request, chunk, after, rule)
            if pit is not None:
                body["pit"] = {"id": pit, "keep_alive": PIT_KEEP_ALIVE}
            response = run(_search(client, body, None if pit is not None else alias))
            pit = response.get("pit_id", pit)
            found = response["hits"]["hits"]
            hits += [_hit(raw, request.ranked) for raw in found]
            if len(found) < chunk:
                break
            if found[-1]["sort"] == after:
                # A cluster ignoring search_after would otherwise be read forever.
                raise SearchUnavailable(f"{alias}: search_after did not move past {after}")
            after = found[-1]["sort"]
    finally:
        if pit is not None:
            _close_point_in_time(client, pit)
    if request.ranked:
        hits.sort(key=lambda hit: (-(hit.score or 0.0), hit.id))
    return SearchPage(total=len(hits), hits=hits, matched=rule)


def _search(client: OpenSearch, body: dict[str, Any], index: str | None) -> Callable[[float], Any]:
    def request(timeout: float) -> Any:
        if index is None:  # a point-in-time search names no index
            return client.search(body=body, request_timeout=timeout)
        return client.search(index=index, body=body, request_timeout=timeout)

    return request


def _open_point_in_time(client: OpenSearch, alias: str, run: Run) -> str | None:
    def request(timeout: float) -> Any:
        try:
            return client.create_pit(
                index=alias, params={"keep_alive": PIT_KEEP_ALIVE}, request_timeout=timeout
            )
        except TransportError as error:
            unsupported = error.status_code in _NO_PIT_STATUSES
            if not unsupported or error.error == "index_not_found_exception":
                raise
            log.info("no point in time (%s); exporting without", describe_error(error.info))
            return None

    response: Response | None = run(request)
    pit = response.get("pit_id") if response else None
    return pit if isinstance(pit, str) else None


def _close_point_in_time(client: OpenSearch, pit: str) -> None:
    # The point in time expires by itself after its keep-alive; closing early frees the
    # resources it pins, and a failure to close is no reason to fail the export.
    try:
        client.delete_pit(body={"pit_id": [pit]}, request_timeout=5.0)
    except Exception as error:  # noqa: BLE001
        log.debug("could not close a point in time: %s", error)


def _total(response: Response) -> int:
    total = response["hits"]["total"]
    return int(total["value"] if isinstance(total, dict) else total)


def _hit(raw: Response, ranked: bool) -> SearchHit:
    score = raw.get("_score")
    return SearchHit(
        id=raw["_id"],
        score=float(score) if ranked and score is not None else None,
        source=raw["_source"],
    )


def _add_highlights(mapping: KindMapping, request: SearchRequest, hits: list[SearchHit]) -> None:
    assert request.highlight is not None
    wanted = set(request.highlight.fields)
    fields = [
        HighlightedField(f.source, f.prefix)
        for f in searched_fields(mapping, request)
        if not wanted or f.source in wanted
    ]
    terms = query_terms(request.text, fuzzy=request.fuzzy, prefix=request.prefix)
    marker = TermMarker(terms)
    tags = Tags(request.highlight.pre_tag, request.highlight.post_tag)
    for hit in hits:
        hit.highlight = highlight(hit.source, fields, marker, tags)
