"""`streamfold bench concurrency --runs`: every N's figures over the runs, as median, min
and max, and the run the detailed lines come from."""

from __future__ import annotations

from typing import Any

import pytest

from devtools.benchmarks.concurrency import median_run, summarize, summary_lines


def run(first: int, second: int, wait: float = 1.0) -> list[dict[str, Any]]:
    # The figures `describe` gives (those the summary reads) for N=1 and N=2.
    return [
        {"processes": 1, "records_per_second": first, "ratio_to_first": 1.0,
         "cpu_bound_ratio": 1.8, "lock_wait_seconds": 0.0},
        {"processes": 2, "records_per_second": second,
         "ratio_to_first": round(second / first, 2), "cpu_bound_ratio": 1.8,
         "lock_wait_seconds": wait},
    ]  # fmt: skip


def test_each_n_is_summarized_over_the_runs() -> None:
    runs = [run(100, 150, 2.0), run(80, 150, 1.0), run(120, 150, 3.0)]

    summary = summarize(runs)

    assert [row["processes"] for row in summary] == [1, 2]
    assert summary[0]["records_per_second"] == {"median": 100, "min": 80, "max": 120}
    assert summary[1]["ratio_to_first"] == {"median": 1.5, "min": 1.25, "max": 1.88}
    assert summary[1]["lock_wait_seconds"] == {"median": 2.0, "min": 1.0, "max": 3.0}
    assert all(row["runs"] == 3 for row in summary)


def test_the_detailed_run_is_the_one_with_the_median_ratio() -> None:
    runs = [run(100, 150), run(80, 150), run(120, 150)]

    assert median_run(runs) is runs[0]


def test_runs_of_other_numbers_of_processes_are_refused() -> None:
    other = run(100, 150)[:1]

    with pytest.raises(ValueError, match="same numbers of processes"):
        summarize([run(100, 150), other])


def test_a_figure_not_measured_stays_so() -> None:
    runs = [run(100, 150)]
    for row in runs[0]:
        row["cpu_bound_ratio"] = None

    (first, _) = summarize(runs)

    assert first["cpu_bound_ratio"] is None
    assert "CPU bound not measured" in summary_lines([first])[0]


def test_the_lines_give_median_and_spread() -> None:
    lines = summary_lines(summarize([run(100, 150), run(80, 150), run(120, 150)]))

    assert lines[1].startswith("  N=2  150 (150-150) records/s, ratio to N=1 1.5x (1.25-1.88), ")
