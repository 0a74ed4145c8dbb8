"""What the field declarations derive equals what was written out by hand before them.

``golden.json`` holds the mappings, schemas, DDL, allowlists, export columns and table
fields as they were literal in the code: an existing index, state table or export must
not change because the declarations moved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.declared.outputs import derived_outputs

GOLDEN = json.loads((Path(__file__).parent / "golden.json").read_text())
DERIVED = json.loads(json.dumps(derived_outputs()))
# The allowlist is ordered by rule now (searched heaviest first, then the document's
# order), so its order and that of the tantivy fields it lists may differ; nothing
# compares them in order (an index's fingerprint sorts its fields).
BY_NAME = {"allowlist": 0, "tantivy": "name"}


def _unordered(part: str, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
    key = BY_NAME[part]
    return {kind: sorted(entries, key=lambda e: e[key]) for kind, entries in value.items()}


@pytest.mark.parametrize("part", sorted(set(GOLDEN) - set(BY_NAME)))
def test_each_derived_part_equals_the_literal_it_replaced(part: str) -> None:
    assert DERIVED[part] == GOLDEN[part]


@pytest.mark.parametrize("part", sorted(BY_NAME))
def test_the_allowlist_and_tantivy_fields_are_the_same_in_another_order(part: str) -> None:
    assert _unordered(part, DERIVED[part]) == _unordered(part, GOLDEN[part])


def test_searched_fields_come_heaviest_first() -> None:
    for entries in DERIVED["allowlist"].values():
        boosts = [boost for _, _, boost, *_ in entries if boost is not None]
        assert boosts == sorted(boosts, reverse=True)
        assert all(boost is None for _, _, boost, *_ in entries[len(boosts) :])
