"""The OpenAPI document is the API's contract: every documented operation, called with
input the document allows and input it forbids, answers only what the document declares
(status, content type, headers, body schema), and refuses a request without credentials.

Schemathesis generates the requests from the document and validates each answer against
it. The examples per operation are bounded so the whole run stays within seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CheckFunction
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.entrypoints.http import create_app
from infrastructure.entrypoints.http.auth import BearerToken
from infrastructure.entrypoints.http.limits import Limits
from projections.search import SearchService
from tests.contract.query_contract import DATASET

TOKEN = "a-long-enough-contract-token"
EXAMPLES_PER_OPERATION = 40
# A request the schema allows can still name a field outside the kind's allowlist (GET
# /v1/{kind}/fields), which no JSON schema of the request can say; that is a 400 the
# document declares, so the "schema-valid input is accepted" check does not apply.
NOT_APPLICABLE: list[CheckFunction] = [positive_data_acceptance]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    index = EmbeddedSearchIndex(tmp_path_factory.mktemp("openapi-contract") / "index")
    index.write(DATASET)
    service = SearchService(index)
    yield create_app(lambda: service, BearerToken(TOKEN), Limits(per_second=0))
    index.close()


@pytest.fixture(scope="module")
def api_schema(app: Any) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return schema


OPERATIONS = [
    ("POST", "/v1/{kind}/search"),
    ("POST", "/v1/{kind}/count"),
    ("GET", "/v1/{kind}/fields"),
    ("GET", "/v1/{kind}/documents/{doc_id}"),
    ("GET", "/health"),
]


def test_the_operations_checked_are_every_documented_one(api_schema: Any) -> None:
    documented = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}

    assert documented == set(OPERATIONS)


@pytest.mark.parametrize(
    ("method", "path", "mode"),
    [
        (method, path, mode)
        for method, path in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if path != "/health" or mode is GenerationMode.POSITIVE  # it takes no input to spoil
    ],
)
def test_every_documented_operation_answers_as_documented(
    api_schema: Any, method: str, path: str, mode: GenerationMode
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"}, excluded_checks=NOT_APPLICABLE
        )

    answers_as_documented()


def test_the_document_declares_the_api_errors_and_the_bearer_scheme(app: Any) -> None:
    document = TestClient(app).get("/openapi.json").json()

    assert document["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer"}
    }
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            assert "429" in responses, (method, path)
            if path.startswith("/v1/"):
                assert {"400", "401", "413", "429"} <= set(responses), (method, path)
                assert operation["security"] == [{"bearer": []}]
                error = responses["400"]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
