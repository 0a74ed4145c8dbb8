"""The version guard of the embedded index: each id is checked against its own stored version."""

from __future__ import annotations

import json
from pathlib import Path

import tantivy

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.adapters.embedded.locking import directory_lock
from infrastructure.adapters.embedded.physical import PhysicalIndex, VersionedDocument
from infrastructure.adapters.embedded.schema import BODY, DELETED, ID, VERSION, KindSchema
from projections.query import query_fields
from tests.contract.search_index_contract import ADA, USERS, user

LONG = "u-" + "x" * 40  # ids that begin with it share their first 32 bytes


def test_ids_sharing_their_first_32_bytes_keep_their_own_versions(tmp_path: Path) -> None:
    index = EmbeddedSearchIndex(tmp_path / "search")
    first = {f"{LONG}-a": 5, f"{LONG}-b": 7, "u-1": 5, "u-1\0": 7, "u-2": 5}
    written = index.write([user(ADA, version, user_id=i) for i, version in first.items()])
    assert written.written == len(first)

    again = index.write([user(ADA, 6, user_id=doc_id) for doc_id in first])
    assert (again.written, again.stale_writes_rejected) == (3, 2)
    alone = index.write([user(ADA, 6, user_id=f"{LONG}-b"), user(ADA, 8, user_id="u-1\0")])
    assert (alone.written, alone.stale_writes_rejected) == (1, 1)

    stored = {doc_id: index.get(USERS, doc_id) for doc_id in first}
    assert {doc_id: d.version for doc_id, d in stored.items() if d is not None} == {
        f"{LONG}-a": 6,
        f"{LONG}-b": 7,
        "u-1": 6,
        "u-1\0": 8,
        "u-2": 6,
    }
    index.close()


def test_an_index_without_byte_order_fields_reads_the_stored_versions(tmp_path: Path) -> None:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field(VERSION, stored=True, indexed=True, fast=True)
    builder.add_boolean_field(DELETED, stored=True, indexed=True, fast=True)
    builder.add_bytes_field(BODY, stored=True)
    schema = KindSchema(USERS, (), query_fields(USERS).fields, builder.build())
    physical = PhysicalIndex.create(tmp_path / "users", schema)

    def write(versions: dict[str, int]) -> int:
        with directory_lock(tmp_path):
            return physical.write_newer(
                [
                    VersionedDocument(i, v, json.dumps({ID: i, VERSION: v, DELETED: False}))
                    for i, v in versions.items()
                ]
            )

    assert write({"u-1": 5, "u-2": 5}) == 2
    assert write({"u-1": 4, "u-2": 6, "u-3": 1}) == 2
    assert physical.versions(physical.searcher(), ["u-1", "u-2", "u-3", "u-4"]) == {
        "u-1": 5,
        "u-2": 6,
        "u-3": 1,
    }
