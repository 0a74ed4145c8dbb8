"""The refresh policy: what each setting asks of the cluster, and the defaults per backend.

The requests are read off the wire by a loopback proxy in front of the OpenSearch test
server, so what is checked is what the cluster was sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from osmem_server import OsmemServer

from devtools.latency_proxy import LatencyProxy
from infrastructure.adapters.opensearch import OpenSearchIndex
from infrastructure.entrypoints.cli.main import main
from infrastructure.settings import (
    REFRESH,
    SEARCH,
    ConfigError,
    EmbeddedSearch,
    OpenSearchTarget,
    Settings,
)
from projections.query import SearchRequest
from tests.contract.search_index_contract import ADA, GRACE, USERS, user


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    with OsmemServer.start(japanese=False) as server:
        yield server


@pytest.fixture
def wire(compatible_server: OsmemServer) -> Iterator[LatencyProxy]:
    """A fresh cluster, reached through a proxy that keeps every request line."""
    with compatible_server.clone() as clone:
        parts = urlsplit(clone.url)
        with LatencyProxy((parts.hostname or "127.0.0.1", parts.port or 80)) as proxy:
            yield proxy


def open_index(proxy: LatencyProxy, environ: dict[str, str]) -> OpenSearchIndex:
    settings = Settings.from_environment({SEARCH: proxy.url, **environ})
    assert isinstance(settings.search, OpenSearchTarget)
    return OpenSearchIndex(settings.search, index_prefix=f"sf{uuid.uuid4().hex[:8]}")


def bulk_requests(proxy: LatencyProxy) -> list[str]:
    return [line for line in proxy.requests if "/_bulk" in line]


@pytest.mark.parametrize(
    ("environ", "sent"),
    [
        ({}, "refresh=false"),
        ({REFRESH: "false"}, "refresh=false"),
        ({REFRESH: "wait_for"}, "refresh=wait_for"),
    ],
)
def test_each_policy_reaches_the_bulk_request(
    wire: LatencyProxy, environ: dict[str, str], sent: str
) -> None:
    index = open_index(wire, environ)
    try:
        index.write([user(ADA, 1), user(GRACE, 1)])
    finally:
        index.close()

    bulks = bulk_requests(wire)
    assert len(bulks) == 1
    assert sent in bulks[0]


def test_without_waiting_a_command_refreshes_the_aliases_once_at_its_end(
    wire: LatencyProxy,
) -> None:
    index = open_index(wire, {REFRESH: "false"})
    try:
        index.write([user(ADA, 1)])
        index.write([user(GRACE, 1)])
        index.make_searchable()
        index.make_searchable()  # nothing written since: nothing to ask
        hits = index.search(USERS, SearchRequest(text="")).hits
    finally:
        index.close()

    refreshes = [line for line in wire.requests if "/_refresh" in line]
    assert len(refreshes) == 1
    assert f"/{index.alias_name(USERS)}*," in refreshes[0]
    assert {hit.id for hit in hits} == {ADA.user_id, GRACE.user_id}


def test_waiting_writes_need_no_refresh_at_the_end(wire: LatencyProxy) -> None:
    index = open_index(wire, {REFRESH: "wait_for"})
    try:
        index.write([user(ADA, 1)])
        index.make_searchable()
    finally:
        index.close()

    assert not [line for line in wire.requests if "/_refresh" in line]


def test_the_default_is_not_to_wait_on_opensearch_and_the_embedded_backend_keeps_its_rule(
    tmp_path: Path,
) -> None:
    opensearch = Settings.from_environment({SEARCH: "https://search.example.com"}).search
    embedded = Settings.from_environment({SEARCH: f"embedded:///{tmp_path}"}).search

    assert isinstance(opensearch, OpenSearchTarget) and opensearch.refresh == "false"
    assert isinstance(embedded, EmbeddedSearch)


@pytest.mark.parametrize("value", ["true", "wait-for", "1"])
def test_an_unknown_policy_is_refused_with_the_allowed_values(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_environment({SEARCH: "https://search.example.com", REFRESH: value})

    assert str(refused.value) == f"{REFRESH}={value!r}: use wait_for or false"


def test_the_command_line_names_the_variable_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv(REFRESH, "always")
    monkeypatch.setenv("STREAMFOLD_DATA_DIR", str(tmp_path))

    code = main(["count", "users"])

    err = capsys.readouterr().err
    assert code != 0
    assert err == f"streamfold: {REFRESH}='always': use wait_for or false\n"
