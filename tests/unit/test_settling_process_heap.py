"""The second process settles with the garbage collector's passes kept off its start-up
objects, as the command itself does (`infrastructure.heap`)."""

from __future__ import annotations

import gc
from typing import Any, cast

from infrastructure.heap import YOUNG_GENERATION_THRESHOLD
from infrastructure.services.background_settle import ProcessSettler, SettlingApp
from infrastructure.services.write_pipeline import PipelineReport


class _CollectorWatchingPipeline:
    """A write pipeline (the port the process drives) that reports the collector's state."""

    def settle(self, report: PipelineReport, **_: Any) -> None:
        report.seconds["frozen objects"] = float(gc.get_freeze_count())
        report.seconds["young threshold"] = float(gc.get_threshold()[0])


class _App:
    """The second process's app: only a pipeline to settle with (no rebuild is asked of it)."""

    pipeline = _CollectorWatchingPipeline()

    def close(self) -> None:
        pass


def _build() -> SettlingApp:
    return cast(SettlingApp, _App())  # its pipeline is a fake of the port the process drives


def test_the_settle_runs_with_the_start_up_objects_frozen() -> None:
    settler = ProcessSettler(_build)
    try:
        settler.begin(1_000, None)
        report = settler.finish()
    finally:
        settler.close()

    assert report.seconds["frozen objects"] > 10_000  # the modules the process imported
    assert report.seconds["young threshold"] == YOUNG_GENERATION_THRESHOLD
