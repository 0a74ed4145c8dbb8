"""Several slice workers as processes of this machine (``streamfold rebuild --workers N``).

Each worker is ``streamfold rebuild --partition K/N --json`` in a process of its own, with
this process's environment, so that N cores fold and render at once. This process only
watches: it shows the workers' progress from the slices' records and adds up their
summaries. A worker that fails stops the others; the same command run again resumes every
slice where it stopped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from domain.errors import TransientFailure
from infrastructure.adapters.eventstore.generations import GenerationRegistry
from infrastructure.services.rebuild import RebuildReport

Progress = Callable[[int, int], None]
Stage = Callable[[str], None]


class WorkerFailed(TransientFailure):
    """A worker stopped before its slice was done; running the command again resumes it."""


class LocalWorkers:
    """Runs a rebuild as ``count`` local worker processes and returns their summed report.

    >>> LocalWorkers(projection_store.registry, count=2, kinds="all").run().activated
    True
    """

    def __init__(
        self,
        registry: GenerationRegistry,
        count: int,
        kinds: str = "all",
        batch_size: int = 10_000,
        progress: Progress | None = None,
        stage: Stage | None = None,
        poll_seconds: float = 0.5,
    ) -> None:
        self._registry = registry
        self._count = count
        self._kinds = kinds
        self._batch_size = batch_size
        self._progress = progress or (lambda done, total: None)
        self._stage = stage or (lambda name: None)
        self._poll_seconds = poll_seconds

    def run(self) -> RebuildReport:
        started = time.perf_counter()
        workers = [self._start(index) for index in range(self._count)]
        try:
            self._watch(workers)
            outputs = [worker.communicate()[0] for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.terminate()
                    worker.wait()
        report = _summed([json.loads(output) for output in outputs], self._count)
        report.seconds = time.perf_counter() - started
        return report

    def _start(self, index: int) -> subprocess.Popen[str]:
        command = [
            sys.executable, "-m", "infrastructure.entrypoints.cli.main", "rebuild", self._kinds,
            "--partition", f"{index}/{self._count}", "--batch-size", str(self._batch_size),
            "--json",
        ]  # fmt: skip
        # The command is this interpreter running streamfold itself: nothing from outside.
        return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603

    def _watch(self, workers: list[subprocess.Popen[str]]) -> None:
        stage = ""
        while True:
            running = [worker.poll() is None for worker in workers]
            failed = [i for i, w in enumerate(workers) if w.returncode not in (None, 0)]
            if failed:
                raise WorkerFailed(
                    f"worker {failed[0]}/{self._count} stopped with status "
                    f"{workers[failed[0]].returncode}; run the same command again to resume "
                    "every slice where it stopped"
                )
            if not any(running):
                return
            stage = self._show(stage)
            time.sleep(self._poll_seconds)

    def _show(self, shown: str) -> str:
        building = self._registry.building()
        slices = [] if building is None else self._registry.slices(building.number)
        if not slices:
            return shown
        folding = not all(s.folded for s in slices)
        stage = f"{'folding' if folding else 'rendering'} with {self._count} workers"
        if stage != shown:
            self._stage(stage)
        if folding:
            self._progress(sum(s.events_folded for s in slices), slices[0].target)
        return stage


def _summed(summaries: list[dict[str, Any]], count: int) -> RebuildReport:
    activating = next((s for s in summaries if s["activated"]), summaries[0])
    report = RebuildReport(
        generation=activating["generation"],
        kinds=activating["kinds"],
        partition=f"all/{count}",
        indices=activating["aliases_now_point_to"] or {},
        previous_indices=activating["previous_indices"],
    )
    for summary in summaries:
        report.events += summary["events"]
        report.caught_up += summary["events_caught_up"]
        report.documents_written += summary["documents_written"]
        report.resumed = report.resumed or summary["resumed"]
        report.activated = report.activated or summary["activated"]
    return report
