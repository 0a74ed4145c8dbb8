"""The benchmark's projection lock timer counts real acquisitions and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

from devtools.benchmarks.lock_wait import timing_projection_lock
from infrastructure.adapters.eventstore.dialects import PostgresDialect
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings


def test_each_projection_session_is_one_timed_acquisition(
    postgres_store: PostgresStore, tmp_path: Path
) -> None:
    original = PostgresDialect.open_locked
    settings = Settings(postgres_store, EmbeddedSearch(tmp_path / "index"), {}, "locks")
    with Streamfold.from_settings(settings) as app:
        with timing_projection_lock() as lock:
            for _ in range(2):
                with app.projection_store.session():
                    pass
        with app.projection_store.session():
            pass

    assert lock.acquisitions == 2
    assert lock.seconds > 0
    assert PostgresDialect.open_locked is original
