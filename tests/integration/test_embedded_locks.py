"""The embedded index's locks: one writer per physical index, the kinds written at once, and
catalog changes excluding every writer (`infrastructure.adapters.embedded.locking`)."""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.adapters.embedded.locking import LOCK_FILE, directory_lock, index_lock
from tests.contract.search_index_contract import ADA, IMAGES, SUNSET, USERS, image, user


def _free(path: Path, operation: int) -> bool:
    """Whether ``operation`` (shared or exclusive) could be taken on ``path`` now."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)


def test_each_physical_index_has_its_own_write_lock(tmp_path: Path) -> None:
    with index_lock(tmp_path, "bench-users-v5"):
        assert not _free(tmp_path / "bench-users-v5.lock", fcntl.LOCK_EX)
        assert _free(tmp_path / "bench-images-v5.lock", fcntl.LOCK_EX)
    assert _free(tmp_path / "bench-users-v5.lock", fcntl.LOCK_EX)


def test_writers_share_the_directory_lock_and_a_catalog_change_excludes_them(
    tmp_path: Path,
) -> None:
    with directory_lock(tmp_path, shared=True):
        assert _free(tmp_path / LOCK_FILE, fcntl.LOCK_SH)  # another writer
        assert not _free(tmp_path / LOCK_FILE, fcntl.LOCK_EX)  # a catalog change waits
    with directory_lock(tmp_path):
        assert not _free(tmp_path / LOCK_FILE, fcntl.LOCK_SH)


def test_a_kind_is_written_while_another_writer_holds_the_other_kinds_index(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "search"
    index = EmbeddedSearchIndex(directory)
    index.write([user(ADA, 1)])  # creates both kinds' indexes and their aliases
    users_index = index.alias_target(USERS)
    assert users_index is not None

    users_written = threading.Event()

    def write_users() -> None:
        index.write([user(ADA, 3)])
        users_written.set()

    with index_lock(directory, users_index):  # another process's write of users under way
        # The images' index is free: their write returns while the users' is held.
        assert index.write([image(SUNSET, 2)]).written == 1
        writer = threading.Thread(target=write_users)
        writer.start()
        # The users' write waits for the index's lock (whatever the machine's speed, it
        # cannot have written while the lock is held).
        assert not users_written.wait(0.3)
        assert index.get(USERS, ADA.user_id).version == 1  # type: ignore[union-attr]
    writer.join(30)
    assert users_written.is_set()
    assert index.get(USERS, ADA.user_id).version == 3  # type: ignore[union-attr]
    assert index.get(IMAGES, SUNSET.image_id).version == 2  # type: ignore[union-attr]
    index.close()
