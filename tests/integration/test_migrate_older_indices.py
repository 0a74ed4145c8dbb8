"""Indices made by an earlier version of the code, and how today's code lives with them.

The helpers here install, behind a kind's alias, a physical index as an earlier release
would have created it (a field fewer or more, another type, another analyzer, an older
projection version), on the embedded backend and on the OpenSearch-compatible test
server. The migration tests start from them; the tests here check that such an index
keeps serving and taking live writes until a migration replaces it.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tantivy
from opensearchpy import OpenSearch
from osmem_server import OsmemServer

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.embedded.aliases import AliasTable
from infrastructure.adapters.embedded.catalog import ALIAS_FILE
from infrastructure.adapters.embedded.schema import (
    ABSENT,
    BODY,
    DELETED,
    ID,
    ID_ORDER,
    PRESENT,
    TEXT_TOKENIZER,
    VERSION,
    FieldRole,
    kind_schema,
)
from infrastructure.adapters.index_definitions.embedded import record_version
from infrastructure.adapters.opensearch.mappings import index_body, live_documents
from infrastructure.composition import Streamfold
from infrastructure.settings import (
    EmbeddedSearch,
    EventStoreTarget,
    OpenSearchTarget,
    Settings,
    SQLiteStore,
)
from projections.documents import DocumentKind
from projections.query import SearchRequest
from projections.versions import projection_version
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.reference import expected_documents

BACKENDS = ["embedded", "opensearch"]


@dataclass(frozen=True)
class Earlier:
    """How an earlier release's index of a kind differs from today's.

    Fields are named by their body path: ``drop`` ones it lacks, ``extra`` ones it has
    (integers today's code no longer renders), ``as_text`` integers it held as text, and
    ``analyzer`` text fields analyzed otherwise (an OpenSearch analyzer, or a tantivy
    tokenizer on the embedded backend). ``projection`` is the version it records.
    """

    projection: int | None = None  # default: the code's
    drop: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    as_text: tuple[str, ...] = ()
    analyzer: Mapping[str, str] = field(default_factory=dict)

    def version(self, kind: DocumentKind) -> int:
        return projection_version(kind) if self.projection is None else self.projection


# -- embedded -------------------------------------------------------------------------------


def earlier_tantivy_schema(kind: DocumentKind, earlier: Earlier) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field(VERSION, stored=True, indexed=True, fast=True)
    builder.add_boolean_field(DELETED, stored=True, indexed=True, fast=True)
    builder.add_bytes_field(BODY, stored=True)
    builder.add_text_field(PRESENT, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(ABSENT, tokenizer_name="raw", index_option="basic")
    for name in ID_ORDER:
        builder.add_unsigned_field(name, fast=True)
    for indexed in kind_schema(kind).fields:
        if indexed.source in earlier.drop:
            continue
        role = indexed.role
        if indexed.source in earlier.as_text and role is FieldRole.INTEGER:
            builder.add_text_field(indexed.name, tokenizer_name="raw", index_option="basic")
        elif role is FieldRole.TEXT:
            tokenizer = earlier.analyzer.get(indexed.source, TEXT_TOKENIZER)
            builder.add_text_field(indexed.name, tokenizer_name=tokenizer, index_option="position")
        elif role is FieldRole.KEYWORD:
            builder.add_text_field(
                indexed.name, fast=True, tokenizer_name="raw", index_option="basic"
            )
        elif role in (FieldRole.INTEGER, FieldRole.DATE):
            builder.add_integer_field(indexed.name, indexed=True, fast=True)
        elif role is FieldRole.ORDER:
            builder.add_unsigned_field(indexed.name, fast=True)
        else:
            builder.add_boolean_field(indexed.name, indexed=True, fast=True)
    for name in earlier.extra:
        builder.add_integer_field(name, indexed=True, fast=True)
    return builder.build()


def install_earlier_embedded(
    directory: Path, prefix: str, kind: DocumentKind, earlier: Earlier
) -> str:
    name = f"{prefix}-{kind.value}-earlier"
    path = directory / name
    path.mkdir(parents=True)
    tantivy.Index(earlier_tantivy_schema(kind, earlier), path=str(path))
    record_version(path, kind, earlier.version(kind))
    AliasTable(directory / ALIAS_FILE).point(f"{prefix}-{kind.value}", name)
    return name


# -- OpenSearch -----------------------------------------------------------------------------


def earlier_body(kind: DocumentKind, earlier: Earlier) -> dict[str, Any]:
    body = copy.deepcopy(index_body(kind))
    properties = body["mappings"]["properties"]
    for name in earlier.drop:
        del properties[name]
    for name in earlier.extra:
        properties[name] = {"type": "long"}
    for name in earlier.as_text:
        properties[name] = {"type": "keyword"}
    for name, analyzer in earlier.analyzer.items():
        properties[name]["analyzer"] = analyzer
    body["mappings"]["_meta"]["projection_version"] = earlier.version(kind)
    return body


def install_earlier_opensearch(url: str, prefix: str, kind: DocumentKind, earlier: Earlier) -> str:
    name = f"{prefix}-{kind.value}-earlier"
    client = OpenSearch(hosts=[url])
    client.indices.create(index=name, body=earlier_body(kind, earlier))
    alias = {"index": name, "alias": f"{prefix}-{kind.value}", "filter": live_documents()}
    client.indices.update_aliases(body={"actions": [{"add": alias}]})
    client.close()
    return name


# -- one installation, either backend ---------------------------------------------------------


@dataclass
class Installation:
    """Settings of one event store and one search backend, and the earlier indices in it."""

    backend: str
    settings: Settings
    url: str | None = None  # of the test server, for OpenSearch

    @property
    def prefix(self) -> str:
        return self.settings.index_prefix

    def install_earlier(self, kind: DocumentKind, earlier: Earlier) -> str:
        """Put an earlier release's index behind the kind's alias (before any write)."""
        if self.url is not None:
            return install_earlier_opensearch(self.url, self.prefix, kind, earlier)
        assert isinstance(self.settings.search, EmbeddedSearch)
        return install_earlier_embedded(self.settings.search.directory, self.prefix, kind, earlier)

    def open(self) -> Streamfold:
        return Streamfold.from_settings(self.settings)

    def environment(self) -> dict[str, str]:
        """The same installation as ``STREAMFOLD_*`` variables, for the command line."""
        from tests.conftest import event_store_url

        search = self.url or f"embedded:///{self.settings.search.directory}"  # type: ignore[union-attr]
        return {
            "STREAMFOLD_EVENT_STORE": event_store_url(self.settings.event_store),
            "STREAMFOLD_SEARCH": search,
            "STREAMFOLD_INDEX_PREFIX": self.prefix,
        }


def installation(
    backend: str, event_store: EventStoreTarget, directory: Path, url: str | None
) -> Installation:
    prefix = f"sf{uuid.uuid4().hex[:8]}"
    if backend == "opensearch":
        assert url is not None
        search: Any = OpenSearchTarget(url, "none")
    else:
        search, url = EmbeddedSearch(directory / "index"), None
    return Installation(backend, Settings(event_store, search, {}, prefix), url)


def running_compatible_server() -> Iterator[OsmemServer]:
    """The OpenSearch-compatible test server (for a module-scoped fixture)."""
    with OsmemServer.start(japanese=False) as server:
        yield server


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    """The OpenSearch-compatible test server, shared by the module's tests."""
    yield from running_compatible_server()


@pytest.fixture
def cluster_url(compatible_server: OsmemServer) -> Iterator[str]:
    """A fresh, empty cluster for one test."""
    with compatible_server.clone() as clone:
        yield clone.url


def ingest(app: Streamfold, events: list[dict[str, Any]]) -> None:
    for event in events:
        assert app.ingestion.handle(event).failed == []


# -- tests --------------------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def earlier_install(
    request: pytest.FixtureRequest, tmp_path: Path, compatible_server: OsmemServer
) -> Iterator[Installation]:
    with compatible_server.clone() as clone:
        yield installation(request.param, SQLiteStore(tmp_path / "events.db"), tmp_path, clone.url)


def test_an_earlier_index_keeps_answering_and_taking_writes_until_it_is_replaced(
    earlier_install: Installation,
) -> None:
    # The earlier release indexed likes_given as text and lacked image_count: today's
    # documents still land in it, and queries on what it has keep working.
    earlier = Earlier(as_text=("likes_given",), analyzer={"bio": "standard"})
    if earlier_install.backend == "embedded":
        earlier = Earlier(drop=("image_count",), analyzer={"bio": "en_stem"})
    earlier_install.install_earlier(DocumentKind.USERS, earlier)
    workload = CrmWorkload(seed=31, users=20)
    with earlier_install.open() as app:
        ingest(app, lambda_events(workload.records, batch_size=100))
        assert_same_documents(searchable_documents(app), expected_documents(workload.final_items()))
        name = next(iter(searchable_documents(app)["users"].values()))["name"]
        found = app.search.search(DocumentKind.USERS, SearchRequest(text=name.split()[0]))
        assert found.total >= 1


def test_a_field_the_earlier_index_lacks_is_a_query_to_correct_until_the_migration(
    tmp_path: Path,
) -> None:
    from projections.query import QueryError, SortKey

    install = installation("embedded", SQLiteStore(tmp_path / "events.db"), tmp_path, None)
    install.install_earlier(DocumentKind.USERS, Earlier(projection=1, drop=("likes_given",)))
    workload = CrmWorkload(seed=32, users=10)
    by_likes = SearchRequest(sort=[SortKey(field="likes_given", order="desc")])
    with install.open() as app:
        ingest(app, lambda_events(workload.records, batch_size=200))
        with pytest.raises(QueryError, match="likes_given is not indexed yet"):
            app.search.search(DocumentKind.USERS, by_likes)

        app.migration().run([DocumentKind.USERS])

        hits = app.search.search(DocumentKind.USERS, by_likes).hits
        given = [hit.source["likes_given"] for hit in hits]
        assert given == sorted(given, reverse=True) and len(hits) > 1
