"""The bootstrap benchmark's harness, at a small size: both paths, the lower bound."""

from __future__ import annotations

from devtools.benchmarks import bootstrap as bench


def test_both_paths_bootstrap_every_item_and_the_lower_bound_counts_them() -> None:
    with bench.moto_tables(400) as (client, tables, count):
        scans = bench.time_scan(client, tables)
        measured = bench.measure_bootstrap(
            scans, tables, bench.embedded_target, runs=1, paths=(bench.FIRST_BUILD, bench.IN_GROUPS)
        )
    row = bench.describe("embedded", scans, measured)

    assert scans.items == count >= 400
    assert [run.path for run in measured.runs] == [bench.FIRST_BUILD, bench.IN_GROUPS]
    assert row["bootstrap_without_scan_items_per_second"]["median"] > 0
    assert row["settled_in_groups_items_per_second"]["median"] > 0
    events, documents = row["lower_bound_events_documents"]
    assert events == count  # one import event per item: none refused
    assert 0 < documents < count
    assert row["lower_bound_items_per_second"] > 0
