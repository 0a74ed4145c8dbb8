"""The CRM search HTTP API: search and count users or images, with an OpenAPI document.

    POST /v1/{kind}/search   a SearchRequest  -> a SearchPage
    POST /v1/{kind}/count    a CountRequest   -> {"count": N}
    GET  /v1/{kind}/fields   the fields a request may use, and how
    GET  /v1/{kind}/documents/{id}   one document by id, or a 404
    GET  /health             {"status": "ok"}
    GET  /openapi.json, /docs (the interactive reference, at /ui/api-docs.html)
    GET  /ui/                the CRM's browser screen (search and dashboards) over this API

``kind`` is ``users`` or ``images``. The same app runs under ``streamfold serve`` and, via
`infrastructure.lambda_handlers.http_handler`, behind API Gateway. See docs/query-api.md.

>>> app = create_app(lambda: streamfold.search, NoAuthentication())
>>> TestClient(app).post("/v1/images/count", json={"text": "sunset"}).json()
{'count': 42}
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

from infrastructure.entrypoints.http.auth import Authenticator
from infrastructure.entrypoints.http.errors import install_error_handlers
from infrastructure.entrypoints.http.history import HistoryProvider, document_as_of, history_router
from infrastructure.entrypoints.http.limits import Limits, install_limits
from infrastructure.entrypoints.http.openapi import (
    RATE_LIMITED,
    ErrorResponse,
    api_errors,
    describe_security,
)
from infrastructure.entrypoints.http.ui import mount_screen
from projections.documents import DocumentKind
from projections.query import (
    CountRequest,
    SearchPage,
    SearchRequest,
    Term,
    query_fields,
)
from projections.search import SearchService

ServiceProvider = Callable[[], SearchService]

SEARCH_EXAMPLES: dict[str, Any] = {
    "typo-tolerant search with facets": {
        "value": {
            "text": "photgraphy montains",
            "filter": {"type": "term", "field": "status", "value": "active"},
            "facets": {
                "status": {"type": "terms", "field": "status"},
                "per_month": {"type": "date_histogram", "field": "created_at", "interval": "month"},
            },
            "size": 20,
        }
    },
    "newest first, next page": {
        "value": {
            "sort": [{"field": "created_at", "order": "desc"}],
            "size": 50,
            "search_after": "<next_cursor of the previous page>",
        }
    },
}
COUNT_EXAMPLES: dict[str, Any] = {
    "pro users who signed up this year": {
        "value": {
            "filter": {
                "type": "and",
                "filters": [
                    {"type": "term", "field": "plan", "value": "pro"},
                    {"type": "range", "field": "created_at", "gte": "2024-01-01"},
                ],
            }
        }
    }
}


class CountResponse(BaseModel):
    count: int


class DocumentResponse(BaseModel):
    id: str
    source: dict[str, Any]  # the document


ID_FIELDS = {DocumentKind.USERS: "user_id", DocumentKind.IMAGES: "image_id"}


class QueryableField(BaseModel):
    path: str
    type: str
    searched: bool
    boost: float | None
    prefix: bool
    filterable: bool
    sortable: bool


def create_app(
    service: ServiceProvider,
    authenticate: Authenticator,
    limits: Limits | None = None,
    history: HistoryProvider | None = None,
) -> FastAPI:
    """The API over the search service ``service()`` returns, guarded by ``authenticate``.

    Request size and rate are bounded by ``limits`` (by default from the environment).
    """
    app = FastAPI(
        title="streamfold CRM search API",
        docs_url=None,  # the screen serves the reference from local files (mount_screen)
        redoc_url=None,
        version="1",
        description="Search and count the denormalized user and image documents. "
        "Requests are checked against each kind's field allowlist (GET /v1/{kind}/fields); "
        "errors are JSON with a 400 for a request to correct.",
    )
    install_error_handlers(app)
    install_limits(app, limits or Limits.from_environment(os.environ))
    scheme = getattr(authenticate, "openapi_scheme", None)
    app.openapi = lambda: describe_security(app, scheme)  # type: ignore[method-assign]

    def authenticated(request: Request) -> None:
        event: Mapping[str, Any] | None = request.scope.get("aws.event")
        authenticate(headers=request.headers, event=event)

    api = APIRouter(prefix="/v1", dependencies=[Depends(authenticated)], responses=api_errors())

    @api.post("/{kind}/search", response_model=SearchPage, summary="Search users or images")
    def search(
        kind: DocumentKind,
        request: Annotated[SearchRequest, Body(openapi_examples=SEARCH_EXAMPLES)],
    ) -> SearchPage:
        return service().search(kind, request)

    @api.post("/{kind}/count", response_model=CountResponse, summary="Count matching documents")
    def count(
        kind: DocumentKind,
        request: Annotated[CountRequest, Body(openapi_examples=COUNT_EXAMPLES)],
    ) -> CountResponse:
        return CountResponse(count=service().count(kind, request.as_search()))

    @api.get("/{kind}/fields", response_model=list[QueryableField], summary="Queryable fields")
    def fields(kind: DocumentKind) -> list[QueryableField]:
        return [
            QueryableField(
                path=f.path,
                type=f.type.value,
                searched=f.searched,
                boost=f.boost,
                prefix=f.prefix,
                filterable=f.filterable,
                sortable=f.sortable,
            )
            for f in query_fields(kind).fields
        ]

    @api.get(
        "/{kind}/documents/{doc_id}",
        response_model=DocumentResponse,
        summary="One document",
        responses={404: {"model": ErrorResponse, "description": "No such document"}},
    )
    def document(kind: DocumentKind, doc_id: str, as_of: str | None = None) -> DocumentResponse:
        if as_of is not None and history is not None:  # replayed from the event store
            return DocumentResponse(
                id=doc_id, source=document_as_of(history(), kind, doc_id, as_of)
            )
        # Through the search path, so a get sees exactly what searches see (no tombstones).
        only = SearchRequest(
            filter=Term(field=ID_FIELDS[kind], value=doc_id), size=1, highlight=None
        )
        hits = service().search(kind, only).hits
        if not hits:
            raise HTTPException(404, f"no {kind.value} document with id {doc_id!r}")
        return DocumentResponse(id=hits[0].id, source=hits[0].source)

    @app.get("/health", summary="Liveness", responses={429: RATE_LIMITED})
    def health() -> dict[str, str]:
        return {"status": "ok"}

    if history is not None:
        app.include_router(history_router(history, [Depends(authenticated)]))
    app.include_router(api)
    mount_screen(app)
    return app
