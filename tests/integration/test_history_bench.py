"""`streamfold bench history` measures what it says on a store it builds itself."""

from __future__ import annotations

from devtools.benchmarks.history import measure_history


def test_the_history_benchmark_times_the_hot_user_and_both_ingestions() -> None:
    figures = measure_history(users=10, hot_likes=60, runs=2, pairs=1).describe()

    assert figures["hot_user_contributing_events"] == 1 + 20 + 60  # user, images, likes
    assert figures["events_in_store"] > 81 and figures["records_ingested"] > 0
    assert figures["ingest_records_per_second_with_feeds"] > 0
    assert figures["ingest_records_per_second_without_feeds"] > 0
    assert set(figures["history_page_ms"]) == {"p50", "p95"}
