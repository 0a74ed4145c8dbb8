"""OpenSearch index bodies as `IndexDefinition`s, and the mapping update that adds fields.

A mapping flattens to one entry per property and per multi-field (``name.keyword``), each
with its type and its parameters; objects are entries of type ``object``. Settings keep
what streamfold sets (``max_result_window`` and the analysis chain) and the mapping's
``dynamic``, whatever else the cluster reports (uuid, creation date, shards).

OpenSearch can add a field to a live index; it refuses to change a field's type or
analyzer, or to remove one. `additions` builds the update that adds exactly the new
fields, leaving out any whose parent is itself changing.

>>> body = {"mappings": {"properties": {"name": {"type": "text", "analyzer": "words",
...     "fields": {"keyword": {"type": "keyword"}}}}}}
>>> sorted(definition_of(body).fields)
['name', 'name.keyword']
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from infrastructure.adapters.index_definitions.definitions import (
    DefinitionChange,
    FieldSpec,
    IndexDefinition,
    option_text,
)

_NESTING = ("type", "properties", "fields")
# Parameters at their default value: a cluster may leave them out when it echoes a mapping.
_DEFAULTS = {
    "format": "strict_date_optional_time||epoch_millis",
    "index": "true",
    "doc_values": "true",
    "store": "false",
    "ignore_malformed": "false",
}


def definition_of(body: Mapping[str, Any]) -> IndexDefinition:
    """The definition of an index body: ``{"settings": ..., "mappings": ...}``."""
    mappings = body.get("mappings") or {}
    fields: dict[str, FieldSpec] = {}
    _flatten(mappings.get("properties") or {}, "", fields)
    settings = {
        key: value
        for key, value in _flat(body.get("settings") or {})
        if key == "max_result_window" or key.startswith("analysis.")
    }
    if "dynamic" in mappings:
        settings["mappings.dynamic"] = option_text(mappings["dynamic"])
    return IndexDefinition(fields, settings)


def _flatten(properties: Mapping[str, Any], prefix: str, into: dict[str, FieldSpec]) -> None:
    for name, node in properties.items():
        path = f"{prefix}{name}"
        # A cluster leaves out ``"type": "object"`` when it echoes an object back.
        kind = node.get("type") or "object"
        options = {
            key: text
            for key, value in node.items()
            if key not in _NESTING and _DEFAULTS.get(key) != (text := option_text(value))
        }
        into[path] = FieldSpec(kind, options)
        _flatten(node.get("properties") or {}, f"{path}.", into)
        _flatten(node.get("fields") or {}, f"{path}.", into)


def _flat(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flat(value, f"{path}.")
        else:
            yield path.removeprefix("index."), option_text(value)


def additions(wanted: Mapping[str, Any], change: DefinitionChange) -> dict[str, Any]:
    """The ``properties`` of a mapping update adding the new fields OpenSearch can add.

    ``wanted`` is the wanted mapping's ``properties``. A new field under a parent whose
    type or parameters change is left out: such a parent needs a new index anyway, and
    the update would be refused whole.
    """
    changing = {c.path for c in change.retyped + change.reconfigured} | set(change.removed)
    update: dict[str, Any] = {}
    for path in change.added:
        parents = _parents(path)
        if any(parent in change.added for parent in parents):
            continue  # added with its parent
        if any(parent in changing for parent in parents):
            continue
        _place(update, wanted, path.split("."))
    return update


def _parents(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts))]


def _place(update: dict[str, Any], wanted: Mapping[str, Any], keys: list[str]) -> None:
    """Copy the wanted node at ``keys`` into ``update``, with just enough of its parents."""
    source, target = wanted, update
    for depth, key in enumerate(keys):
        node = source[key]
        if depth == len(keys) - 1:
            target[key] = node
            return
        # A parent is restated with its own parameters and gains the new child, under
        # ``properties`` (an object) or ``fields`` (a multi-field of a leaf).
        nesting = "properties" if keys[depth + 1] in (node.get("properties") or {}) else "fields"
        parent = target.setdefault(key, {k: v for k, v in node.items() if k not in _NESTING[1:]})
        target = parent.setdefault(nesting, {})
        source = node[nesting]
