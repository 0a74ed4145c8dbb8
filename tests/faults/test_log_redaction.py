"""Log lines never carry a password or a document, unless debug logging is asked for.

The handler runs with credentials in both URLs, through outages of PostgreSQL and
OpenSearch and with bad records, while every log line of every library is captured at
INFO (the JSON batch lines, EMF metrics, the OpenSearch client's and the connection
pool's warnings). None of it may hold a password or the content of a document or record.
With DEBUG on, the OpenSearch client logs request bodies: that is the only way documents
reach the logs, which also shows this capture would see them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import SimulatedTables
from infrastructure import lambda_handlers
from infrastructure.settings import PostgresStore
from tests.faults.pipeline import deliver
from tests.support.fault_proxy import FaultProxy

DATABASE_PASSWORD = "db-s3cret-pw"  # what the logs must never show
SEARCH_PASSWORD = "os-s3cret-pw"
BIO = "Private note 7f3a: allergic to penicillin"
EMAIL = "grace.private.7f3a@mail.example"
SECRETS = (DATABASE_PASSWORD, SEARCH_PASSWORD, "crm-admin:", BIO, EMAIL, "7f3a")


def changes(tables: SimulatedTables, round_: int) -> dict[str, Any]:
    user = {
        "userId": f"u-{round_}", "email": EMAIL, "name": "Grace Hopper", "plan": "pro",
        "country": "US", "createdAt": "2024-01-01T00:00:00Z", "marketingOptIn": True,
        "bio": BIO,
    }  # fmt: skip
    tables.put("users", user)
    tables.put("users", {**user, "userId": f"bad-{round_}", "plan": "platinum"})  # refused
    return {"Records": tables.take_records()}


@pytest.fixture
def configured(
    lambda_home: Path,
    postgres_store: PostgresStore,
    database_proxy: FaultProxy,
    search_proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "STREAMFOLD_EVENT_STORE",
        f"postgresql://postgres:{DATABASE_PASSWORD}@127.0.0.1:{database_proxy.port}"
        f"/{postgres_store.dbname}",
    )
    monkeypatch.setenv(
        "STREAMFOLD_SEARCH", f"http://crm-admin:{SEARCH_PASSWORD}@127.0.0.1:{search_proxy.port}"
    )
    monkeypatch.setenv("STREAMFOLD_OPENSEARCH_AUTH", "basic")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")


def test_no_password_or_document_reaches_the_logs_through_outages_and_bad_records(
    configured: None,
    database_proxy: FaultProxy,
    search_proxy: FaultProxy,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)  # every library's INFO lines, as a Lambda would keep them
    tables = SimulatedTables()
    assert deliver(changes(tables, 0)).succeeded

    def cold_start_and_refuse() -> None:
        lambda_handlers.reset()
        database_proxy.refuse()

    outages = [
        lambda: search_proxy.answer(503),
        search_proxy.refuse,
        search_proxy.stall,
        lambda: search_proxy.cut("response", 10, times=None),
        database_proxy.stall,
        cold_start_and_refuse,  # a cold start, too
        lambda: database_proxy.cut("request", 300, times=1),
    ]

    answers = []
    for round_, outage in enumerate(outages, start=1):
        batch = changes(tables, round_)
        outage()
        answers.append(deliver(batch, remaining_ms=6_000).succeeded)
        search_proxy.heal()
        database_proxy.heal()
        assert deliver(batch).succeeded

    assert not any(answers[:-1]), "an outage did not fail its batch"
    out, err = capfd.readouterr()
    logged = "\n".join([caplog.text, out, err])
    assert "batch will be retried" in logged and "batch processed" in logged
    for secret in SECRETS:
        assert secret not in logged, f"{secret!r} reached the logs"


def test_with_debug_logging_the_search_client_logs_request_bodies(
    configured: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="opensearch")

    assert deliver(changes(SimulatedTables(), 0)).succeeded

    assert BIO in caplog.text  # debug, when asked for, shows documents: never by default
