"""A Lambda function deployed with a wrong STREAMFOLD_TABLES fails loudly, and keeps its records.

The stream handler raises (the handler-errors alarm fires, Lambda retries the batch until
a fixed configuration is deployed) after one error line naming the setting; nothing is
dead-lettered. The HTTP handler answers a JSON 500 and logs the setting to fix.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.demo import SimulatedTables
from infrastructure import lambda_handlers
from infrastructure.composition import Streamfold
from infrastructure.settings import ConfigError, Settings
from projections.documents import DocumentKind
from tests.e2e.test_http_api import api_gateway_event

WRONG = "users=prod-users,images=prod-users"
MESSAGE = (
    "STREAMFOLD_TABLES: table 'prod-users' is mapped to both users and images; "
    "a table holds one kind, keep the right one"
)
USER = {"userId": "u-1", "email": "ada@example.com", "name": "Ada Lovelace", "plan": "pro",
        "country": "GB", "createdAt": "2024-01-01T00:00:00Z", "marketingOptIn": True}  # fmt: skip


@pytest.fixture
def misconfigured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    monkeypatch.setenv("STREAMFOLD_TABLES", WRONG)
    lambda_handlers.reset()
    yield tmp_path
    lambda_handlers.reset()


def test_the_stream_handler_logs_the_setting_to_fix_and_fails_every_invocation(
    misconfigured: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = SimulatedTables(table_names={"users": "prod-users"})
    tables.put("users", USER)
    event = {"Records": tables.records}

    for _ in range(2):  # a retry meets the same configuration: still refused, still loud
        with (
            caplog.at_level(logging.ERROR, logger="streamfold.lambda"),
            pytest.raises(ConfigError, match=f"^{MESSAGE}$"),
        ):
            lambda_handlers.stream_handler(event, None)

    assert [r.getMessage() for r in caplog.records if r.name == "streamfold.lambda"] == [
        f"cannot start, the configuration is wrong: {MESSAGE}; fix it and redeploy"
    ] * 2
    monkeypatch.setenv("STREAMFOLD_TABLES", "users=prod-users")  # the fix, redeployed
    assert lambda_handlers.stream_handler(event, None) == {"batchItemFailures": []}
    with Streamfold.from_settings(Settings.from_environment()) as app:
        assert app.dead_letters.count() == 0
        assert app.index.get(DocumentKind.USERS, "u-1") is not None


def test_the_http_handler_answers_a_json_error_and_logs_the_setting_to_fix(
    misconfigured: Path, caplog: pytest.LogCaptureFixture
) -> None:
    jwt = {"jwt": {"claims": {"sub": "crm-user-1"}, "scopes": ["search"]}}
    event = api_gateway_event("POST", "/v1/users/count", {}, jwt)

    with caplog.at_level(logging.ERROR, logger="streamfold.http"):
        response = lambda_handlers.http_handler(event, None)

    assert response["statusCode"] == 500
    assert json.loads(response["body"]) == {
        "error": {
            "code": "internal",
            "message": "the service is misconfigured; its log says which setting to fix",
        }
    }
    assert [r.getMessage() for r in caplog.records if r.name == "streamfold.http"] == [
        f"cannot answer, the configuration is wrong: {MESSAGE}; fix it and redeploy"
    ]
