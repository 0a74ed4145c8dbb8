"""Every failure as a JSON error: 400 for a request to correct, never a stack trace.

    {"error": {"code": "invalid_request", "message": "...",
               "problems": [{"location": "filter.field", "message": "unknown field ..."}]}}

Codes: ``invalid_request`` (400), ``unauthorized`` (401), ``not_found`` (404),
``method_not_allowed`` (405), ``too_large`` (413) and ``rate_limited`` (429, see
``infrastructure.entrypoints.http.limits``), ``unavailable`` (503, retry later), ``internal`` (500).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from domain.errors import TransientFailure
from infrastructure.entrypoints.http.auth import NotAuthenticated
from infrastructure.entrypoints.http.request_body import body_problem
from infrastructure.settings import ConfigError
from projections.query import QueryError

log = logging.getLogger("streamfold.http")

RETRY_AFTER_SECONDS = "5"


def error_body(code: str, message: str, problems: list[dict[str, str]] | None = None) -> Any:
    error: dict[str, Any] = {"code": code, "message": message}
    if problems is not None:
        error["problems"] = problems
    return {"error": error}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_body)
    app.add_exception_handler(QueryError, _invalid_query)
    app.add_exception_handler(NotAuthenticated, _unauthorized)
    app.add_exception_handler(TransientFailure, _unavailable)
    app.add_exception_handler(ConfigError, _misconfigured)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _internal)


def _problems(error: QueryError) -> list[dict[str, str]]:
    return [{"location": p.location, "message": p.message} for p in error.problems]


async def _invalid_query(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, QueryError)
    body = error_body("invalid_request", str(error), _problems(error))
    return JSONResponse(body, status_code=400)


async def _invalid_body(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    content_type = request.headers.get("content-type")
    records = []
    for record in error.errors():
        whole = body_problem(record, error.body, content_type)
        if whole is not None:
            records.append(whole)
            continue
        location = tuple(record.get("loc", ()))
        if location[:1] == ("body",):
            location = location[1:]
        records.append({"loc": location, "msg": record.get("msg", "invalid")})
    return await _invalid_query(request, QueryError.from_errors(records))


async def _unauthorized(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(
        error_body("unauthorized", str(error)),
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def _unavailable(request: Request, error: Exception) -> JSONResponse:
    log.warning("search unavailable: %s", error)
    return JSONResponse(
        error_body("unavailable", "the search backend is unavailable; retry later"),
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


async def _misconfigured(request: Request, error: Exception) -> JSONResponse:
    # The setting and its fix are for the operator's log, not for the caller.
    log.error("cannot answer, the configuration is wrong: %s; fix it and redeploy", error)
    message = "the service is misconfigured; its log says which setting to fix"
    return JSONResponse(error_body("internal", message), status_code=500)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    code = codes.get(error.status_code, "invalid_request")
    return JSONResponse(
        error_body(code, str(error.detail)), status_code=error.status_code, headers=error.headers
    )


async def _internal(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return JSONResponse(error_body("internal", "internal error"), status_code=500)
