"""The CRM search HTTP API: what a front end sends and reads back, locally and on Lambda."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infrastructure import lambda_handlers
from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.entrypoints.http import create_app
from infrastructure.entrypoints.http.auth import BearerToken, NoAuthentication
from projections.ports import SearchUnavailable
from projections.search import SearchService
from tests.contract.query_contract import DATASET

TOKEN = "a-long-enough-test-token"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    index = EmbeddedSearchIndex(tmp_path_factory.mktemp("http") / "index")
    index.write(DATASET)
    yield SearchService(index)
    index.close()


@pytest.fixture(scope="module")
def client(service: SearchService) -> TestClient:
    return TestClient(create_app(lambda: service, NoAuthentication()))


def test_a_search_returns_hits_highlights_facets_and_a_cursor(client: TestClient) -> None:
    response = client.post(
        "/v1/images/search",
        json={
            "text": "photgraphy montains",
            "filter": {"type": "term", "field": "status", "value": "active"},
            "facets": {"status": {"type": "terms", "field": "status"}},
            "size": 1,
        },
    )

    assert response.status_code == 200
    page = response.json()
    assert set(page) == {"total", "hits", "facets", "next_cursor", "matched"}
    assert page["matched"] == "all_words"
    assert page["hits"][0]["id"] == "i-01"
    assert page["hits"][0]["highlight"]["title"] == [
        "<em>Photography</em> of <em>mountains</em> at dawn"
    ]
    assert page["facets"]["status"]["buckets"] == [{"key": "active", "count": page["total"]}]
    assert page["next_cursor"]


def test_the_next_cursor_fetches_the_next_page(client: TestClient) -> None:
    query: dict[str, Any] = {"sort": [{"field": "like_count", "order": "desc"}], "size": 4}
    first = client.post("/v1/images/search", json=query).json()

    second = client.post(
        "/v1/images/search", json={**query, "search_after": first["next_cursor"]}
    ).json()

    assert [hit["id"] for hit in first["hits"]] == ["i-03", "i-05", "i-01", "i-08"]
    assert [hit["id"] for hit in second["hits"]] == ["i-10", "i-07", "i-02", "i-06"]


def test_count_returns_the_exact_total_for_the_text_and_filter(client: TestClient) -> None:
    response = client.post(
        "/v1/users/count",
        json={"filter": {"type": "range", "field": "lifetime_value_cents", "gte": 10000}},
    )

    assert (response.status_code, response.json()) == (200, {"count": 3})


def test_the_fields_of_a_kind_are_listed_with_what_they_allow(client: TestClient) -> None:
    fields = {f["path"]: f for f in client.get("/v1/images/fields").json()}

    assert fields["title"]["searched"] and fields["title"]["prefix"]
    assert fields["owner.plan"]["filterable"] and not fields["owner.plan"]["searched"]
    assert not fields["description"]["filterable"]


UNKNOWN_FIELD = {"type": "term", "field": "colour", "value": "red"}
EMPTY_RANGE = {"type": "range", "field": "like_count", "gte": 9, "lt": 3}


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("/v1/images/search", {"filter": UNKNOWN_FIELD}, "filter.field"),
        ("/v1/images/search", {"size": 500}, "size"),
        ("/v1/images/search", {"text": "x" * 600}, "text"),
        ("/v1/images/search", {"filter": EMPTY_RANGE}, "filter"),
        ("/v1/images/search", {"query": {"match_all": {}}}, "query"),
        ("/v1/images/count", {"sort": []}, "sort"),
        ("/v1/images/count", {"boosts": {"": 0}}, "boosts"),
        ("/v1/images/search", {"boosts": {"title": 101.0}}, "boosts"),
        ("/v1/pets/search", {}, "path.kind"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_where_the_problem_is(
    client: TestClient, path: str, body: dict[str, Any], location: str
) -> None:
    response = client.post(path, json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [p["location"] for p in error["problems"]] == [location]


def test_a_body_that_is_not_json_is_a_400_saying_where_it_breaks(client: TestClient) -> None:
    response = client.post(
        "/v1/users/search",
        content=b'{\n  "text": "sunset",\n}',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["problems"] == [
        {
            "location": "body",
            "message": "not valid JSON at line 3, column 1: "
            "expecting property name enclosed in double quotes",
        }
    ]


NO_BODY = "missing: send a JSON object ({} asks with every default)"
NOT_JSON = "not sent as JSON: send it with Content-Type: application/json"


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (None, {}, NO_BODY),
        (None, {"content-type": "application/json"}, NO_BODY),
        (b'{"text": "sunset"}', {"content-type": "text/plain"}, NOT_JSON),
        (b'{"text": "sunset"}', {}, NOT_JSON),
    ],
    ids=["no body", "no body but a JSON type", "another type", "no type"],
)  # fmt: skip
def test_a_missing_body_or_content_type_is_a_400_with_a_sentence(
    client: TestClient, content: bytes | None, headers: dict[str, str], message: str
) -> None:
    response = client.post("/v1/users/count", content=content, headers=headers)

    assert response.status_code == 400
    assert response.json()["error"]["problems"] == [{"location": "body", "message": message}]


def test_a_backwards_date_range_is_a_400_naming_both_bounds(client: TestClient) -> None:
    backwards = {"type": "range", "field": "created_at", "gte": "2024-06-01", "lt": "2024-01-02"}

    response = client.post("/v1/users/search", json={"filter": backwards})

    assert response.status_code == 400
    [problem] = response.json()["error"]["problems"]
    assert problem["location"] == "filter"
    assert "2024-06-01" in problem["message"] and "2024-01-02" in problem["message"]
    assert problem["message"].endswith("is empty; its bounds are backwards: swap them")


def test_unexpected_failures_never_leak_internals() -> None:
    def broken() -> SearchService:
        raise RuntimeError("password=hunter2 at /srv/secret/path.py line 42")

    client = TestClient(create_app(broken, NoAuthentication()), raise_server_exceptions=False)

    response = client.post("/v1/users/search", json={})

    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal", "message": "internal error"}}
    assert "hunter2" not in response.text


def test_an_unavailable_backend_is_a_503_to_retry() -> None:
    def unavailable() -> SearchService:
        raise SearchUnavailable("https://search.internal:9200: connection refused")

    client = TestClient(create_app(unavailable, NoAuthentication()))

    response = client.post("/v1/users/count", json={})

    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "search.internal" not in response.text


def test_a_bearer_token_guards_the_api_when_configured(service: SearchService) -> None:
    client = TestClient(create_app(lambda: service, BearerToken(TOKEN)))

    missing = client.post("/v1/users/count", json={})
    wrong = client.post("/v1/users/count", json={}, headers={"Authorization": "Bearer nope"})
    right = client.post("/v1/users/count", json={}, headers={"Authorization": f"Bearer {TOKEN}"})

    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert missing.json()["error"]["code"] == "unauthorized"
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_auth_scheme_name_is_case_insensitive(service: SearchService, scheme: str) -> None:
    client = TestClient(create_app(lambda: service, BearerToken(TOKEN)))

    response = client.post(
        "/v1/users/count", json={}, headers={"Authorization": f"{scheme} {TOKEN}"}
    )

    assert response.status_code == 200


def test_a_refused_token_is_told_what_to_send(service: SearchService) -> None:
    client = TestClient(create_app(lambda: service, BearerToken(TOKEN)))

    response = client.post("/v1/users/count", json={}, headers={"Authorization": "Token nope"})

    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "the API token is missing or wrong: send Authorization: Bearer <token>"
    )


def test_the_openapi_document_describes_both_endpoints_of_both_kinds(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    assert {"/v1/{kind}/search", "/v1/{kind}/count", "/v1/{kind}/fields"} <= set(document["paths"])
    schemas = document["components"]["schemas"]
    assert {"SearchRequest", "SearchPage", "CountRequest"} <= set(schemas)
    kind = document["paths"]["/v1/{kind}/search"]["post"]["parameters"][0]
    assert kind["schema"]["$ref"].endswith("DocumentKind")
    assert schemas["DocumentKind"]["enum"] == ["users", "images"]


# -- behind API Gateway -------------------------------------------------------------------


def api_gateway_event(
    method: str, path: str, body: dict[str, Any] | None, authorizer: dict[str, Any] | None
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event, as API Gateway sends it to Lambda."""
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "abcdefghij",
        "domainName": "abcdefghij.execute-api.eu-west-1.amazonaws.com",
        "domainPrefix": "abcdefghij",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.7",
            "userAgent": "crm-frontend/1.0",
        },
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": "$default",
        "stage": "$default",
        "time": "10/Mar/2024:12:00:00 +0000",
        "timeEpoch": 1710072000000,
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            "host": "abcdefghij.execute-api.eu-west-1.amazonaws.com",
        },
        "requestContext": context,
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def lambda_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for variable in ("STREAMFOLD_EVENT_STORE", "STREAMFOLD_SEARCH", "STREAMFOLD_API_AUTH"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("STREAMFOLD_DATA_DIR", str(tmp_path))
    index = EmbeddedSearchIndex(tmp_path / "index")
    index.write(DATASET)
    index.close()
    lambda_handlers.reset()
    yield tmp_path
    lambda_handlers.reset()


def test_the_lambda_handler_answers_api_gateway_events_that_passed_the_authorizer(
    lambda_home: Path,
) -> None:
    jwt = {"jwt": {"claims": {"sub": "crm-user-1"}, "scopes": ["search"]}}
    event = api_gateway_event("POST", "/v1/images/count", {"text": "mountains"}, jwt)

    response = lambda_handlers.http_handler(event, None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"count": 3}


def test_the_lambda_handler_refuses_events_without_an_authorizer(lambda_home: Path) -> None:
    event = api_gateway_event("POST", "/v1/images/count", {}, authorizer=None)

    response = lambda_handlers.http_handler(event, None)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "unauthorized"


def test_the_stream_handler_does_not_load_the_web_framework() -> None:
    probe = "import sys, infrastructure.lambda_handlers; print('fastapi' in sys.modules)"

    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()

    assert loaded == "False"
