"""Each search backend's live indexes as a migration sees them: definition, version, changes.

A version is the projection version the documents are rendered at plus the fingerprint of
the index's definition, shown as ``v3-1f3e5a7c``. The live one is read from the index the
alias points to (its recorded projection version and its actual fields); the wanted one is
the code's. An index that recorded no version was created before versions existed, when
every kind was at its first revision.

>>> backend = backend_for(index, settings.search)
>>> backend.live(DocumentKind.USERS).version.label, backend.wanted_version(DocumentKind.USERS)
('v2-1f3e5a7c', IndexVersion(projection=3, fingerprint='9b2d4e6f'))
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infrastructure.adapters.index_definitions.definitions import DefinitionChange, IndexDefinition
from infrastructure.settings import EmbeddedSearch, SearchTarget
from projections.documents import DocumentKind
from projections.ports import SearchIndex
from projections.versions import projection_version

if TYPE_CHECKING:
    from infrastructure.adapters.opensearch import OpenSearchIndex

UNRECORDED_VERSION = 1  # indexes from before versions were recorded hold version-1 documents


@dataclass(frozen=True)
class IndexVersion:
    projection: int
    fingerprint: str

    @property
    def label(self) -> str:
        return f"v{self.projection}-{self.fingerprint}"


@dataclass(frozen=True)
class LiveIndex:
    name: str  # the physical index
    definition: IndexDefinition
    projection: int

    @property
    def version(self) -> IndexVersion:
        return IndexVersion(self.projection, self.definition.fingerprint)


class MigrationBackend(ABC):
    """What a migration reads and changes in one search backend."""

    name: str
    adds_fields_in_place: bool  # whether a live index can take new fields

    def __init__(self, index: SearchIndex, target: SearchTarget) -> None:
        self.index = index
        self.target = target  # where the backend is, as configured

    @abstractmethod
    def wanted(self, kind: DocumentKind) -> IndexDefinition: ...

    @abstractmethod
    def physical(self, kind: DocumentKind, name: str) -> LiveIndex:
        """An existing physical index of the kind, by name."""

    @abstractmethod
    def add_fields(self, kind: DocumentKind, live: LiveIndex, change: DefinitionChange) -> int:
        """Add to the live index the new fields it can take; returns how many were added."""

    @abstractmethod
    def record_version(self, kind: DocumentKind, live: LiveIndex, projection: int) -> None:
        """Record that the index's documents are now rendered at ``projection``."""

    def wanted_version(self, kind: DocumentKind) -> IndexVersion:
        return IndexVersion(projection_version(kind), self.wanted(kind).fingerprint)

    def live(self, kind: DocumentKind) -> LiveIndex | None:
        """The index behind the kind's alias (None before the first write created it)."""
        name = self.index.alias_target(kind)
        return None if name is None else self.physical(kind, name)

    def versioned_name(self, kind: DocumentKind, generation: int) -> str:
        """A new physical index carrying the wanted version, e.g. ``…-users-v3-9b2d4e6f-g4``."""
        version = self.wanted_version(kind)
        return f"{self.index.alias_name(kind)}-{version.label}-g{generation}"


class OpenSearchBackend(MigrationBackend):
    name = "opensearch"
    adds_fields_in_place = True

    @property
    def _index(self) -> OpenSearchIndex:
        from infrastructure.adapters.opensearch import OpenSearchIndex

        assert isinstance(self.index, OpenSearchIndex)
        return self.index

    def wanted(self, kind: DocumentKind) -> IndexDefinition:
        from infrastructure.adapters.index_definitions.opensearch import definition_of
        from infrastructure.adapters.opensearch.mappings import index_body

        return definition_of(index_body(kind))

    def physical(self, kind: DocumentKind, name: str) -> LiveIndex:
        from infrastructure.adapters.index_definitions.opensearch import definition_of

        body = self._index.index_definition(name)
        meta = body["mappings"].get("_meta") or {}
        version = int(meta.get("projection_version") or UNRECORDED_VERSION)
        return LiveIndex(name, definition_of(body), version)

    def add_fields(self, kind: DocumentKind, live: LiveIndex, change: DefinitionChange) -> int:
        from infrastructure.adapters.index_definitions.opensearch import additions
        from infrastructure.adapters.opensearch.mappings import index_body

        wanted = index_body(kind)["mappings"]["properties"]
        properties = additions(wanted, change)
        if properties:
            self._index.extend_mapping(live.name, properties, self._meta(live.name))
        return len(properties)

    def record_version(self, kind: DocumentKind, live: LiveIndex, projection: int) -> None:
        meta = {**self._meta(live.name), "projection_version": projection}
        self._index.extend_mapping(live.name, {}, meta)

    def _meta(self, name: str) -> dict[str, Any]:
        meta: dict[str, Any] = self._index.index_definition(name)["mappings"].get("_meta") or {}
        return meta


class EmbeddedBackend(MigrationBackend):
    name = "embedded"
    adds_fields_in_place = False  # tantivy fixes an index's fields when it is created

    @property
    def _directory(self) -> Path:
        assert isinstance(self.target, EmbeddedSearch)
        return self.target.directory

    def wanted(self, kind: DocumentKind) -> IndexDefinition:
        from infrastructure.adapters.index_definitions.embedded import wanted_definition

        return wanted_definition(kind)

    def physical(self, kind: DocumentKind, name: str) -> LiveIndex:
        from infrastructure.adapters.index_definitions.embedded import (
            live_definition,
            recorded_version,
        )

        path = self._directory / name
        recorded = recorded_version(path)
        return LiveIndex(
            name, live_definition(path), UNRECORDED_VERSION if recorded is None else recorded
        )

    def add_fields(self, kind: DocumentKind, live: LiveIndex, change: DefinitionChange) -> int:
        return 0  # an older index ignores the fields it lacks; the body is stored whole

    def record_version(self, kind: DocumentKind, live: LiveIndex, projection: int) -> None:
        from infrastructure.adapters.index_definitions.embedded import record_version

        record_version(self._directory / live.name, kind, projection)


def backend_for(index: SearchIndex, target: SearchTarget) -> MigrationBackend:
    if isinstance(target, EmbeddedSearch):
        return EmbeddedBackend(index, target)
    return OpenSearchBackend(index, target)


@dataclass(frozen=True)
class VersionStatus:
    kind: str
    index: str | None
    live: str | None  # None before the first write
    wanted: str

    @property
    def current(self) -> bool:
        return self.live == self.wanted


def version_status(backend: MigrationBackend) -> list[VersionStatus]:
    """The live and the wanted version of each kind (for `streamfold status`)."""
    found = []
    for kind in DocumentKind:
        live = backend.live(kind)
        found.append(
            VersionStatus(
                kind.value,
                None if live is None else live.name,
                None if live is None else live.version.label,
                backend.wanted_version(kind).label,
            )
        )
    return found
