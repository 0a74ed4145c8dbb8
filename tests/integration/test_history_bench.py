"""`streamfold bench history` measures what it says on a store it builds itself."""

from __future__ import annotations

from pathlib import Path

from devtools.benchmarks.history import measure_history


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
