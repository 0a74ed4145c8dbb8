"""Embedded (tantivy) indexes as `IndexDefinition`s, and the version each one records.

A tantivy index keeps its schema in ``meta.json``: one entry per field, with its type and
options (tokenizer, positions, fast, stored). Tantivy cannot change the fields of an
existing index, so any difference there needs a new index; a change of the documents
alone (a body field no query uses) can be re-rendered in place.

Each physical index directory also holds ``streamfold-version.json``, the projection
version its documents are rendered at (tantivy leaves files it does not know alone).

>>> wanted_definition(DocumentKind.USERS).fields["name_keyword"].options["indexing.tokenizer"]
'raw'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from infrastructure.adapters.embedded.schema import schema_fields, stored_fields
from infrastructure.adapters.index_definitions.definitions import (
    FieldSpec,
    IndexDefinition,
    option_text,
)
from projections.documents import DocumentKind
from projections.versions import projection_version

VERSION_FILE = "streamfold-version.json"


def definition_of_fields(fields: Iterable[Mapping[str, Any]]) -> IndexDefinition:
    """The definition of tantivy fields as ``meta.json`` lists them."""
    return IndexDefinition(
        {
            field["name"]: FieldSpec(field["type"], dict(_options(field.get("options") or {})))
            for field in fields
        }
    )


def _options(options: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, str]]:
    for key, value in options.items():
        if isinstance(value, Mapping):
            yield from _options(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", option_text(value)


def wanted_definition(kind: DocumentKind) -> IndexDefinition:
    return definition_of_fields(schema_fields(kind))


def live_definition(path: Path) -> IndexDefinition:
    return definition_of_fields(stored_fields(path))


def recorded_version(path: Path) -> int | None:
    """The projection version recorded for the index at ``path`` (None: not recorded)."""
    try:
        return int(orjson.loads((path / VERSION_FILE).read_bytes())["projection_version"])
    except FileNotFoundError:
        return None


def record_version(path: Path, kind: DocumentKind, version: int | None = None) -> None:
    """Record the projection version of the index at ``path`` (default: the code's)."""
    content = {
        "kind": kind.value,
        "projection_version": projection_version(kind) if version is None else version,
    }
    staged = path / f".{VERSION_FILE}.{os.getpid()}.tmp"
    staged.write_bytes(orjson.dumps(content, option=orjson.OPT_INDENT_2))
    staged.replace(path / VERSION_FILE)  # readers see the old record or the new one
