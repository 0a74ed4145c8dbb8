"""The indexes of one directory: the alias of each kind and the physical indexes behind them.

An alias (``<prefix>-users``) names a physical index (``<prefix>-users-v1``), a directory
holding one tantivy index. The first use creates the current schema version's index for
each kind and points the alias at it. Later, a rebuild can fill another physical index and
swap the alias to it (or back again); every instance follows at its next call, because
the alias file is read again whenever it has changed.

>>> catalog = IndexCatalog(Path("/data/index"), "streamfold")
>>> catalog.resolve(DocumentKind.USERS).path.name
'streamfold-users-v1'
"""

from __future__ import annotations

import threading
from pathlib import Path

from infrastructure.adapters.embedded.aliases import AliasTable
from infrastructure.adapters.embedded.locking import directory_lock
from infrastructure.adapters.embedded.physical import PhysicalIndex
from infrastructure.adapters.embedded.schema import SCHEMA_VERSION, kind_schema, stored_kind_schema
from projections.documents import DocumentKind
from projections.ports import SearchUnavailable

ALIAS_FILE = "aliases.json"


class IndexCatalog:
    """Aliases and physical indexes under one directory; safe across threads and processes.

    Changes (creating an index, moving an alias) happen under the directory lock; the caller
    must not already hold it.
    """

    def __init__(self, directory: Path, prefix: str) -> None:
        self.directory = directory
        self._prefix = prefix
        self._aliases = AliasTable(directory / ALIAS_FILE)
        self._opened: dict[str, PhysicalIndex] = {}
        self._guard = threading.RLock()

    def alias_name(self, kind: DocumentKind) -> str:
        """The stable name reads and writes go through, e.g. ``streamfold-users``."""
        return f"{self._prefix}-{kind.value}"

    def default_physical_name(self, kind: DocumentKind) -> str:
        """The physical index created on first use, e.g. ``streamfold-users-v1``."""
        return f"{self.alias_name(kind)}-v{SCHEMA_VERSION}"

    def alias_target(self, kind: DocumentKind) -> str | None:
        """The physical index the kind's alias points to (None before first use)."""
        with self._guard:
            return self._aliases.target(self.alias_name(kind))

    def create_physical_index(self, kind: DocumentKind, name: str) -> PhysicalIndex:
        """Create an empty physical index for the kind, or open it if it exists."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with directory_lock(self.directory), self._guard:
            return self._create_locked(kind, name)

    def swap_alias(self, kind: DocumentKind, physical_name: str) -> str | None:
        """Point the kind's alias at an existing physical index; returns the previous one."""
        with directory_lock(self.directory), self._guard:
            if not PhysicalIndex.exists(self.directory / physical_name):
                raise SearchUnavailable(
                    f"embedded search index at {self.directory}: "
                    f"no physical index {physical_name!r} to point the alias at"
                )
            return self._aliases.point(self.alias_name(kind), physical_name)

    def ensure_ready(self) -> None:
        """Create the directory, the default indexes and their aliases if they are missing."""
        if all(self.alias_target(kind) is not None for kind in DocumentKind):
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with directory_lock(self.directory), self._guard:
            for kind in DocumentKind:
                alias = self.alias_name(kind)
                if self._aliases.target(alias) is None:
                    name = self.default_physical_name(kind)
                    self._create_locked(kind, name)
                    self._aliases.point(alias, name)

    def resolve(self, kind: DocumentKind) -> PhysicalIndex:
        """The physical index behind the kind's alias, creating the defaults on first use."""
        self.ensure_ready()
        return self.behind_alias(kind)

    def behind_alias(self, kind: DocumentKind) -> PhysicalIndex:
        """The physical index the kind's alias points to right now (never creates one).

        For callers holding the directory lock, which `resolve` could need to take.
        """
        with self._guard:
            alias = self.alias_name(kind)
            name = self._aliases.target(alias)
            if name is None:
                raise SearchUnavailable(
                    f"embedded search index at {self.directory}: no alias {alias!r} in {ALIAS_FILE}"
                )
            if name not in self._opened:
                path = self.directory / name
                if not PhysicalIndex.exists(path):
                    raise SearchUnavailable(
                        f"embedded search index at {self.directory}: alias {alias!r} "
                        f"points to {name!r}, which does not exist"
                    )
                self._opened[name] = PhysicalIndex(path, stored_kind_schema(kind, path))
            return self._opened[name]

    def named(self, kind: DocumentKind, name: str) -> PhysicalIndex:
        """An existing physical index by name (for callers holding the directory lock)."""
        with self._guard:
            if name not in self._opened:
                path = self.directory / name
                if not PhysicalIndex.exists(path):
                    raise SearchUnavailable(
                        f"embedded search index at {self.directory}: no physical index {name!r}"
                    )
                self._opened[name] = PhysicalIndex(path, stored_kind_schema(kind, path))
            return self._opened[name]

    def close(self) -> None:
        """Let go of every opened index; they are opened again on the next call."""
        with self._guard:
            self._opened.clear()

    def _create_locked(self, kind: DocumentKind, name: str) -> PhysicalIndex:
        if name not in self._opened:
            path = self.directory / name
            if PhysicalIndex.exists(path):
                self._opened[name] = PhysicalIndex(path, stored_kind_schema(kind, path))
            else:
                from infrastructure.adapters.index_definitions.embedded import record_version

                self._opened[name] = PhysicalIndex.create(path, kind_schema(kind))
                record_version(path, kind)  # what `streamfold migrate` compares
        return self._opened[name]
