"""The OpenSearch search backend: the port's contract, plus what only it does.

Runs against the OpenSearch-compatible test server (``osmem-server``): one process per
module, a fresh copy-on-write clone of its cluster per test. Failures the test server
cannot produce on demand (throttling, outages) come from small local HTTP servers.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opensearchpy import OpenSearch, RequestError
from osmem_server import OsmemServer

from infrastructure.adapters.opensearch import OpenSearchIndex
from infrastructure.adapters.opensearch import search as opensearch_search
from infrastructure.adapters.opensearch.client import signing_region, signing_service, sigv4_auth
from infrastructure.adapters.opensearch.mappings import SCHEMA_VERSION
from infrastructure.settings import ConfigError, OpenSearchTarget
from projections.documents import DocumentChange
from projections.ports import SearchUnavailable
from projections.query import SearchRequest
from tests.contract.search_index_contract import (
    ADA,
    GRACE,
    IMAGES,
    SUNSET,
    USERS,
    SearchIndexContract,
    deletion,
    image,
    numbered_users,
    user,
)


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    """The OpenSearch-compatible test server, shared by the module's tests."""
    with OsmemServer.start(japanese=False) as server:
        yield server


@pytest.fixture
def cluster_url(compatible_server: OsmemServer) -> Iterator[str]:
    """A fresh, empty cluster for one test."""
    with compatible_server.clone() as clone:
        yield clone.url


@pytest.fixture
def prefix() -> str:
    return f"sf{uuid.uuid4().hex[:8]}"


@pytest.fixture
def raw(cluster_url: str) -> OpenSearch:
    """A plain client, to look at what the backend left in the cluster."""
    return OpenSearch(hosts=[cluster_url])


def open_index(url: str, prefix: str, **options: Any) -> OpenSearchIndex:
    return OpenSearchIndex(OpenSearchTarget(url, "none"), index_prefix=prefix, **options)


@pytest.fixture
def index(cluster_url: str, prefix: str) -> Iterator[OpenSearchIndex]:
    index = open_index(cluster_url, prefix)
    yield index
    index.close()


class TestOpenSearchIndex(SearchIndexContract):
    @pytest.fixture
    def index(self, cluster_url: str, prefix: str) -> Iterator[OpenSearchIndex]:
        index = open_index(cluster_url, prefix)
        yield index
        index.close()

    @pytest.fixture
    def second_instance(self, cluster_url: str, prefix: str) -> Iterator[OpenSearchIndex]:
        index = open_index(cluster_url, prefix)
        yield index
        index.close()


# -- layout: templates, versioned physical indices, aliases -------------------------------


def test_each_kind_lives_in_a_versioned_index_behind_an_alias(
    index: OpenSearchIndex, raw: OpenSearch, prefix: str
) -> None:
    index.write([user(ADA, 1)])

    for kind in (USERS, IMAGES):
        physical = f"{prefix}-{kind.value}-v{SCHEMA_VERSION}"
        aliases = raw.indices.get_alias(name=f"{prefix}-{kind.value}")
        assert list(aliases) == [physical]
        assert index.alias_target(kind) == physical
        mapping = raw.indices.get_mapping(index=physical)[physical]["mappings"]
        assert mapping["dynamic"] == "strict"
        template = raw.indices.get_index_template(name=f"{prefix}-{kind.value}")
        patterns = template["index_templates"][0]["index_template"]["index_patterns"]
        assert patterns == [f"{prefix}-{kind.value}-*"]


def test_the_mappings_type_every_document_field(
    index: OpenSearchIndex, raw: OpenSearch, prefix: str
) -> None:
    index.ensure_indices()

    users = raw.indices.get_mapping(index=f"{prefix}-users-v{SCHEMA_VERSION}")[
        f"{prefix}-users-v{SCHEMA_VERSION}"
    ]
    images = raw.indices.get_mapping(index=f"{prefix}-images-v{SCHEMA_VERSION}")[
        f"{prefix}-images-v{SCHEMA_VERSION}"
    ]
    fields = users["mappings"]["properties"]
    owner = images["mappings"]["properties"]["owner"]["properties"]
    assert fields["name"]["type"] == "text"
    assert fields["name"]["fields"]["keyword"]["type"] == "keyword"
    assert fields["plan"]["type"] == fields["country"]["type"] == "keyword"
    assert fields["created_at"]["type"] == "date"
    assert fields["marketing_opt_in"]["type"] == "boolean"
    assert fields["lifetime_value_cents"]["type"] == "long"
    assert fields["tombstone"]["type"] == "boolean"
    assert set(owner) == {"user_id", "name", "email", "plan", "country"}
    assert set(fields) - {"tombstone", "tombstoned_at"} == set(user(ADA, 1).body or {})
    assert set(images["mappings"]["properties"]) - {"tombstone", "tombstoned_at"} == set(
        image(SUNSET, 1).body or {}
    )


def test_ensure_indices_twice_is_harmless(
    index: OpenSearchIndex, raw: OpenSearch, cluster_url: str, prefix: str
) -> None:
    index.ensure_indices()
    index.write([user(ADA, 3)])

    index.ensure_indices()
    open_index(cluster_url, prefix).ensure_indices()

    names = sorted(entry["index"] for entry in raw.cat.indices(format="json"))
    assert names == [f"{prefix}-images-v{SCHEMA_VERSION}", f"{prefix}-users-v{SCHEMA_VERSION}"]
    assert index.alias_target(USERS) == f"{prefix}-users-v{SCHEMA_VERSION}"
    stored = index.get(USERS, ADA.user_id)
    assert stored is not None and stored.version == 3


def test_swap_alias_moves_the_alias_and_can_be_rolled_back(
    index: OpenSearchIndex, raw: OpenSearch, cluster_url: str, prefix: str
) -> None:
    other = open_index(cluster_url, prefix)
    index.write([user(ADA, 1)])
    index.create_physical_index(USERS, f"{prefix}-users-v{SCHEMA_VERSION + 1}")

    previous = index.swap_alias(USERS, f"{prefix}-users-v{SCHEMA_VERSION + 1}")

    assert previous == f"{prefix}-users-v{SCHEMA_VERSION}"
    aliases = raw.indices.get_alias(name=f"{prefix}-users")
    assert list(aliases) == [f"{prefix}-users-v{SCHEMA_VERSION + 1}"]
    assert "tombstone" in json.dumps(aliases[f"{prefix}-users-v{SCHEMA_VERSION + 1}"]["aliases"])
    assert other.count(USERS, SearchRequest()) == 0
    other.write([user(GRACE, 7)])
    assert index.get(USERS, GRACE.user_id) is not None
    assert index.swap_alias(USERS, previous) == f"{prefix}-users-v{SCHEMA_VERSION + 1}"
    assert [hit.id for hit in other.search(USERS, SearchRequest()).hits] == [ADA.user_id]


def test_swap_alias_never_leaves_the_alias_on_zero_or_two_indices(
    index: OpenSearchIndex, raw: OpenSearch, prefix: str
) -> None:
    index.ensure_indices()
    index.create_physical_index(USERS, f"{prefix}-users-v{SCHEMA_VERSION + 1}")
    alias = f"{prefix}-users"
    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(len(raw.indices.get_alias(name=alias)))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for generation in [SCHEMA_VERSION + 1, SCHEMA_VERSION] * 10:
            index.swap_alias(USERS, f"{prefix}-users-v{generation}")
    finally:
        done.set()
        watcher.join()

    assert seen and set(seen) == {1}
    assert index.alias_target(USERS) == f"{prefix}-users-v{SCHEMA_VERSION}"


def test_swap_alias_refuses_a_missing_index_or_one_of_another_kind(
    index: OpenSearchIndex, prefix: str
) -> None:
    index.write([user(ADA, 1)])

    with pytest.raises(SearchUnavailable, match=f"{prefix}-users-v9"):
        index.swap_alias(USERS, f"{prefix}-users-v9")
    with pytest.raises(SearchUnavailable, match="holds images documents"):
        index.swap_alias(USERS, f"{prefix}-images-v{SCHEMA_VERSION}")

    assert index.alias_target(USERS) == f"{prefix}-users-v{SCHEMA_VERSION}"


def test_a_reader_of_a_set_up_cluster_only_reads(
    index: OpenSearchIndex, cluster_url: str, prefix: str
) -> None:
    index.write([user(ADA, 1)])

    with _ThrottlingProxy(cluster_url, throttled=set(), times=0) as proxy:
        reader = open_index(proxy.url, prefix)
        assert reader.count(USERS, SearchRequest()) == 1
        assert reader.search(USERS, SearchRequest(text="ada")).total == 1
        assert reader.get(USERS, ADA.user_id) is not None

    assert {method for method, _ in proxy.requests} <= {"GET", "POST"}
    assert not [path for _, path in proxy.requests if "_template" in path]


def test_a_deleted_index_is_recreated_by_the_next_write(
    index: OpenSearchIndex, raw: OpenSearch, prefix: str
) -> None:
    index.write([user(ADA, 1)])
    raw.indices.delete(index=f"{prefix}-users-v{SCHEMA_VERSION}")

    outcome = index.write([user(GRACE, 2)])

    assert outcome.written == 1
    assert index.alias_target(USERS) == f"{prefix}-users-v{SCHEMA_VERSION}"
    assert index.get(USERS, GRACE.user_id) is not None


# -- versioned writes, strict mappings, tombstones ---------------------------------------


def test_an_unknown_field_is_a_permanent_failure_and_the_rest_is_written(
    index: OpenSearchIndex,
) -> None:
    good = user(GRACE, 4)
    body = {**(user(ADA, 4).body or {}), "nickname": "Countess"}
    bad = DocumentChange(USERS, ADA.user_id, 4, body)

    outcome = index.write([bad, good])

    assert (outcome.written, outcome.stale_writes_rejected) == (1, 0)
    assert [failure.change for failure in outcome.failed] == [bad]
    assert "strict_dynamic_mapping_exception" in outcome.failed[0].reason
    assert "nickname" in outcome.failed[0].reason
    assert index.get(USERS, ADA.user_id) is None
    assert index.get(USERS, GRACE.user_id) is not None


def test_a_value_of_the_wrong_shape_is_kept_but_not_indexed(index: OpenSearchIndex) -> None:
    odd = user(ADA, 1, created_at="sometime in 2024")

    outcome = index.write([odd])

    assert outcome.written == 1
    stored = index.get(USERS, ADA.user_id)
    assert stored is not None and stored.body == odd.body


def test_version_conflicts_count_as_stale_and_never_as_failures(index: OpenSearchIndex) -> None:
    index.write([user(ADA, 5), user(GRACE, 5)])

    outcome = index.write([user(ADA, 3), user(GRACE, 5), deletion(USERS, ADA.user_id, 4)])

    assert (outcome.written, outcome.stale_writes_rejected, outcome.failed) == (0, 3, [])


def test_a_tombstone_outlives_gc_deletes_and_blocks_an_older_write(
    index: OpenSearchIndex, raw: OpenSearch, prefix: str
) -> None:
    index.write([user(ADA, 5)])
    physical = f"{prefix}-users-v{SCHEMA_VERSION}"
    # A real delete's version is forgotten after gc_deletes (or a restart); not a tombstone's.
    raw.indices.put_settings(index=physical, body={"index": {"gc_deletes": "0s"}})
    index.write([deletion(USERS, ADA.user_id, 8)])
    time.sleep(1.2)

    outcome = index.write([user(ADA, 6)])

    assert (outcome.written, outcome.stale_writes_rejected) == (0, 1)
    stored = raw.get(index=physical, id=ADA.user_id)
    assert stored["_version"] == 8
    assert stored["_source"]["tombstone"] is True


def test_tombstones_are_hidden_from_anyone_reading_the_alias(
    index: OpenSearchIndex, raw: OpenSearch, prefix: str
) -> None:
    index.write([user(ADA, 1), user(GRACE, 1)])
    index.write([deletion(USERS, ADA.user_id, 2)])

    found = raw.search(index=f"{prefix}-users", body={"query": {"match_all": {}}})

    assert [hit["_id"] for hit in found["hits"]["hits"]] == [GRACE.user_id]
    assert raw.count(index=f"{prefix}-users")["count"] == 1


def test_a_body_using_the_tombstone_marker_is_refused(index: OpenSearchIndex) -> None:
    body = {**(user(ADA, 1).body or {}), "tombstone": True}

    outcome = index.write([DocumentChange(USERS, ADA.user_id, 1, body)])

    assert outcome.written == 0
    assert "reserved" in outcome.failed[0].reason


# -- queries -----------------------------------------------------------------------------


def test_highlights_are_keyed_by_the_document_field(index: OpenSearchIndex) -> None:
    index.write([user(GRACE, 1)])

    hit = index.search(USERS, SearchRequest(text="us compilers")).hits[0]

    assert hit.highlight["country"] == ["<em>US</em>"]
    assert hit.highlight["tags"] == ["<em>compilers</em>"]


def test_an_export_reads_every_match_across_several_chunks(
    index: OpenSearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opensearch_search, "EXPORT_CHUNK", 7)
    index.write(numbered_users(30))
    index.write([deletion(USERS, "u-007", 2)])

    page = index.search(USERS, SearchRequest(every_document=True))
    ranked = index.search(USERS, SearchRequest(text="member", every_document=True))

    expected = [f"u-{n:03d}" for n in range(30) if n != 7]
    assert page.total == 29
    assert [hit.id for hit in page.hits] == expected
    assert sorted(hit.id for hit in ranked.hits) == expected
    assert all(hit.score is not None for hit in ranked.hits)


def test_an_export_works_on_a_cluster_without_point_in_time(
    cluster_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opensearch_search, "EXPORT_CHUNK", 4)
    index = open_index(cluster_url, prefix, client=_ClientWithoutPointInTime(hosts=[cluster_url]))
    index.write(numbered_users(10))

    page = index.search(USERS, SearchRequest(every_document=True))

    assert [hit.id for hit in page.hits] == [f"u-{n:03d}" for n in range(10)]


def test_the_deepest_page_a_request_may_ask_for_is_answered(index: OpenSearchIndex) -> None:
    index.write(numbered_users(3))

    page = index.search(USERS, SearchRequest(offset=10_000, size=100))

    assert (page.total, page.hits) == (3, [])


# -- failures, retries and connection settings -------------------------------------------


def test_a_throttled_item_is_retried_alone_until_written(cluster_url: str, prefix: str) -> None:
    with _ThrottlingProxy(cluster_url, throttled={"u-001"}, times=2) as proxy:
        index = open_index(proxy.url, prefix)

        outcome = index.write(numbered_users(3))

    assert (outcome.written, outcome.stale_writes_rejected, outcome.failed) == (3, 0, [])
    assert proxy.bulk_ids == [["u-000", "u-001", "u-002"], ["u-001"], ["u-001"]]
    stored = open_index(cluster_url, prefix).get(USERS, "u-001")
    assert stored is not None and stored.version == 1


def test_an_overloaded_cluster_is_retried_then_unavailable_within_the_budget(
    prefix: str,
) -> None:
    with _FailingServer(status=503) as server:
        index = open_index(server.url, prefix, retry_budget=1.0)
        started = time.monotonic()

        with pytest.raises(SearchUnavailable) as raised:
            index.write([user(ADA, 1)])

        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert server.requests >= 3
    message = str(raised.value)
    assert server.url in message and "503" in message and "\n" not in message


def test_the_callers_deadline_bounds_the_retries(prefix: str) -> None:
    with _FailingServer(status=429) as server:
        index = open_index(server.url, prefix)
        index.deadline = time.monotonic() + 0.6
        started = time.monotonic()

        with pytest.raises(SearchUnavailable):
            index.search(USERS, SearchRequest(text="ada"))

        assert time.monotonic() - started < 1.5
        assert server.requests >= 2


def test_a_refused_connection_names_the_url_and_never_the_password(prefix: str) -> None:
    port = _closed_port()
    target = OpenSearchTarget(f"http://crm:s3cret-pw@127.0.0.1:{port}", "basic")
    index = OpenSearchIndex(target, index_prefix=prefix, retry_budget=0.5)

    with pytest.raises(SearchUnavailable) as raised:
        index.write([user(ADA, 1)])

    message = str(raised.value)
    assert f"http://127.0.0.1:{port}" in message
    assert "connection refused" in message and "STREAMFOLD_SEARCH" in message
    assert "\n" not in message
    for text in (message, repr(raised.value), repr(index)):
        assert "s3cret" not in text and "crm:" not in text
    assert raised.value.__cause__ is None and raised.value.__context__ is None


def test_basic_auth_needs_a_user_and_password(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMFOLD_OPENSEARCH_USER", raising=False)
    monkeypatch.delenv("STREAMFOLD_OPENSEARCH_PASSWORD", raising=False)

    with pytest.raises(ConfigError, match="STREAMFOLD_OPENSEARCH_USER"):
        OpenSearchIndex(OpenSearchTarget("https://search.example.com", "basic"), prefix)

    monkeypatch.setenv("STREAMFOLD_OPENSEARCH_USER", "crm")
    monkeypatch.setenv("STREAMFOLD_OPENSEARCH_PASSWORD", "s3cret-pw")
    index = OpenSearchIndex(OpenSearchTarget("https://search.example.com", "basic"), prefix)
    assert "s3cret" not in repr(index)


def test_sigv4_signs_for_the_region_and_service_in_the_host_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-key-example")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    domain = "search-crm-abc123.eu-west-1.es.amazonaws.com"
    collection = "k3x9.ap-southeast-2.aoss.amazonaws.com"

    assert (signing_service(domain), signing_region(domain, {})) == ("es", "eu-west-1")
    assert (signing_service(collection), signing_region(collection, {})) == (
        "aoss",
        "ap-southeast-2",
    )
    assert signing_region("search.internal.example.com", {"AWS_REGION": "us-east-1"}) == (
        "us-east-1"
    )
    signer = sigv4_auth(collection, {})
    assert (signer.signer.service, signer.signer.region) == ("aoss", "ap-southeast-2")


# -- helpers -----------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _ClientWithoutPointInTime(OpenSearch):
    """Answers the request to open a point in time like Elasticsearch does."""

    def create_pit(self, *args: Any, **kwargs: Any) -> Any:
        error = {"type": "illegal_argument_exception", "reason": "no handler found for uri"}
        raise RequestError(400, "illegal_argument_exception", {"error": error})


class _LocalServer:
    """A tiny HTTP server on 127.0.0.1 in a background thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class _FailingServer(_LocalServer):
    """Answers every request with the same error status, counting them."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.requests = 0
        super().__init__(_FailingHandler)


class _FailingHandler(_QuietHandler):
    def _fail(self) -> None:
        owner: _FailingServer = self.server.owner  # type: ignore[attr-defined]
        owner.requests += 1
        self._body()
        error = {"type": "overloaded", "reason": "the test cluster refuses work"}
        self._answer(owner.status, json.dumps({"error": error, "status": owner.status}).encode())

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _fail


class _ThrottlingProxy(_LocalServer):
    """Forwards to a cluster, but answers 429 for some documents of the first bulk requests."""

    def __init__(self, upstream: str, throttled: set[str], times: int) -> None:
        self.upstream = upstream
        self.throttled = throttled
        self.times = times
        self.bulk_ids: list[list[str]] = []
        self.requests: list[tuple[str, str]] = []
        super().__init__(_ThrottlingHandler)


class _ThrottlingHandler(_QuietHandler):
    def _forward(self, body: bytes | None = None) -> tuple[int, bytes]:
        owner: _ThrottlingProxy = self.server.owner  # type: ignore[attr-defined]
        request = urllib.request.Request(
            owner.upstream + self.path,
            data=body,
            method=self.command,
            headers={"Content-Type": self.headers.get("Content-Type", "application/json")},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _relay(self) -> None:
        owner: _ThrottlingProxy = self.server.owner  # type: ignore[attr-defined]
        owner.requests.append((self.command, self.path.split("?")[0]))
        body = self._body() or None
        if self.path.split("?")[0].endswith("/_bulk") and body:
            self._answer(200, self._bulk(body))
        else:
            self._answer(*self._forward(body))

    def _bulk(self, body: bytes) -> bytes:
        owner: _ThrottlingProxy = self.server.owner  # type: ignore[attr-defined]
        lines = body.splitlines()
        pairs = list(zip(lines[::2], lines[1::2], strict=True))
        ids = [json.loads(meta)["index"]["_id"] for meta, _ in pairs]
        owner.bulk_ids.append(ids)
        throttle = owner.times > 0
        owner.times -= 1
        held = owner.throttled if throttle else set()
        passed = [pair for pair, doc_id in zip(pairs, ids, strict=True) if doc_id not in held]
        forwarded: list[Any] = []
        if passed:
            status, answer = self._forward(b"".join(m + b"\n" + d + b"\n" for m, d in passed))
            assert status == 200, answer
            forwarded = json.loads(answer)["items"]
        items = []
        for doc_id in ids:
            if doc_id in held:
                error = {"type": "es_rejected_execution_exception", "reason": "queue full"}
                items.append({"index": {"_id": doc_id, "status": 429, "error": error}})
            else:
                items.append(forwarded.pop(0))
        return json.dumps({"errors": True, "items": items, "took": 1}).encode()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay
