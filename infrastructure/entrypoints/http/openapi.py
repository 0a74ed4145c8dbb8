"""The OpenAPI document says what the API really answers: its errors and its credentials.

The web framework documents a 422 with its own validation body for every operation; this
API answers a request to correct with 400 and its JSON error body (`infrastructure.entrypoints.http.
errors`), refuses missing credentials with 401, a body over the limit with 413 and a flood
with 429 (`infrastructure.entrypoints.http.limits`). Those answers are declared here, once, and the
framework's 422 is taken out of the document.

>>> api = APIRouter(prefix="/v1", responses=api_errors())
>>> app.openapi = lambda: describe_security(app, {"type": "http", "scheme": "bearer"})
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

ErrorCode = Literal[
    "invalid_request",
    "unauthorized",
    "not_found",
    "method_not_allowed",
    "too_large",
    "rate_limited",
    "unavailable",
    "internal",
]


class Problem(BaseModel):
    location: str  # a dotted path into the request, e.g. ``filter.field``; ``body`` for all of it
    message: str


class ErrorDetail(BaseModel):
    code: ErrorCode
    message: str
    problems: list[Problem] | None = None  # for invalid_request


class ErrorResponse(BaseModel):
    error: ErrorDetail


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": "string"}}


def _error(description: str, **headers: str) -> dict[str, Any]:
    response: dict[str, Any] = {"model": ErrorResponse, "description": description}
    if headers:
        response["headers"] = {name: _header(text) for name, text in headers.items()}
    return response


RATE_LIMITED = _error(
    "Too many requests from this client; retry after the given seconds",
    **{"Retry-After": "seconds to wait"},
)
TOO_LARGE = _error("The request body is over the size limit (64 KiB by default)")


def api_errors() -> dict[int | str, dict[str, Any]]:
    """The errors every operation under /v1 may answer."""
    return {
        400: _error("The request is invalid; `problems` says where and why"),
        401: _error(
            "The credentials are missing or wrong",
            **{"WWW-Authenticate": "the scheme to use: Bearer"},
        ),
        413: TOO_LARGE,
        429: RATE_LIMITED,
        503: _error("The search backend is unavailable; retry later", **{"Retry-After": "seconds"}),
    }


def describe_security(app: FastAPI, scheme: dict[str, Any] | None) -> dict[str, Any]:
    """The app's OpenAPI document without the 422, with ``scheme`` guarding /v1 (if any)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for path, operations in document["paths"].items():
        for operation in operations.values():
            operation["responses"].pop("422", None)
            if scheme is not None and path.startswith("/v1/"):
                operation["security"] = [{"bearer": []}]
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    if scheme is not None:
        document.setdefault("components", {})["securitySchemes"] = {"bearer": scheme}
    app.openapi_schema = document
    return document
