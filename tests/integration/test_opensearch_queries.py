"""The CRM's queries on the OpenSearch backend: the query contract.

Runs against the OpenSearch-compatible test server (``osmem-server``), one cluster for the
whole class: the queries only read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from osmem_server import OsmemServer

from infrastructure.adapters.opensearch import OpenSearchIndex
from infrastructure.settings import OpenSearchTarget
from projections.search import SearchService
from tests.contract.multilingual_contract import MULTILINGUAL, MultilingualContract
from tests.contract.query_contract import DATASET, QueryContract
from tests.contract.relevance_contract import CORPUS, RelevanceContract


class TestOpenSearchQueries(QueryContract):
    @pytest.fixture(scope="class")
    @classmethod
    def service(cls) -> Iterator[SearchService]:
        with OsmemServer.start(japanese=False) as server:
            target = OpenSearchTarget(server.url, "none")
            index = OpenSearchIndex(target, index_prefix=f"q{uuid.uuid4().hex[:8]}")
            index.write(DATASET)
            yield SearchService(index)
            index.close()


class TestOpenSearchMultilingual(MultilingualContract):
    @pytest.fixture(scope="class")
    @classmethod
    def service(cls) -> Iterator[SearchService]:
        with OsmemServer.start(japanese=False) as server:
            target = OpenSearchTarget(server.url, "none")
            index = OpenSearchIndex(target, index_prefix=f"m{uuid.uuid4().hex[:8]}")
            index.write(MULTILINGUAL)
            yield SearchService(index)
            index.close()


class TestOpenSearchRelevance(RelevanceContract):
    @pytest.fixture(scope="class")
    @classmethod
    def service(cls) -> Iterator[SearchService]:
        with OsmemServer.start(japanese=False) as server:
            target = OpenSearchTarget(server.url, "none")
            index = OpenSearchIndex(target, index_prefix=f"r{uuid.uuid4().hex[:8]}")
            index.write(CORPUS)
            yield SearchService(index)
            index.close()
