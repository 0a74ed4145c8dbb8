"""The history routes: a document's changes, its state at a date and its derivations.

    GET /v1/{kind}/documents/{id}/history?limit=50&before=<cursor>   newest first
    GET /v1/{kind}/documents/{id}/explain?field=likes_received      the items behind a value
    GET /v1/{kind}/documents/{id}?as_of=2026-03-01T00:00:00Z         (see `document_as_of`)

>>> app.include_router(history_router(lambda: streamfold.history, [Depends(authenticated)]))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.params import Depends
from pydantic import BaseModel

from infrastructure.entrypoints.http.openapi import ErrorResponse, api_errors
from projections.documents import DocumentKind
from projections.history.service import DocumentHistory
from projections.query import QueryError

HistoryProvider = Callable[[], DocumentHistory]
_AS_OF = "ISO-8601 date or time, e.g. 2026-03-01T00:00:00Z (UTC when no offset)"
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such document at that time"}
}


class FieldChangeResponse(BaseModel):
    field: str
    old: Any
    new: Any


class HistoryEntryResponse(BaseModel):
    position: int
    stream_position: int
    recorded_at: str
    table: str
    item_key: dict[str, str]
    event_type: str
    summary: str
    changes: list[FieldChangeResponse]
    related: list[dict[str, str]]


class HistoryResponse(BaseModel):
    entries: list[HistoryEntryResponse]
    next_cursor: int | None


class ExplainedItem(BaseModel):
    table: str
    item_key: dict[str, str]
    counts: Any  # what the item adds: 1, an amount, an upload time or the owner's name


class ExplanationResponse(BaseModel):
    field: str
    value: Any
    items: list[ExplainedItem]


def document_as_of(
    history: DocumentHistory, kind: DocumentKind, doc_id: str, as_of: str
) -> dict[str, Any]:
    """The document as rendered from the events recorded up to ``as_of``, or a 404."""
    moment = parse_moment(as_of)
    body = history.as_of(kind, doc_id, moment)
    if body is None:
        raise HTTPException(
            404, f"no {kind.value} document with id {doc_id!r} existed at {moment.isoformat()}"
        )
    return body


def history_router(history: HistoryProvider, dependencies: Sequence[Depends]) -> APIRouter:
    router = APIRouter(prefix="/v1", dependencies=list(dependencies), responses=api_errors())

    @router.get(
        "/{kind}/documents/{doc_id}/history",
        response_model=HistoryResponse,
        summary="The changes of one document, newest first",
    )
    def changes(
        kind: DocumentKind,
        doc_id: str,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        before: Annotated[int | None, Query(description="next_cursor of the previous page")] = None,
    ) -> dict[str, Any]:
        return history().changes(kind, doc_id, limit=limit, before=before).as_json()

    @router.get(
        "/{kind}/documents/{doc_id}/explain",
        response_model=ExplanationResponse,
        summary="The source items behind a derived field",
        responses=_NOT_FOUND,
    )
    def explain(
        kind: DocumentKind,
        doc_id: str,
        field: Annotated[str, Query(description="e.g. likes_received, like_count, owner")],
        as_of: Annotated[str | None, Query(description=_AS_OF)] = None,
    ) -> dict[str, Any]:
        moment = None if as_of is None else parse_moment(as_of)
        explained = history().explain(kind, doc_id, field, moment)
        if explained is None:
            raise HTTPException(404, f"no {kind.value} document with id {doc_id!r}")
        return explained

    return router


def parse_moment(text: str) -> datetime:
    """An ISO-8601 date or time; UTC when it names no offset.

    The parameter is parsed here, not declared as a datetime: a route's types are read
    when the app is built, and a datetime class patched by a test clock is no type there.
    """
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError.single("as_of", f"{text!r} is no ISO-8601 date or time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
