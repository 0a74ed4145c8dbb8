"""What the field declarations derive equals what was written out by hand before them.

``golden.json`` holds the mappings, schemas, DDL, allowlists, export columns and table
fields as they were literal in the code: an existing index, state table or export must
not change because the declarations moved.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.declared.outputs import derived_outputs

GOLDEN = json.loads((Path(__file__).parent / "golden.json").read_text())
DERIVED = json.loads(json.dumps(derived_outputs()))


@pytest.mark.parametrize("part", sorted(GOLDEN))
def test_each_derived_part_equals_the_literal_it_replaced(part: str) -> None:
    assert DERIVED[part] == GOLDEN[part]
