"""A full rebuild from an event store of N events: events per second and peak memory.

Child processes do the work, so that the command's own process stays small: the first
fills a fresh embedded event store (domain events only, through the intake); then the
rebuild runs in one process, or in ``workers`` processes each rebuilding one slice
(``--partition K/N``), and each reports its own peak resident memory.

That peak is the child's ``VmHWM`` (the high-water mark of its own address space), not
``ru_maxrss``: Linux carries ``ru_maxrss`` across ``execve``, and a child that
``subprocess`` starts with ``vfork`` and ``exec`` then reports the peak of the process that
started it. Measured with ``ru_maxrss``, a rebuild started right after filling a store of
a million events in the same process "peaked" at the filler's 2.5 GiB.
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
from infrastructure.services.rebuilding.slices import Partition
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore

_EVENTS_PER_USER = 24  # what the generated CRM workload records per user, a little less


@dataclass
class RebuildFigures:
    events: int
    seconds: float
    peak_memory_mib: float  # the sum of the workers' peaks
    documents: int = 0
    workers: int = 1
    cpu_seconds: float = 0.0  # the workers' own processor time, rebuild only

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds


def settings_in(directory: Path) -> Settings:
    return Settings(
        SQLiteStore(directory / "events.db"), EmbeddedSearch(directory / "index"), {}, "bench"
    )


def fill_event_store(directory: Path, events: int, seed: int = 1) -> int:
    """Record at least ``events`` domain events of a generated workload; returns the head."""
    from devtools.demo import CrmWorkload, lambda_events
    from infrastructure.adapters.streams import parse_lambda_event

    users = -(-events // _EVENTS_PER_USER)
    with Streamfold.from_settings(settings_in(directory)) as app:
        workload = CrmWorkload(seed=seed, users=users)
        for event in lambda_events(workload.records, batch_size=5000):
            changes = [r.change for r in parse_lambda_event(event, app.settings.kind_of_table)]
            app.intake.record([change for change in changes if change is not None])
        return app.event_store.head()


def _child(*arguments: str) -> dict[str, float]:
    command = [sys.executable, "-m", "devtools.benchmarks.rebuild", *arguments]
    # The command is this interpreter running this module: nothing comes from outside.
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout  # noqa: S603
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def rebuild_in_children(directory: Path, workers: int = 1) -> RebuildFigures:
    """Rebuild in ``workers`` processes at once, one slice each; times the whole."""
    command = [sys.executable, "-m", "devtools.benchmarks.rebuild", "rebuild"]
    children = [
        # The command is this interpreter running this module: nothing comes from outside.
        subprocess.Popen(  # noqa: S603
            [*command, str(directory), str(index), str(workers)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for index in range(workers)
    ]
    outputs = [child.communicate()[0] for child in children]
    if any(child.returncode for child in children):
        raise RuntimeError(f"a rebuild worker failed: {[c.returncode for c in children]}")
    results = [json.loads(output.strip().splitlines()[-1]) for output in outputs]
    # From the first worker's start to the last one's end, interpreter start-up left out.
    seconds = max(r["ended_at"] for r in results) - min(r["started_at"] for r in results)
    return RebuildFigures(
        events=sum(int(r["events"]) for r in results),
        seconds=seconds,
        peak_memory_mib=sum(r["peak_kib"] for r in results) / 1024,
        documents=sum(int(r["documents"]) for r in results),
        workers=workers,
        cpu_seconds=sum(r["cpu_seconds"] for r in results),
    )


def measure_rebuild(events: int, workers: int = 1) -> RebuildFigures:
    with tempfile.TemporaryDirectory(prefix="streamfold-rebuild-") as directory:
        _child("fill", directory, str(events))
        return rebuild_in_children(Path(directory), workers)


def peak_resident_kib() -> int:
    """This process's own peak resident memory, in KiB."""
    try:
        with Path("/proc/self/status").open() as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the best there is


def _rebuild(directory: Path, partition: Partition) -> dict[str, float]:
    from projections.documents import DocumentKind

    with Streamfold.from_settings(settings_in(directory)) as app:
        started, cpu = time.time(), time.process_time()
        rebuild = app.rebuild(batch_size=10_000, partition=partition, poll_seconds=0.05)
        report = rebuild.run(list(DocumentKind))
        ended, cpu = time.time(), time.process_time() - cpu
    return {
        "events": report.events,
        "documents": report.documents_written,
        "started_at": started,
        "ended_at": ended,
        "cpu_seconds": cpu,
        "peak_kib": peak_resident_kib(),
    }


if __name__ == "__main__":
    step, where = sys.argv[1], Path(sys.argv[2])
    if step == "fill":
        result = {"head": float(fill_event_store(where, int(sys.argv[3])))}
    else:
        slice_of = Partition(int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else None
        result = _rebuild(where, slice_of or Partition())
    sys.stdout.write(json.dumps(result) + "\n")
