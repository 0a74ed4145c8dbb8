"""A full rebuild from an event store of N events: events per second and peak memory.

The event store is filled first (domain events only, through the intake), then the rebuild
runs in a child process of its own so that its peak resident memory is measured alone.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from infrastructure.composition import Streamfold
from infrastructure.demo import CrmWorkload, lambda_events
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from infrastructure.streams import parse_lambda_event

_RECORDS_PER_USER = 27  # what the generated CRM workload produces, on average


@dataclass
class RebuildFigures:
    events: int
    seconds: float
    peak_memory_mib: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds


def settings_in(directory: Path) -> Settings:
    return Settings(
        SQLiteStore(directory / "events.db"), EmbeddedSearch(directory / "index"), {}, "bench"
    )


def fill_event_store(directory: Path, events: int, seed: int = 1) -> int:
    """Record about ``events`` domain events of a generated workload; returns the head."""
    users = max(1, events // _RECORDS_PER_USER)
    with Streamfold.from_settings(settings_in(directory)) as app:
        workload = CrmWorkload(seed=seed, users=users)
        for event in lambda_events(workload.records, batch_size=5000):
            changes = [r.change for r in parse_lambda_event(event, app.settings.kind_of_table)]
            app.intake.record([change for change in changes if change is not None])
        return app.event_store.head()


def rebuild_in_child(directory: Path) -> RebuildFigures:
    command = [sys.executable, "-m", "infrastructure.benchmarks.rebuild", str(directory)]
    # The command is this interpreter running this module: nothing comes from outside.
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    result = json.loads(output.strip().splitlines()[-1])
    return RebuildFigures(result["events"], result["seconds"], result["peak_kib"] / 1024)


def measure_rebuild(events: int) -> RebuildFigures:
    with tempfile.TemporaryDirectory(prefix="streamfold-rebuild-") as directory:
        fill_event_store(Path(directory), events)
        return rebuild_in_child(Path(directory))


def _child(directory: Path) -> None:
    from infrastructure.rebuild import Rebuild
    from projections.documents import DocumentKind

    with Streamfold.from_settings(settings_in(directory)) as app:
        started = time.perf_counter()
        report = Rebuild(app, batch_size=10_000).run(list(DocumentKind))
        seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"events": report.events, "seconds": seconds, "peak_kib": peak_kib}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
