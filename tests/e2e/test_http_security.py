"""The CRM search API under attack: no credentials, huge bodies, floods, garbage.

When auth is on, a request without valid credentials is refused and the credentials sent
are never echoed or logged; a body over the size limit is refused before it is read
whole; a client over its rate gets 429 with ``Retry-After``; and whatever the body, the
answer is a JSON page or a JSON error, never a stack trace. Outbound, AWS endpoints are
signed with SigV4 unless told otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.entrypoints.http import create_app
from infrastructure.entrypoints.http.auth import BearerToken
from infrastructure.entrypoints.http.limits import Limits
from infrastructure.settings import ConfigError, Settings
from projections.search import SearchService
from tests.contract.query_contract import DATASET

TOKEN = "s3cret-token-of-the-crm-0123456789"
GENEROUS = Limits(max_body_bytes=64 * 1024, per_second=0, burst=1)
LEAKS = ("Traceback", 'File "', ".py", ", line ", TOKEN)  # a frame: File "x.py", line 4


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    index = EmbeddedSearchIndex(tmp_path_factory.mktemp("http-security") / "index")
    index.write(DATASET)
    yield SearchService(index)
    index.close()


@pytest.fixture(scope="module")
def client(service: SearchService) -> TestClient:
    return client_of(service)


def client_of(service: SearchService, limits: Limits = GENEROUS, **options: Any) -> TestClient:
    app = create_app(lambda: service, BearerToken(TOKEN), limits)
    return TestClient(app, raise_server_exceptions=False, **options)


def authorized(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"{leak!r} in {text[:300]!r}"


# -- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN} "},
        {"Authorization": f"Bearer {TOKEN[:-1]}x"},
        {"Authorization": "Bearer " + "x" * 10_000},
        {"X-Api-Key": TOKEN},
    ],
    ids=["none", "empty", "scheme only", "empty token", "basic", "short", "trailing space",
         "one character off", "huge", "another header"],
)  # fmt: skip
def test_a_request_without_valid_credentials_is_refused_without_echo_or_log(
    service: SearchService, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_of(service)

    responses = [
        client.post("/v1/users/count", json={}, headers=headers),
        client.post("/v1/images/search", json={"text": "sunset"}, headers=headers),
        client.get("/v1/users/fields", headers=headers),
        client.get("/v1/users/documents/u-ada", headers=headers),
        client.post(f"/v1/users/count?token={TOKEN}", json={}, headers=headers),
    ]

    for response in responses:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
        assert_no_leak(response.text)
    server_log = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("httpx")
    )  # what the test's own HTTP client logs is not the server's log
    assert TOKEN not in server_log and "x" * 100 not in server_log


def test_the_right_token_opens_the_api_and_liveness_needs_none(service: SearchService) -> None:
    client = client_of(service)

    assert client.post("/v1/users/count", json={}, headers=authorized()).status_code == 200
    assert client.get("/health").status_code == 200


# -- request size -------------------------------------------------------------------------


SMALL = Limits(max_body_bytes=2_000, per_second=0, burst=1)


def test_a_body_over_the_limit_is_refused_with_413(service: SearchService) -> None:
    client = client_of(service, SMALL)
    body = json.dumps({"text": "x" * 3_000}).encode()

    response = client.post(
        "/v1/images/search",
        content=body,
        headers={**authorized(), "content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "too_large",
        "message": "the request body is larger than 2000 bytes",
    }


def test_a_streamed_body_over_the_limit_is_refused_before_it_is_read_whole(
    service: SearchService,
) -> None:
    client = client_of(service, SMALL)
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:  # no Content-Length: the body comes in chunks
        for n in range(100):
            sent.append(n)
            yield b" " * 500

    response = client.post(
        "/v1/images/search",
        content=chunks(),
        headers={**authorized(), "content-type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_body_within_the_limit_reaches_the_api(service: SearchService) -> None:
    client = client_of(service, SMALL)
    body = json.dumps({"text": "mountains", "size": 5}).encode().ljust(2_000)

    response = client.post(
        "/v1/images/search",
        content=body,
        headers={**authorized(), "content-type": "application/json"},
    )

    assert response.status_code == 200 and response.json()["total"] >= 1


# -- request rate -------------------------------------------------------------------------


def test_a_client_over_its_rate_gets_429_then_is_served_again_once_it_slows_down(
    service: SearchService,
) -> None:
    limits = Limits(max_body_bytes=64 * 1024, per_second=2, burst=5)
    app = create_app(lambda: service, BearerToken(TOKEN), limits)  # before the clock stops
    flooding = TestClient(app, client=("203.0.113.7", 40000))
    other = TestClient(app, client=("198.51.100.2", 40000))
    with freeze_time("2024-05-01 12:00:00") as clock:
        burst = [flooding.get("/health").status_code for _ in range(5)]
        refused = flooding.post("/v1/users/count", json={}, headers=authorized())
        other_client = other.post("/v1/users/count", json={}, headers=authorized())
        clock.tick(0.5)  # one request's worth of tokens at 2 per second
        after_a_pause = flooding.post("/v1/users/count", json={}, headers=authorized())
        at_once_again = flooding.get("/health")

    assert burst == [200] * 5
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.headers["retry-after"] == "1"
    assert other_client.status_code == 200
    assert after_a_pause.status_code == 200
    assert at_once_again.status_code == 429


def test_unauthenticated_floods_are_limited_too(service: SearchService) -> None:
    limits = Limits(max_body_bytes=64 * 1024, per_second=1, burst=3)
    client = client_of(service, limits, client=("203.0.113.9", 40000))
    with freeze_time("2024-05-01 12:00:00"):
        statuses = [client.post("/v1/users/count", json={}).status_code for _ in range(6)]

    assert statuses == [401, 401, 401, 429, 429, 429]


@pytest.mark.parametrize(
    ("variable", "value"),
    [("STREAMFOLD_API_MAX_BODY_BYTES", "lots"), ("STREAMFOLD_API_RATE", "-1"),
     ("STREAMFOLD_API_BURST", "0"), ("STREAMFOLD_API_RATE", "inf")],
)  # fmt: skip
def test_a_wrong_limit_setting_is_a_one_line_config_error(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable) as raised:
        Limits.from_environment({variable: value})

    assert "\n" not in str(raised.value)


def test_the_limits_come_from_the_environment_with_safe_defaults() -> None:
    assert Limits.from_environment({}) == Limits(max_body_bytes=65_536, per_second=50, burst=100)
    assert Limits.from_environment(
        {"STREAMFOLD_API_MAX_BODY_BYTES": "1024", "STREAMFOLD_API_RATE": "0"}
    ) == Limits(max_body_bytes=1024, per_second=0, burst=100)


# -- garbage in, JSON out -----------------------------------------------------------------

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["text", "filter", "sort", "size", "offset", "facets", "search_after", "highlight", "type",
     "field", "value", "gte", "lt", "filters", "order", "interval", "plan", "created_at"]
)  # fmt: skip
REQUESTS = st.recursive(
    JSON_VALUES,
    lambda inner: st.dictionaries(FIELDS, inner, max_size=5) | st.lists(inner, max_size=3),
    max_leaves=25,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(["/v1/users/search", "/v1/images/search", "/v1/users/count",
                          "/v1/images/count"]),
    body=REQUESTS,
)  # fmt: skip
def test_any_json_body_gets_a_page_or_a_400_never_a_crash(
    client: TestClient, path: str, body: Any
) -> None:
    response = client.post(path, content=json.dumps(body), headers=authorized())

    assert response.status_code in (200, 400), response.text[:300]
    answer = response.json()
    assert ("error" in answer) == (response.status_code == 400)
    assert_no_leak(response.text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "text/plain", "", "multipart/form-data"]),
)
def test_any_bytes_get_a_json_answer_without_internals(
    client: TestClient, body: bytes, content_type: str
) -> None:
    response = client.post(
        "/v1/images/search", content=body, headers={**authorized(), "content-type": content_type}
    )

    assert response.status_code in (200, 400), response.text[:300]
    assert response.headers["content-type"] == "application/json"
    assert_no_leak(response.text)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/users/search"), ("DELETE", "/v1/users/count"), ("POST", "/v1/pets/search"),
     ("GET", "/ui/../../etc/passwd"), ("GET", "/ui/%2e%2e/%2e%2e/etc/passwd"),
     ("GET", "/v1/users/documents/%00"), ("PUT", "/health"), ("GET", "/nowhere")],
)  # fmt: skip
def test_wrong_methods_and_paths_are_json_errors(
    client: TestClient, method: str, path: str
) -> None:
    response = client.request(method, path, headers=authorized())

    assert 400 <= response.status_code < 500
    assert "error" in response.json()
    assert_no_leak(response.text)
    assert "root:" not in response.text


# -- outbound: AWS endpoints are signed ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "auth", "expected"),
    [
        ("https://search-crm-abc.eu-west-1.es.amazonaws.com", "", "sigv4"),
        ("https://vpc-crm-abc.eu-west-1.es.amazonaws.com", "", "sigv4"),
        ("https://k3x9.ap-southeast-2.aoss.amazonaws.com", "", "sigv4"),
        ("https://search-crm.cn-north-1.es.amazonaws.com.cn", "", "sigv4"),
        ("https://search-crm-abc.eu-west-1.es.amazonaws.com", "basic", "basic"),
        ("https://search.internal.example.com:9200", "", "none"),
        ("http://127.0.0.1:9200", "", "none"),
    ],
)
def test_aws_endpoints_are_signed_with_sigv4_unless_told_otherwise(
    url: str, auth: str, expected: str, tmp_path: Path
) -> None:
    environment = {"STREAMFOLD_SEARCH": url, "STREAMFOLD_OPENSEARCH_AUTH": auth}

    search = Settings.from_environment(environment).search

    assert getattr(search, "auth", None) == expected
