"""The CRM's queries on the embedded (tantivy) backend: the query contract, and byte order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.adapters.embedded.byte_order import strings_beyond
from infrastructure.adapters.embedded.schema import kind_schema
from projections.documents import DocumentChange
from projections.search import SearchService
from tests.contract.multilingual_contract import MULTILINGUAL, MultilingualContract
from tests.contract.query_contract import DATASET, IMAGES, QueryContract
from tests.contract.relevance_contract import CORPUS, RelevanceContract


class TestEmbeddedQueries(QueryContract):
    @pytest.fixture(scope="class")
    @classmethod
    def service(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
        index = EmbeddedSearchIndex(tmp_path_factory.mktemp("queries") / "search")
        # Two commits, so that the queries also run across several segments.
        index.write(DATASET[: len(DATASET) // 2])
        index.write(DATASET[len(DATASET) // 2 :])
        yield SearchService(index)
        index.close()


# -- byte order, which tantivy's range queries do not offer ---------------------------------

PREFIX = "Photography of mountains at dawn"  # exactly 32 bytes: the order fields' reach
TITLES = [
    "",
    "a",
    "Ab",
    "Zoë",
    "Zoe",
    "ünï",
    "日本の山",
    "x" * 7,
    "x" * 8,
    "x" * 9,
    "x" * 16,
    "x" * 17,
    PREFIX,
    PREFIX[:-1],
    PREFIX + " in Iceland",
    PREFIX + " in Norway",
    PREFIX + "!",
    PREFIX + "é",
    PREFIX[:-1] + "ö in Peru",
    "Photography of mountains at dawn, again",
    "Mountain lake",
    "Mountain lake reflection",
    "Mountains",
]


@pytest.fixture(scope="module")
def titled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedSearchIndex]:
    index = EmbeddedSearchIndex(tmp_path_factory.mktemp("titles") / "search")
    changes = [
        DocumentChange(IMAGES, f"i-{n:02d}", 1, {"image_id": f"i-{n:02d}", "title": title})
        for n, title in enumerate(TITLES)
    ]
    index.write(changes)
    yield index
    index.close()


@pytest.mark.parametrize("descending", [False, True])
def test_string_ranges_follow_byte_order_even_past_32_bytes(
    titled: EmbeddedSearchIndex, descending: bool
) -> None:
    schema = kind_schema(IMAGES)
    searcher = titled._catalog.resolve(IMAGES).searcher()
    parts = tuple(f.name for f in schema.order_fields("title"))

    for value in TITLES:
        query = strings_beyond(schema, "title_keyword", parts, value, descending)
        found = {
            searcher.doc(address).get_first("id")
            for _, address in searcher.search(query, limit=100).hits
        }
        expected = {
            f"i-{n:02d}"
            for n, title in enumerate(TITLES)
            if (title.encode() < value.encode() if descending else title.encode() > value.encode())
        }
        assert found == expected, value


class TestEmbeddedMultilingual(MultilingualContract):
    @pytest.fixture(scope="class")
    @classmethod
    def service(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
        index = EmbeddedSearchIndex(tmp_path_factory.mktemp("multilingual") / "search")
        index.write(MULTILINGUAL)
        yield SearchService(index)
        index.close()


class TestEmbeddedRelevance(RelevanceContract):
    @pytest.fixture(scope="class")
    @classmethod
    def service(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
        index = EmbeddedSearchIndex(tmp_path_factory.mktemp("relevance") / "search")
        index.write(CORPUS)
        yield SearchService(index)
        index.close()
