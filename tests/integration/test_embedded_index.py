"""The embedded (tantivy) search backend: the port's contract, plus what only it does."""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.adapters.embedded import search as embedded_search
from infrastructure.adapters.embedded.schema import SCHEMA_VERSION
from projections.documents import DocumentChange
from projections.ports import SearchUnavailable
from projections.query import SearchRequest
from tests.contract.search_index_contract import (
    ADA,
    IMAGES,
    USERS,
    SearchIndexContract,
    numbered_users,
    user,
)


class TestEmbeddedSearchIndex(SearchIndexContract):
    @pytest.fixture
    def index(self, tmp_path: Path) -> Iterator[EmbeddedSearchIndex]:
        index = EmbeddedSearchIndex(tmp_path / "search")
        yield index
        index.close()

    @pytest.fixture
    def second_instance(self, tmp_path: Path) -> Iterator[EmbeddedSearchIndex]:
        index = EmbeddedSearchIndex(tmp_path / "search")
        yield index
        index.close()


def test_each_kind_lives_in_a_versioned_index_behind_an_alias(tmp_path: Path) -> None:
    index = EmbeddedSearchIndex(tmp_path / "search", index_prefix="crm")

    index.write([user(ADA, 1)])

    aliases = json.loads((tmp_path / "search" / "aliases.json").read_text())
    assert aliases == {
        "crm-users": f"crm-users-v{SCHEMA_VERSION}",
        "crm-images": f"crm-images-v{SCHEMA_VERSION}",
    }
    assert (tmp_path / "search" / f"crm-users-v{SCHEMA_VERSION}" / "meta.json").is_file()
    assert index.alias_target(USERS) == f"crm-users-v{SCHEMA_VERSION}"


def test_swapping_the_alias_redirects_every_instance_and_can_be_rolled_back(
    tmp_path: Path,
) -> None:
    index = EmbeddedSearchIndex(tmp_path / "search")
    other = EmbeddedSearchIndex(tmp_path / "search")
    index.write([user(ADA, 1)])
    index.create_physical_index(USERS, "streamfold-users-next")

    previous = index.swap_alias(USERS, "streamfold-users-next")

    assert previous == f"streamfold-users-v{SCHEMA_VERSION}"
    assert other.count(USERS, SearchRequest()) == 0
    other.write([user(ADA, 7, user_id="u-new")])
    assert index.get(USERS, "u-new") is not None

    index.swap_alias(USERS, previous)

    assert other.alias_target(USERS) == f"streamfold-users-v{SCHEMA_VERSION}"
    assert [hit.id for hit in other.search(USERS, SearchRequest()).hits] == [ADA.user_id]


def test_the_alias_cannot_point_at_a_missing_index(tmp_path: Path) -> None:
    index = EmbeddedSearchIndex(tmp_path / "search")
    index.write([user(ADA, 1)])

    with pytest.raises(SearchUnavailable, match="streamfold-users-v9"):
        index.swap_alias(USERS, "streamfold-users-v9")

    assert index.alias_target(USERS) == f"streamfold-users-v{SCHEMA_VERSION}"


def test_an_export_reads_every_match_across_several_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded_search, "EXPORT_CHUNK", 7)
    index = EmbeddedSearchIndex(tmp_path / "search")
    index.write(numbered_users(30))

    page = index.search(USERS, SearchRequest(every_document=True))
    ranked = index.search(USERS, SearchRequest(text="member", every_document=True))

    assert page.total == 30
    assert [hit.id for hit in page.hits] == [f"u-{n:03d}" for n in range(30)]
    assert sorted(hit.id for hit in ranked.hits) == [f"u-{n:03d}" for n in range(30)]


def test_a_body_that_cannot_be_serialized_is_a_permanent_failure(tmp_path: Path) -> None:
    index = EmbeddedSearchIndex(tmp_path / "search")
    broken = DocumentChange(USERS, "u-broken", 1, {"user_id": "u-broken", "tags": {1, 2}})

    outcome = index.write([broken, user(ADA, 1)])

    assert outcome.written == 1
    assert [failure.change for failure in outcome.failed] == [broken]
    assert "JSON" in outcome.failed[0].reason
    assert index.get(USERS, "u-broken") is None


def test_a_closed_index_opens_its_indexes_again_when_used(tmp_path: Path) -> None:
    index = EmbeddedSearchIndex(tmp_path / "search")
    index.write([user(ADA, 1)])

    index.close()

    assert index.count(USERS, SearchRequest()) == 1
    assert index.write([user(ADA, 2)]).written == 1


def test_an_unusable_directory_makes_the_index_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    index = EmbeddedSearchIndex(blocker / "search")

    with pytest.raises(SearchUnavailable, match="cannot write") as raised:
        index.write([user(ADA, 1)])
    with pytest.raises(SearchUnavailable, match="cannot search"):
        index.search(USERS, SearchRequest())

    assert "\n" not in str(raised.value)


def test_highlights_name_a_nested_field_by_its_dotted_path(tmp_path: Path) -> None:
    index = EmbeddedSearchIndex(tmp_path / "search")
    body = {"image_id": "i-1", "title": "Untitled", "owner": {"name": "Zélie Dupont"}}
    index.write([DocumentChange(IMAGES, "i-1", 1, body)])

    hits = index.search(IMAGES, SearchRequest(text="zelie")).hits

    assert [hit.highlight for hit in hits] == [{"owner.name": ["<em>Zélie</em> Dupont"]}]


def test_a_long_text_is_highlighted_as_escaped_fragments_around_the_matches(
    tmp_path: Path,
) -> None:
    index = EmbeddedSearchIndex(tmp_path / "search")
    filler = " ".join(["lorem"] * 60)
    bio = f"Shoots <b>landscapes</b> {filler} and more landscapes {filler} the end"
    index.write([user(ADA, 1, bio=bio)])

    hit = index.search(USERS, SearchRequest(text="landscape")).hits[0]

    fragments = hit.highlight["bio"]
    assert len(fragments) == 2
    assert fragments[0].startswith("Shoots &lt;b&gt;<em>landscapes</em>&lt;/b&gt; lorem")
    assert "more <em>landscapes</em> lorem" in fragments[1]
    assert all(len(fragment) < 200 for fragment in fragments)


IDS = [f"u-{n:02d}" for n in range(20)]
ROUNDS = 15


def _write_versions(
    directory: str, parity: int, start: multiprocessing.synchronize.Barrier
) -> None:
    index = EmbeddedSearchIndex(Path(directory))
    start.wait(timeout=60)  # both processes are up: their writes overlap
    versions = range(1 + parity, ROUNDS * 2 + 1, 2)  # one process odd versions, one even
    for version in versions:
        batch = [user(ADA, version, user_id=doc_id, bio=f"version {version}") for doc_id in IDS]
        index.write(batch)
    index.close()


def test_two_processes_writing_the_same_ids_keep_the_highest_versions(tmp_path: Path) -> None:
    directory = tmp_path / "search"
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [
        context.Process(target=_write_versions, args=(str(directory), parity, start))
        for parity in (0, 1)
    ]
    for writer in writers:
        writer.start()
    try:
        for writer in writers:
            writer.join(timeout=120)
    finally:
        for writer in writers:
            if writer.is_alive():
                writer.kill()

    assert [writer.exitcode for writer in writers] == [0, 0]
    index = EmbeddedSearchIndex(directory)
    highest = ROUNDS * 2
    for doc_id in IDS:
        stored = index.get(USERS, doc_id)
        assert stored is not None and stored.body is not None
        assert (stored.version, stored.body["bio"]) == (highest, f"version {highest}")
    assert index.count(USERS, SearchRequest()) == len(IDS)
