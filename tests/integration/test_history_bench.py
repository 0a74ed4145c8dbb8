"""`streamfold bench history` measures what it says on a store it builds itself."""

from __future__ import annotations

from pathlib import Path

from devtools.benchmarks.history import ingestion_ab, measure_history, pad_store
from infrastructure.adapters.eventstore.projection_store import SqlProjectionSession


def test_the_history_benchmark_times_the_hot_user_on_a_store_it_builds(tmp_path: Path) -> None:
    figures = measure_history(users=10, hot_likes=60, runs=2, store=tmp_path).describe()

    assert figures["hot_user_contributing_events"] == 1 + 20 + 60  # user, images, likes
    assert figures["events_in_store"] > 81
    assert set(figures["history_page_ms"]) == {"p50", "p95"}
    assert set(figures["as_of_ms"]) == {"p50", "p95"}
    assert figures["checkpoints"] == 0  # fewer feeding events than one checkpoint's worth

    again = measure_history(users=10, hot_likes=600, runs=2, store=tmp_path).describe()
    assert again["events_in_store"] == figures["events_in_store"]  # the same store, reused
    assert again["checkpoints"] == 0


def test_padding_a_store_adds_events_the_history_of_the_hot_user_never_reads(
    tmp_path: Path,
) -> None:
    before = measure_history(users=10, hot_likes=60, runs=1, store=tmp_path).describe()
    head = before["events_in_store"]

    assert pad_store(tmp_path, 2 * head - 50) == head - 50
    assert pad_store(tmp_path, 2 * head - 50) == 0  # already that big: nothing appended

    after = measure_history(users=10, hot_likes=60, runs=1, store=tmp_path).describe()
    assert after["events_in_store"] == 2 * head - 50
    assert after["hot_user_contributing_events"] == before["hot_user_contributing_events"]


def test_the_ingestion_ab_alternates_runs_without_and_with_the_feed_index() -> None:
    runs = ingestion_ab(users=5, pairs=2)

    assert [run.feed_index for run in runs] == [False, True, False, True]
    assert len({run.records for run in runs}) == 1
    assert all(run.seconds > 0 and run.cpu_seconds > 0 for run in runs)
    assert SqlProjectionSession.keeps_feeds  # switched back on after the baseline runs
