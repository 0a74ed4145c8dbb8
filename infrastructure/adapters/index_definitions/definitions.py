"""What an index holds, backend-neutral: its fields by path and its index-wide settings.

Both backends describe an index the same way, so one comparison serves both: OpenSearch's
mappings flatten to dotted paths (``name``, ``name.keyword``, ``owner.plan``), tantivy's
schema to its field names. Every option value is kept as text, so that what a cluster
echoes back (``"10100"`` for ``10100``) compares equal to what was sent.

>>> live = IndexDefinition({"likes": FieldSpec("keyword")})
>>> wanted = IndexDefinition({"likes": FieldSpec("integer"), "score": FieldSpec("long")})
>>> change = compare(live, wanted)
>>> sorted(change.added), [c.describe() for c in change.retyped]
(['score'], ['likes: keyword -> integer'])
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson


def option_text(value: Any) -> str:
    """An option's value as text: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(frozen=True)
class FieldSpec:
    type: str
    options: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """``integer``, or ``text [analyzer=words]`` when it has options."""
        if not self.options:
            return self.type
        shown = " ".join(f"{key}={value}" for key, value in sorted(self.options.items()))
        return f"{self.type} [{shown}]"


@dataclass(frozen=True)
class IndexDefinition:
    fields: Mapping[str, FieldSpec]
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """Eight hex digits that change whenever a field, an option or a setting does."""
        canonical = {
            "fields": {
                path: {"type": spec.type, "options": dict(spec.options)}
                for path, spec in self.fields.items()
            },
            "settings": dict(self.settings),
        }
        digest = hashlib.blake2b(
            orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS), digest_size=4
        )
        return digest.hexdigest()


@dataclass(frozen=True)
class FieldChange:
    path: str
    before: FieldSpec
    after: FieldSpec

    @property
    def changed_options(self) -> list[str]:
        keys = set(self.before.options) | set(self.after.options)
        return sorted(k for k in keys if self.before.options.get(k) != self.after.options.get(k))

    def describe(self) -> str:
        """``likes: keyword -> integer`` or ``name: analyzer words -> standard``."""
        if self.before.type != self.after.type:
            return f"{self.path}: {self.before.type} -> {self.after.type}"
        return f"{self.path}: " + ", ".join(
            f"{key} {self.before.options.get(key, '(none)')} -> "
            f"{self.after.options.get(key, '(none)')}"
            for key in self.changed_options
        )


@dataclass(frozen=True)
class SettingChange:
    key: str
    before: str | None
    after: str | None

    def describe(self) -> str:
        return f"{self.key}: {self.before or '(none)'} -> {self.after or '(none)'}"


@dataclass(frozen=True)
class DefinitionChange:
    """How a wanted definition differs from a live one."""

    added: dict[str, FieldSpec] = field(default_factory=dict)
    removed: dict[str, FieldSpec] = field(default_factory=dict)
    retyped: list[FieldChange] = field(default_factory=list)  # the type itself changed
    reconfigured: list[FieldChange] = field(default_factory=list)  # analyzer, format, ...
    settings: list[SettingChange] = field(default_factory=list)

    @property
    def none(self) -> bool:
        return not (
            self.added or self.removed or self.retyped or self.reconfigured or self.settings
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "added": {path: spec.describe() for path, spec in sorted(self.added.items())},
            "removed": {path: spec.describe() for path, spec in sorted(self.removed.items())},
            "type_changed": [change.describe() for change in self.retyped],
            "options_changed": [change.describe() for change in self.reconfigured],
            "settings_changed": [change.describe() for change in self.settings],
        }


def compare(live: IndexDefinition, wanted: IndexDefinition) -> DefinitionChange:
    """What it takes to go from ``live`` to ``wanted``."""
    change = DefinitionChange(
        added={p: s for p, s in sorted(wanted.fields.items()) if p not in live.fields},
        removed={p: s for p, s in sorted(live.fields.items()) if p not in wanted.fields},
    )
    for path in sorted(set(live.fields) & set(wanted.fields)):
        before, after = live.fields[path], wanted.fields[path]
        if before.type != after.type:
            change.retyped.append(FieldChange(path, before, after))
        elif before.options != after.options:
            change.reconfigured.append(FieldChange(path, before, after))
    for key in sorted(set(live.settings) | set(wanted.settings)):
        if live.settings.get(key) != wanted.settings.get(key):
            change.settings.append(
                SettingChange(key, live.settings.get(key), wanted.settings.get(key))
            )
    return change
