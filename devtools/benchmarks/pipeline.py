"""Stream records per second through the whole embedded pipeline, against the floor.

The pipeline takes the command line's path, as ``ingest`` of the payloads' files does:
Lambda-sized batches recorded one by one (a group's batches committed together) and
settled a group at a time (`infrastructure.services.grouping`), a full group in a second
process while the next one is recorded (`infrastructure.services.background_settle`),
everything searchable when the run ends. Like ``ingest``, the run knows how many records
it will record, so a render falling due just before its end is left to the end (a
``poll`` renders it). The stream handler's path, which settles every batch, is not what
this measures.

The floor is the decoding every consumer does: the Lambda payload's JSON, and its DynamoDB
JSON turned into Python values with boto3's deserializer, the reference decoder the
targets are stated against. streamfold decodes faster: the JSON with orjson (as ``ingest``
reads a file), the DynamoDB JSON with its own deserializer (which checks what boto3's does
not, and sizes each item). So the same decoding done as streamfold does it is timed too
(`own_decoding_records_per_second`) and the ratio to it printed beside; the faster of the
two is the decode part of the lower bound. The floor is timed under
the garbage collector's settings the pipeline itself runs with (`infrastructure.heap`): with
Python's defaults its passes added up to a third (in a process holding the pipeline's
modules), which is not irreducible. The floor with the
defaults is printed beside it (`default_collector_floor_records_per_second`), as the
figures before December 5 were measured. Each floor is the fastest of its passes timed
just before the run and just after it: on a shared machine whose speed moves, a floor
timed at a slow moment on one side would flatter the run's ratio. The run also times
tantivy alone on the same document writes (`index_share`): the part of the pipeline that
belongs to the embedded backend itself; and the lower bound of the whole job
(`lower_bound`): decoding, storing the events, indexing the final documents once.
"""

from __future__ import annotations

import gc
import json
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from boto3.dynamodb.types import TypeDeserializer

from devtools.benchmarks.figures import median_item, spread
from devtools.benchmarks.index_share import RecordingIndex, journaled_writes, replay_in_tantivy
from devtools.benchmarks.lower_bound import LowerBound, measure_lower_bound
from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.streams.attribute_values import deserialize_image
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.ingest import decode_event
from infrastructure.heap import frozen_while_running
from infrastructure.services.background_settle import ProcessSettler
from infrastructure.services.grouping import GroupCounts, SettleGroups
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from projections.documents import DocumentKind


@dataclass
class PipelineFigures:
    records: int
    batch_size: int
    pipeline_seconds: float
    floor_seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    # tantivy alone on the same writes: the kinds' schemas, and a minimal one (see index_share)
    tantivy_seconds: float = 0.0
    minimal_tantivy_seconds: float = 0.0
    lower_bound: LowerBound | None = None  # the least the whole job costs (`lower_bound`)
    groups: GroupCounts | None = None
    # Until the last batch was recorded: the settle at the end is the rest of the run.
    recording_seconds: float = 0.0
    documents_written: int = 0  # by both processes, every version of every document
    # The floor with the collector's default settings, as it was measured before.
    default_collector_floor_seconds: float = 0.0
    # CPU time: the command's process during the run, and the second process from its start
    # to its stop (its start-up included: the command pays it too).
    command_cpu_seconds: float = 0.0
    second_process_cpu_seconds: float = 0.0
    # The floor's decoding as streamfold does it: orjson and its own deserializer.
    own_decoding_seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.pipeline_seconds

    @property
    def floor_records_per_second(self) -> float:
        return self.records / self.floor_seconds

    @property
    def ratio(self) -> float:
        return self.pipeline_seconds / self.floor_seconds

    @property
    def shared_cpu_seconds(self) -> float:
        """Both processes' CPU time, halved: what the run would take if its work were
        shared perfectly between two cores. No scheduling of this work between the two
        processes can make a run shorter; only less work can."""
        return (self.command_cpu_seconds + self.second_process_cpu_seconds) / 2


def decode_floor(payloads: list[str]) -> float:
    """Seconds to decode every payload and deserialize every record's DynamoDB JSON."""
    deserializer = TypeDeserializer()
    started = time.perf_counter()
    for payload in payloads:
        for record in json.loads(payload)["Records"]:
            change = record["dynamodb"]
            for image in ("Keys", "NewImage", "OldImage"):
                if image in change:
                    {k: deserializer.deserialize(v) for k, v in change[image].items()}
    return time.perf_counter() - started


def decode_as_streamfold(files: list[bytes]) -> float:
    """Seconds for the floor's decoding as streamfold does it: each event file's JSON as
    ``ingest`` decodes it (`decode_event`, orjson) and the DynamoDB JSON with its
    deserializer (`deserialize_image`).

    The floor's loop written out again rather than shared: a loop taking the decoders as
    arguments would add calls per record to the floor's own timing."""
    started = time.perf_counter()
    for payload in files:
        for record in decode_event(payload)["Records"]:
            change = record["dynamodb"]
            for image in ("Keys", "NewImage", "OldImage"):
                if image in change:
                    deserialize_image(change[image], image)
    return time.perf_counter() - started


def _recording_app(settings: Settings, journal: Path) -> Streamfold:
    """The background settler's process of a recorded run: its writes go to ``journal``."""
    assert isinstance(settings.search, EmbeddedSearch)
    index = RecordingIndex(settings.search.directory, settings.index_prefix, journal)
    return Streamfold.from_settings(settings, index, settler=None)


class PipelineRun(NamedTuple):
    seconds: float
    stage_seconds: dict[str, float]
    app: Streamfold
    groups: GroupCounts
    recording_seconds: float  # until the last batch was recorded; the end is the rest
    cpu_seconds: float  # the command's process, over the same time as ``seconds``


def run_pipeline(
    payloads: list[bytes],
    directory: Path,
    index: RecordingIndex | None = None,
    second_process: bool = True,
    expected_records: int | None = None,
) -> PipelineRun:
    """Run the command line's path; with ``index``, every write is recorded, also those of
    the background settler's process (into ``index``'s journal, see `journaled_writes`).
    Without ``second_process`` every group settles here (the baseline of ADR 0029).
    ``expected_records``: the records of all the payloads, which ``ingest`` of the
    payloads' files knows up front (`SettleGroups`).

    Each payload is an event file's bytes, decoded as ``ingest`` decodes a file's.
    The app is returned open, its second process (if any) still running."""
    settings = Settings(
        event_store=SQLiteStore(directory / "events.db"),
        search=EmbeddedSearch(directory / "index"),
        tables={},
        index_prefix="bench",
    )
    if not second_process:
        app = Streamfold.from_settings(settings, index, settler=None)
    elif index is None:
        app = Streamfold.from_settings(settings)
    else:
        # As the composition root wires a command, the second process recording too.
        settler = ProcessSettler(partial(_recording_app, settings, directory / "settler.writes"))
        app = Streamfold.from_settings(settings, index, settler=settler)
    stages: Counter[str] = Counter()
    # As a command of the command line does once its composition root is built
    # (`infrastructure.heap`).
    with frozen_while_running():
        started, cpu_started = time.perf_counter(), time.process_time()
        # The command line's path (``ingest`` of many files, which knows their records;
        # ``demo``): every batch recorded, settled a group at a time, everything
        # searchable at the end.
        groups = SettleGroups(app.pipeline, expected_records=expected_records)
        for payload in payloads:
            outcome = app.ingestion.handle(decode_event(payload), groups)
            if outcome.failed:
                raise RuntimeError(f"the benchmark batch failed: {outcome.error}")
            stages.update(outcome.seconds)
        recorded = time.perf_counter() - started
        # What `handle(..., settle=True)` does after recording a command's last batch.
        stages.update(groups.settle().seconds)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        return PipelineRun(seconds, dict(stages), app, groups.counts, recorded, cpu)


def measure_pipeline(
    users: int, batch_size: int, seed: int = 3, second_process: bool = True
) -> PipelineFigures:
    """Run a generated CRM workload through a fresh embedded pipeline in a temporary dir."""
    workload = CrmWorkload(seed=seed, users=users)
    payloads = [json.dumps(event) for event in lambda_events(workload.records, batch_size)]
    records = len(workload.records)
    # A consumer holds its batch, not the whole workload's records: kept alive, their
    # millions of objects would make every full garbage collection of the run scan them.
    del workload
    gc.collect()
    files = [payload.encode() for payload in payloads]  # as `ingest` reads its files
    floor, default_collector_floor, own_decoding = _floors(payloads, files)
    with tempfile.TemporaryDirectory(prefix="streamfold-bench-") as directory:
        scratch = Path(directory)
        recorder = RecordingIndex(scratch / "index", "bench", scratch / "command.writes")
        # The second process is this process's only child: its CPU time is counted once it
        # has stopped (`app.close`).
        children = _children_cpu_seconds()
        run = run_pipeline(files, scratch, recorder, second_process, expected_records=records)
        app = run.app
        try:
            documents = {kind.value: app.search.count(kind) for kind in DocumentKind}
            events_table = app.event_store.recorder.events_table_name
        finally:
            app.close()
        second_process_cpu = _children_cpu_seconds() - children
        # The floors again, just after the run (its second process stopped): each is the
        # fastest of its passes on either side of the run.
        after, default_after, own_after = _floors(payloads, files)
        floor, default_collector_floor, own_decoding = (
            min(floor, after),
            min(default_collector_floor, default_after),
            min(own_decoding, own_after),
        )
        writes = journaled_writes([scratch / "command.writes", scratch / "settler.writes"])
        tantivy = replay_in_tantivy(writes, scratch / "tantivy", minimal=False)
        minimal = replay_in_tantivy(writes, scratch / "minimal", minimal=True)
        # The faster of the two decodings: no design pays more than the faster one for it.
        bound = measure_lower_bound(
            min(floor, own_decoding), scratch / "events.db", events_table, writes, scratch / "bound"
        )
    return PipelineFigures(
        records,
        batch_size,
        run.seconds,
        floor,
        run.stage_seconds,
        documents,
        tantivy,
        minimal,
        bound,
        run.groups,
        run.recording_seconds,
        sum(len(documents) for write in writes for documents in write.values()),
        default_collector_floor,
        run.cpu_seconds,
        second_process_cpu,
        own_decoding,
    )


# Timings of each floor on each side of a run.
FLOOR_PASSES = 3


def _floors(
    payloads: list[str], files: list[bytes], passes: int = FLOOR_PASSES
) -> tuple[float, float, float]:
    """The fastest of ``passes`` timings of the floor under the pipeline's collector
    settings (`run_pipeline`: the collector's passes off the objects that exist, the young
    generation collected less often), the fastest under Python's defaults, and the fastest
    of the same decoding as streamfold does it (of the payloads' ``files``), under the
    pipeline's settings."""
    with frozen_while_running():
        floor = min(decode_floor(payloads) for _ in range(passes))
        own = min(decode_as_streamfold(files) for _ in range(passes))
    return floor, min(decode_floor(payloads) for _ in range(passes)), own


def _children_cpu_seconds() -> float:
    """User and system CPU time of this process's children that have ended."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def describe(figures: PipelineFigures) -> dict[str, Any]:
    return {
        "records": figures.records,
        "batch_size": figures.batch_size,
        "pipeline_records_per_second": round(figures.records_per_second),
        "floor_records_per_second": round(figures.floor_records_per_second),
        "pipeline_to_floor_ratio": round(figures.ratio, 2),
        "default_collector_floor_records_per_second": round(
            figures.records / figures.default_collector_floor_seconds
        ),
        "pipeline_to_default_collector_floor_ratio": round(
            figures.pipeline_seconds / figures.default_collector_floor_seconds, 2
        ),
        "own_decoding_records_per_second": round(figures.records / figures.own_decoding_seconds),
        "pipeline_to_own_decoding_ratio": round(
            figures.pipeline_seconds / figures.own_decoding_seconds, 2
        ),
        "recording_to_floor_ratio": round(figures.recording_seconds / figures.floor_seconds, 2),
        "shared_cpu_to_floor_ratio": round(figures.shared_cpu_seconds / figures.floor_seconds, 2),
        "cpu_seconds": {
            "command": round(figures.command_cpu_seconds, 2),
            "second_process": round(figures.second_process_cpu_seconds, 2),
        },
        "documents_written": figures.documents_written,
        "tantivy_alone_records_per_second": round(figures.records / figures.tantivy_seconds),
        "tantivy_alone_to_floor_ratio": round(figures.tantivy_seconds / figures.floor_seconds, 2),
        "minimal_tantivy_records_per_second": round(
            figures.records / figures.minimal_tantivy_seconds
        ),
        "minimal_tantivy_to_floor_ratio": round(
            figures.minimal_tantivy_seconds / figures.floor_seconds, 2
        ),
        "stage_seconds": {k: round(v, 2) for k, v in figures.stage_seconds.items()},
        "documents": figures.documents,
        **_lower_bound(figures),
        "settles": None if figures.groups is None else vars(figures.groups),
    }


def _lower_bound(figures: PipelineFigures) -> dict[str, Any]:
    bound = figures.lower_bound
    if bound is None:
        return {}
    return {
        "lower_bound_records_per_second": round(figures.records / bound.seconds),
        "pipeline_to_lower_bound_ratio": round(figures.pipeline_seconds / bound.seconds, 2),
        "lower_bound_seconds": {
            "decode": round(bound.decode_seconds, 2),
            "store_events": round(bound.store_seconds, 2),
            "index_final_documents": round(bound.index_seconds, 2),
        },
        "lower_bound_counts": {"events": bound.events, "documents": bound.documents},
    }


# The figures of a run that are given as a median with their minimum and maximum over the
# runs (the rest are given as the median run's), and their decimals.
SPREAD_FIGURES: dict[str, int] = {
    "pipeline_records_per_second": 0,
    "floor_records_per_second": 0,
    "pipeline_to_floor_ratio": 2,
    "default_collector_floor_records_per_second": 0,
    "pipeline_to_default_collector_floor_ratio": 2,
    "own_decoding_records_per_second": 0,
    "pipeline_to_own_decoding_ratio": 2,
    "recording_to_floor_ratio": 2,
    "shared_cpu_to_floor_ratio": 2,
    "tantivy_alone_records_per_second": 0,
    "minimal_tantivy_records_per_second": 0,
    "lower_bound_records_per_second": 0,
    "pipeline_to_lower_bound_ratio": 2,
}


def summarize(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Runs described by `describe` as one: the median run's figures, with the figures of
    ``SPREAD_FIGURES`` replaced by their median, minimum and maximum over the runs."""
    summary = dict(median_item(runs, key=lambda run: run["pipeline_to_floor_ratio"]))
    for name, digits in SPREAD_FIGURES.items():
        if name in summary:
            summary[name] = spread([run[name] for run in runs], digits)
    summary["runs"] = len(runs)
    summary["each_run"] = [{name: run.get(name) for name in SPREAD_FIGURES} for run in runs]
    return summary
