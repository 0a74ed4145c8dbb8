"""Stable alias names mapped to physical index directories, kept in one JSON file.

The file is only ever replaced whole (written aside, flushed, then ``os.replace``), so a
reader sees the old mapping or the new one, never a mix. Writers hold the directory lock.

>>> table = AliasTable(Path("/data/index/aliases.json"))
>>> table.point("streamfold-users", "streamfold-users-v1")
>>> table.target("streamfold-users")
'streamfold-users-v1'
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from infrastructure.adapters.embedded.snapshots import WatchedFile


class AliasTable:
    """The alias file; reads are cached until the file changes on disk."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file = WatchedFile(path)
        self._aliases: dict[str, str] = {}

    def target(self, alias: str) -> str | None:
        """The physical index the alias points to, or None if there is no such alias."""
        return self._current().get(alias)

    def point(self, alias: str, physical_name: str) -> str | None:
        """Point the alias at a physical index; returns the previous target, if any."""
        aliases = dict(self._current())
        previous = aliases.get(alias)
        aliases[alias] = physical_name
        self._replace(aliases)
        return previous

    def _current(self) -> dict[str, str]:
        if self._file.changed():
            content = self._file.content
            loaded = orjson.loads(content) if content is not None else {}
            self._aliases = {str(alias): str(name) for alias, name in loaded.items()}
        return self._aliases

    def _replace(self, aliases: dict[str, str]) -> None:
        staged = self._path.with_name(f".{self._path.name}.{os.getpid()}.tmp")
        with staged.open("wb") as file:
            file.write(orjson.dumps(aliases, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            file.flush()
            os.fsync(file.fileno())
        staged.replace(self._path)  # atomic: readers see the old file or the new one
        _sync_directory(self._path.parent)


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable, not only the new file's content.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
