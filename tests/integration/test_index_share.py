"""The pipeline benchmark's replay of its writes in tantivy alone, on real index files."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import tantivy

from devtools.benchmarks.index_share import RecordingIndex, replay_in_tantivy
from infrastructure.adapters.embedded.schema import ID
from tests.contract.search_index_contract import USERS, deletion, numbered_users


@pytest.fixture
def recorded(tmp_path: Path) -> RecordingIndex:
    index = RecordingIndex(tmp_path / "live")
    first = numbered_users(5, version=1)
    index.write(first)
    # The second write replaces two users, one of them twice in the batch, and deletes one.
    index.write([*numbered_users(2, version=2), *numbered_users(1, version=3)])
    index.write([deletion(USERS, first[4].doc_id, 4)])
    index.close()
    return index


def test_the_recording_index_keeps_each_write_as_encoded(recorded: RecordingIndex) -> None:
    # The newest change of each document, as the backend encoded it for tantivy.
    assert [len(write[USERS]) for write in recorded.writes] == [5, 2, 1]
    assert all(set(write) == {USERS} for write in recorded.writes)
    second = dict(recorded.writes[1][USERS])
    assert orjson.loads(second["u-000"])["version"] == 3


@pytest.mark.parametrize("minimal", [False, True])
def test_the_replay_applies_the_same_writes_as_the_backend(
    recorded: RecordingIndex, tmp_path: Path, minimal: bool
) -> None:
    seconds = replay_in_tantivy(recorded.writes, tmp_path / "replay", minimal=minimal)

    assert seconds > 0
    users = tantivy.Index.open(str(tmp_path / "replay" / "users"))
    searcher = users.searcher()
    # Replaced ids were deleted first: each of the five is held once (one as a tombstone).
    assert searcher.num_docs == 5
    for doc_id in {doc_id for write in recorded.writes for doc_id, _ in write[USERS]}:
        query = tantivy.Query.term_query(users.schema, ID, doc_id)
        assert len(searcher.search(query, limit=2).hits) == 1
    images = tantivy.Index.open(str(tmp_path / "replay" / "images"))
    assert images.searcher().num_docs == 0
